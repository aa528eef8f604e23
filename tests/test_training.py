"""Discrete training: update-map spectra against closed forms, and runs that agree
with the verdicts the spectra predict."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import jaxfgan as jf
from jaxfgan._training import nearest_distance

DIRAC = jf.dirac_gan()
EXPONENTIAL = jf.exponential_gan()
ORIGIN = np.zeros(2)
A = 0.5  # f'(0) in the Dirac GAN: its flow's Jacobian at 0 is [[0, -A], [A, 0]]
# The exponential GAN's flow eigenvalues at its Nash point (0, 0), from the README.
NASH = -0.25 + 1j * math.sqrt(15) / 4


@pytest.mark.parametrize("h", [0.05, 0.5, 1.5])
def test_dirac_alternating_map_on_unit_circle(h):
    # theta+ = theta - h A psi, then psi+ = psi + h A theta+ = psi + h A theta -
    # h^2 A^2 psi: M = [[1, -hA], [hA, 1 - h^2 A^2]], det M = 1 and trace
    # 2 - h^2 A^2 lies in (-2, 2) for hA < 2, so both eigenvalues lie on the unit
    # circle: the iterates circle, neither converging nor diverging.
    jac = np.asarray(jf.update_jacobian(DIRAC, jf.method("altgd", h), ORIGIN))
    np.testing.assert_allclose(
        jac, [[1, -h * A], [h * A, 1 - (h * A) ** 2]], atol=1e-15
    )
    assert np.linalg.det(jac) == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(jac)), 1.0, atol=1e-12)
    assert jf.verdict(jf.spectral_radius(DIRAC, jf.method("altgd", h), ORIGIN)) == (
        "oscillates"
    )


@pytest.mark.parametrize("h", [0.1, 1.0])
def test_dirac_simultaneous_radius(h):
    # M = I + hJ = [[1, -hA], [hA, 1]], eigenvalues 1 +- i hA: rho = sqrt(1 + h^2/4).
    radius = jf.spectral_radius(DIRAC, jf.method("simgd", h), ORIGIN)
    assert radius == pytest.approx(math.sqrt(1 + h**2 / 4), rel=1e-14)
    assert jf.verdict(radius) == "diverges"
    assert jf.max_stable_lr(DIRAC, jf.method("simgd", h), ORIGIN) is None


def test_alternating_steps_per_player():
    # Two discriminator steps after one generator step on the Dirac GAN's
    # linearisation: theta+ = theta - hA psi, then psi twice: psi+ = psi + 2hA theta+.
    # M = [[1, -hA], [2hA, 1 - 2 h^2 A^2]] (with lr_d = h), det 1 again.
    h = 0.2
    jac = jf.update_jacobian(DIRAC, jf.method("altgd", h, d_steps=2), ORIGIN)
    expected = [[1, -h * A], [2 * h * A, 1 - 2 * (h * A) ** 2]]
    np.testing.assert_allclose(np.asarray(jac), expected, atol=1e-15)


def test_max_stable_lr_closed_forms():
    # simgd at a flow eigenvalue lambda = -1/4 + i sqrt(15)/4: |1 + h lambda|^2 =
    # 1 - h/2 + h^2 < 1 iff h < 1/2. extragradient on the Dirac GAN: the map
    # I + hJ + h^2 J^2 has eigenvalues 1 +- ihA - h^2 A^2, |.|^2 = 1 - h^2/4 +
    # h^4/16 < 1 iff h < 2. The scan stops where rho = 1 - 1e-9, within 1e-8 here.
    simgd = jf.max_stable_lr(EXPONENTIAL, jf.method("simgd", 0.1), ORIGIN)
    assert simgd == pytest.approx(0.5, abs=1e-7)
    extragradient = jf.max_stable_lr(DIRAC, jf.method("extragradient", 0.1), ORIGIN)
    assert extragradient == pytest.approx(2.0, abs=1e-7)


def test_r1_makes_simultaneous_steps_stable():
    # With R1 (gamma) the Dirac GAN's flow has eigenvalues lambda with
    # Re lambda = -gamma/2 and |lambda|^2 = det J = A^2, so |1 + h lambda|^2 =
    # 1 - gamma h + A^2 h^2 < 1 exactly when h < gamma / A^2 = 1.2 for gamma = 0.3.
    regularized = jf.regularize(DIRAC, "r1", 0.3)
    top = jf.max_stable_lr(regularized, jf.method("simgd", 0.1), ORIGIN)
    assert top == pytest.approx(0.3 / A**2, abs=1e-7)


@pytest.mark.parametrize("beta", [-0.5, 0.3])
def test_heavy_ball_radius(beta):
    # z+ = z + hJz + beta (z - z-): each flow eigenvalue lambda gives the roots of
    # mu^2 - (1 + h lambda + beta) mu + beta = 0.
    h = 0.2
    roots = [
        np.roots([1, -(1 + h * lam + beta), beta]) for lam in (NASH, NASH.conjugate())
    ]
    expected = np.max(np.abs(roots))
    method = jf.method("momentum", h, momentum=beta)
    assert jf.spectral_radius(EXPONENTIAL, method, ORIGIN) == pytest.approx(
        expected, rel=1e-12
    )


def test_optimistic_radius():
    # z+ = z + h (2 J z - J z-): mu^2 - (1 + 2 h lambda) mu + h lambda = 0 for each
    # flow eigenvalue lambda = +- i A of the Dirac GAN.
    h = 0.4
    roots = [np.roots([1, -(1 + 2 * h * lam), h * lam]) for lam in (0.5j, -0.5j)]
    radius = jf.spectral_radius(DIRAC, jf.method("optimistic", h), ORIGIN)
    assert radius == pytest.approx(np.max(np.abs(roots)), rel=1e-12)


def test_separate_learning_rates():
    # simgd with h_g, h_d on the Dirac GAN: M = [[1, -h_g A], [h_d A, 1]],
    # eigenvalues 1 +- i A sqrt(h_g h_d).
    method = jf.method("simgd", 0.4, lr_d=0.1)
    radius = jf.spectral_radius(DIRAC, method, ORIGIN)
    assert radius == pytest.approx(math.sqrt(1 + 0.25 * 0.04), rel=1e-14)


# Each (objective, Nash point, method) is linearised, then run from a start near
# the point. rho < 1: the run ends much closer; rho = 1: it stays at the same
# distance; rho > 1: it leaves. Adam's linearisation has the gain h / eps (see
# update_jacobian), so its start is far inside the eps scale.
CASES = [
    (DIRAC, "simgd", 0.3, {}, "diverges"),
    (DIRAC, "altgd", 0.3, {}, "oscillates"),
    (DIRAC, "extragradient", 0.5, {}, "converges"),
    (DIRAC, "optimistic", 0.3, {}, "converges"),
    (DIRAC, "momentum", 0.3, {"momentum": -0.3}, "diverges"),
    (EXPONENTIAL, "simgd", 0.3, {}, "converges"),
    (EXPONENTIAL, "simgd", 0.8, {}, "diverges"),
    (EXPONENTIAL, "altgd", 0.5, {"lr_d": 0.25, "g_steps": 2}, "converges"),
    (EXPONENTIAL, "momentum", 0.2, {"momentum": -0.5}, "converges"),
    (EXPONENTIAL, "momentum", 0.2, {"momentum": 0.5}, "diverges"),
    (EXPONENTIAL, "adam", 0.01, {}, "diverges"),
    (EXPONENTIAL, "extragradient", 0.5, {}, "converges"),
    (EXPONENTIAL, "optimistic", 0.3, {}, "converges"),
]


@pytest.mark.parametrize(
    "objective, name, h, options, expected",
    CASES,
    ids=[f"{'dirac' if o is DIRAC else 'exp'}-{n}-{h}-{v}" for o, n, h, _, v in CASES],
)
def test_runs_agree_with_verdicts(objective, name, h, options, expected):
    method = jf.method(name, h, **options)
    assert jf.verdict(jf.spectral_radius(objective, method, ORIGIN)) == expected
    offset = 1e-12 if name == "adam" else 1e-4
    start = ORIGIN + offset * np.array([0.6, 0.8])
    run = jf.train(objective, method, start[None], 3000)
    gap = nearest_distance(objective, run.final, [ORIGIN])[0]
    gap = float(np.nan_to_num(gap, nan=1.0))
    if expected == "converges":
        assert gap < 1e-3 * offset
    elif expected == "diverges":
        assert gap > 10 * offset or not run.finite[0]
    else:
        assert 0.1 * offset < gap < 10 * offset


def test_simultaneous_run_matches_closed_form():
    # On F = theta_g theta_d, simgd multiplies z by [[1, -h], [h, 1]]: |z| grows
    # by sqrt(1 + h^2) per step, exactly.
    F = jf.UserObjective(lambda g, d: g[0] * d[0], box=(-1.0, 1.0))
    h, steps = 0.05, 40
    run = jf.train(F, jf.method("simgd", h), jnp.array([[0.3, -0.4]]), steps)
    assert float(np.linalg.norm(run.final[0])) == pytest.approx(
        0.5 * (1 + h**2) ** (steps / 2), rel=1e-13
    )
    assert run.path.shape == (1, steps + 1, 2) and run.steps[-1] == steps


def test_train_does_not_retrace_for_new_numbers():
    traces = []

    def bilinear(g, d):
        traces.append(1)  # runs only while JAX traces
        return g[0] * d[0]

    F = jf.UserObjective(bilinear, box=(-1.0, 1.0))
    y0 = jnp.array([[0.3, -0.4], [0.1, 0.2]])
    jf.train(F, jf.method("momentum", 0.1, momentum=0.5), y0, 20)
    first = len(traces)
    jf.train(F, jf.method("momentum", 0.2, momentum=-0.4), 2 * y0, 20)
    assert first > 0 and len(traces) == first


@pytest.mark.parametrize(
    "name, options, expect",
    [
        ("sgd", {}, "unknown method"),
        ("simgd", {"lr_d": -1.0}, "lr_d must be finite and > 0"),
        ("momentum", {"momentum": 1.0}, "momentum must lie in"),
        ("simgd", {"g_steps": 2}, "altgd only"),
        ("altgd", {"d_steps": 0}, "d_steps >= 1"),
    ],
)
def test_bad_methods(name, options, expect):
    with pytest.raises(jf.InputError, match=expect):
        jf.method(name, 0.1, **options)
