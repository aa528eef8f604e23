"""The exponential torus GAN against its closed forms and against quadrature."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import jaxfgan as jf
from jaxfgan._equilibria import find_equilibria

DATA = {
    "aircondit": ("aircondit_hours.csv", "hours"),
    "coal": ("coal_disaster_intervals_days.csv", "days"),
}


def _read_column(name):
    """The data set read with numpy alone (independent of jaxfgan's reader)."""
    return np.loadtxt(jf.dataset_path(name), delimiter=",", skiprows=1)


def _objective_by_quad(theta_g, theta_d, rate, kappa=2.0, r=1.0, c=1.0):
    """F from its definition with scipy's adaptive quadrature (no Gauss-Laguerre)."""
    s = r * math.sin(theta_d)
    lam = math.exp(kappa * math.sin(theta_g))

    def log_sig(u):
        return -np.logaddexp(0.0, -u)

    real = integrate.quad(
        lambda x: rate * math.exp(-rate * x) * log_sig(s * (x - c)),
        0,
        np.inf,
        epsabs=1e-13,
        epsrel=1e-13,
    )[0]
    fake = integrate.quad(
        lambda z: math.exp(-z) * log_sig(-s * (z / lam - c)),
        0,
        np.inf,
        epsabs=1e-13,
        epsrel=1e-13,
    )[0]
    return real + fake


@pytest.mark.parametrize("theta", [(0.3, 1.1), (-2.0, 0.4), (1.2, -2.9), (0.0, 0.0)])
@pytest.mark.parametrize("rate", [1.0, 2.5])
def test_objective_matches_adaptive_quadrature(theta, rate):
    F = jf.exponential_gan(rate=rate)
    got = float(F(jnp.array([theta[0]]), jnp.array([theta[1]])))
    # 64 Gauss-Laguerre nodes against adaptive quadrature at 1e-13: agreement to
    # 1e-9 leaves room for quad's own error on the long tails.
    assert got == pytest.approx(_objective_by_quad(*theta, rate), abs=1e-9)


def _closed_form_jacobian(F, theta_g, m_target):
    """[[0, -a], [a, -b]] from the issue's closed form (derivation in the model's
    docstring: expand D to second order in s = r sin theta_d around s = 0)."""
    kappa, r, c = float(F.gen_scale), float(F.disc_scale), float(F.disc_center)
    lam = math.exp(kappa * math.sin(theta_g))
    a = 0.5 * kappa * r * math.cos(theta_g) / lam
    m_fake = 2 / lam**2 - 2 * c / lam + c**2
    b = 0.25 * r**2 * (m_target + m_fake)
    return np.array([[0.0, -a], [a, -b]])


def test_default_nash_eigenvalues_closed_form():
    found = find_equilibria(jf.exponential_gan())
    nash = [p for p in found.points if p.nash]
    assert len(nash) == 4
    expected = np.array(
        [-0.25 - 1j * math.sqrt(15) / 4, -0.25 + 1j * math.sqrt(15) / 4]
    )
    for point in nash:
        # the equilibria are found to Newton's 1e-12, so spectra agree to ~1e-10
        np.testing.assert_allclose(point.eigenvalues, expected, atol=1e-10)
        assert point.kind == "spiral attractor"


@pytest.mark.parametrize(
    "options",
    [dict(rate=1.7), dict(rate=0.6, gen_scale=1.5, disc_scale=0.8, disc_center=0.5)],
)
def test_nash_points_and_jacobian_closed_form(options):
    F = jf.exponential_gan(**options)
    rate, c = options["rate"], options.get("disc_center", 1.0)
    # Exp(rate): E[x] = 1/rate, E[(x - c)^2] = 2/rate^2 - 2c/rate + c^2
    m_target = 2 / rate**2 - 2 * c / rate + c**2
    found = find_equilibria(F)
    nash = [p for p in found.points if p.nash]
    assert len(nash) == 4
    for point in nash:
        theta_g, theta_d = point.theta
        assert math.sin(theta_d) == pytest.approx(0.0, abs=1e-10)
        assert 1 / math.exp(F.gen_scale * math.sin(theta_g)) == pytest.approx(1 / rate)
    theta_g = next(p.theta[0] for p in nash if math.cos(p.theta[0]) > 0)
    jac = np.asarray(jf.flow_jacobian(F, jnp.array([theta_g, 0.0])))
    np.testing.assert_allclose(
        jac, _closed_form_jacobian(F, theta_g, m_target), atol=1e-10
    )


@pytest.mark.parametrize("name", ["aircondit", "coal"])
def test_learned_rate_is_the_maximum_likelihood_rate(name):
    samples = _read_column(name)
    F = jf.exponential_gan(data=jf.read_waiting_times(jf.dataset_path(name)))
    assert float(F.unit) == pytest.approx(np.median(samples))
    found = find_equilibria(F)
    nash = [p for p in found.points if p.nash]
    assert nash
    for point in nash:
        assert float(F.learned_rate(point.theta[0])) == pytest.approx(
            1 / samples.mean(), rel=1e-10
        )
    if name == "aircondit":
        assert 1 / samples.mean() == pytest.approx(0.009252, abs=5e-7)


def test_data_jacobian_uses_sample_moments():
    samples = _read_column("aircondit")
    F = jf.exponential_gan(data=samples)
    scaled = samples / np.median(samples)
    m_target = np.mean((scaled - 1.0) ** 2)
    theta_g = math.asin(-math.log(1 / scaled.mean()) / 2.0)
    jac = np.asarray(jf.flow_jacobian(F, jnp.array([theta_g, 0.0])))
    np.testing.assert_allclose(
        jac, _closed_form_jacobian(F, theta_g, m_target), atol=1e-10
    )


def test_no_nash_equilibrium_when_rate_out_of_range():
    samples = _read_column("aircondit")
    F = jf.exponential_gan(data=samples, unit=1.0)  # mean 108 >> e^2
    assert "no Nash equilibrium learns the target" in F.nash_problem()
    assert "--unit" in F.nash_problem()
    # Nash points can remain where the generator is stuck at the end of its range
    # (theta_g = -pi/2, the largest mean e^2 << 108), never where it matches the data.
    for point in find_equilibria(F).points:
        if point.nash:
            assert point.theta[0] == pytest.approx(-math.pi / 2)
            assert abs(math.sin(point.theta[1])) > 1e-3
    assert jf.exponential_gan(data=samples).nash_problem() is None


@pytest.mark.parametrize(
    "options, word",
    [
        (dict(rate=0.0), "rate"),
        (dict(rate=-1.0), "rate"),
        (dict(unit=0.0), "unit"),
        (dict(gen_scale=-2.0), "gen_scale"),
        (dict(disc_center=math.inf), "disc_center"),
        (dict(data=[1.0, -2.0]), "data"),
        (dict(data=[]), "data"),
        (dict(data=[0.0, 0.0, 5.0]), "median"),
    ],
)
def test_bad_parameters_raise(options, word):
    with pytest.raises(jf.InputError, match=word):
        jf.exponential_gan(**options)


@pytest.mark.parametrize("theta", [(0.3, 1.1), (-2.0, 0.4), (2.6, -2.9)])
def test_closed_form_flow_matches_quadrature_derivatives(theta):
    F = jf.exponential_gan(rate=1.7)
    step = 1e-4

    def central(index):
        plus, minus = list(theta), list(theta)
        plus[index] += step
        minus[index] -= step
        quad = _objective_by_quad(*plus, 1.7) - _objective_by_quad(*minus, 1.7)
        return quad / (2 * step)

    expected = np.array([-central(0), central(1)])
    got = np.asarray(jf.vector_field(F, jnp.asarray(theta)))
    np.testing.assert_allclose(got, expected, atol=1e-7)


@pytest.mark.parametrize("name", ["aircondit", "coal"])
def test_closed_form_flow_matches_autodiff_on_data(name):
    F = jf.exponential_gan(data=_read_column(name), gen_scale=3.0, disc_center=0.5)
    z = jnp.asarray(np.random.default_rng(5).uniform(-9.0, 9.0, size=(100, 2)))
    autodiff = jax.vmap(lambda w: jf.Objective.flow(F, w))(z)
    got = jax.vmap(lambda w: jf.vector_field(F, w))(z)
    np.testing.assert_allclose(got, autodiff, rtol=1e-13, atol=1e-15)


def test_dropped_laguerre_nodes_are_below_round_off():
    nodes, weights = np.polynomial.laguerre.laggauss(64)
    F = jf.exponential_gan(rate=1.0, disc_center=0.3)
    for theta in [(0.4, 1.3), (-1.5, -0.7), (2.9, 2.2)]:
        s, lam = math.sin(theta[1]), math.exp(2.0 * math.sin(theta[0]))
        full = np.dot(weights, -np.logaddexp(0.0, -s * (nodes - 0.3))) + np.dot(
            weights, -np.logaddexp(0.0, s * (nodes / lam - 0.3))
        )
        got = float(F(jnp.array([theta[0]]), jnp.array([theta[1]])))
        assert got == pytest.approx(full, rel=1e-15, abs=1e-16)
