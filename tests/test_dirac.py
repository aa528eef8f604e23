"""The Dirac GAN and the flow regularisers against closed forms."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import jaxfgan as jf

DIRAC = jf.dirac_gan()
# F = theta_g theta_d on R^2: v = (-theta_d, theta_g), J = [[0, -1], [1, 0]].
BILINEAR = jf.UserObjective(lambda g, d: g[0] * d[0], box=(-1.0, 1.0))


def test_dirac_objective_values():
    # F(theta, psi) = f(psi theta) + f(0), f(t) = -log(1 + e^-t); WGAN f(t) = t.
    theta, psi = 0.7, -1.3
    F = DIRAC(jnp.array([theta]), jnp.array([psi]))
    expected = -math.log1p(math.exp(-psi * theta)) - math.log(2.0)
    assert float(F) == pytest.approx(expected, rel=1e-14)
    wgan = jf.dirac_gan("wgan")
    assert float(wgan(jnp.array([theta]), jnp.array([psi]))) == pytest.approx(
        psi * theta, rel=1e-14
    )


@pytest.mark.parametrize("loss, slope", [("standard", 0.5), ("wgan", 1.0)])
def test_dirac_only_equilibrium_is_a_centre(loss, slope):
    # v = (-f'(psi theta) psi, f'(psi theta) theta); f' > 0, so v = 0 only at the
    # origin, where J = [[0, -f'(0)], [f'(0), 0]] and the eigenvalues are
    # +- i f'(0): f'(0) = 1/2 for the standard loss (sigmoid(0)), 1 for the WGAN.
    found = jf.find_equilibria(jf.dirac_gan(loss))
    assert len(found.points) == 1 and not found.torus
    point = found.points[0]
    np.testing.assert_allclose(point.theta, [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(point.eigenvalues, [-1j * slope, 1j * slope], atol=1e-12)
    assert point.kind == "center" and point.nash
    assert found.poincare_hopf_ok is None  # no Euler characteristic to meet on R^2


@pytest.mark.parametrize("name", ["r1", "r2"])
def test_dirac_gradient_penalty_closed_form(name):
    # The logit psi x has d/dx = psi at every x, so R1 = R2 = gamma/2 psi^2 and the
    # discriminator's velocity gains -gamma psi: J = [[0, -a], [a, -gamma]],
    # a = f'(0) = 1/2, eigenvalues -gamma/2 +- sqrt(gamma^2/4 - a^2).
    gamma, a = 0.3, 0.5
    root = np.sqrt(complex(gamma**2 / 4 - a**2))
    expected = np.array([-gamma / 2 - root, -gamma / 2 + root])
    point = jf.classify(jf.regularize(DIRAC, name, gamma), [0.0, 0.0])
    np.testing.assert_allclose(point.eigenvalues, expected, atol=1e-12)
    np.testing.assert_allclose(
        point.eigenvalues, [-0.15 - 0.4769696j, -0.15 + 0.4769696j], atol=1e-7
    )
    assert point.kind == "spiral attractor"


@pytest.mark.parametrize("gamma", [0.1, 0.7])
def test_consensus_bilinear_closed_form(gamma):
    # |v|^2 / 2 = (theta_g^2 + theta_d^2) / 2 has gradient z, so the flow is
    # v - gamma z, J = [[-gamma, -1], [1, -gamma]], eigenvalues -gamma +- i.
    point = jf.classify(jf.regularize(BILINEAR, "consensus", gamma), [0.0, 0.0])
    np.testing.assert_allclose(
        point.eigenvalues, [-gamma - 1j, -gamma + 1j], atol=1e-12
    )


def test_sga_bilinear_closed_form():
    # A = (J - J^T)/2 = J for this J, A^T v = (theta_g, theta_d) = z, so the flow is
    # v - lambda z with eigenvalues -lambda +- i (Balduzzi et al. 2018).
    point = jf.classify(jf.regularize(BILINEAR, "sga", 0.4), [0.0, 0.0])
    np.testing.assert_allclose(point.eigenvalues, [-0.4 - 1j, -0.4 + 1j], atol=1e-12)


def test_ttur_bilinear_closed_form():
    # (v_g, r v_d) = (-theta_d, r theta_g): J = [[0, -1], [r, 0]], +- i sqrt(r).
    point = jf.classify(jf.regularize(BILINEAR, "ttur", 4.0), [0.0, 0.0])
    np.testing.assert_allclose(point.eigenvalues, [-2j, 2j], atol=1e-12)


def test_r1_exponential_gan_closed_form():
    # The logit r_d sin(theta_d) (x - c) has slope s = r_d sin theta_d, so
    # R1 = gamma/2 s^2 and the discriminator's velocity gains -gamma r_d^2 sin cos.
    # At the Nash point (0, 0) with the defaults the flow's Jacobian is
    # [[0, -1], [1, -1/2]] (README), so now [[0, -1], [1, -1/2 - gamma r_d^2]].
    gamma = 0.25
    jac = np.array([[0.0, -1.0], [1.0, -0.5 - gamma]])
    expected = np.sort_complex(np.linalg.eigvals(jac))
    point = jf.classify(jf.regularize(jf.exponential_gan(), "r1", gamma), [0.0, 0.0])
    np.testing.assert_allclose(point.eigenvalues, expected, atol=1e-12)
    assert point.nash  # the penalty changes the flow, not the game


@pytest.mark.parametrize(
    "objective, name, strength, expect",
    [
        (BILINEAR, "r1", 0.3, "only the exponential and Dirac GANs"),
        (DIRAC, "ttur", 0.0, "ratio > 0"),
        (DIRAC, "consensus", -1.0, "gamma >= 0"),
        (DIRAC, "sga", math.nan, "finite"),
        (DIRAC, "lookahead", 1.0, "unknown regularizer"),
    ],
)
def test_bad_regularizers(objective, name, strength, expect):
    with pytest.raises(jf.InputError, match=expect):
        jf.regularize(objective, name, strength)


def test_bad_dirac_settings():
    with pytest.raises(jf.InputError, match="loss must be one of"):
        jf.dirac_gan("hinge")
    with pytest.raises(jf.InputError, match="lo < hi"):
        jf.dirac_gan(box=(1.0, -1.0))


@pytest.mark.parametrize("h", [0.1, 0.4])
def test_modified_flows_dirac_closed_form(h):
    # Backward error analysis (Rosca et al. 2021) on the Dirac GAN, J = [[0, -a],
    # [a, 0]], a = 1/2, J^2 = -a^2 I. Simultaneous: J - (h/2) J^2 = J + (h a^2/2) I,
    # eigenvalues h a^2/2 +- i a (outward drift). Alternating adds the
    # discriminator's h (dv_d/dtheta) v_g = -h a^2 psi: [[h a^2/2, -a], [a,
    # -h a^2/2]], trace 0, eigenvalues +- i a sqrt(1 - h^2 a^2 / 4) (no drift).
    a = 0.5
    simultaneous = jf.classify(jf.modified_flow(DIRAC, "simgd", h), [0.0, 0.0])
    np.testing.assert_allclose(
        simultaneous.eigenvalues, [h * a**2 / 2 - 1j * a, h * a**2 / 2 + 1j * a]
    )
    alternating = jf.classify(jf.modified_flow(DIRAC, "altgd", h), [0.0, 0.0])
    omega = a * math.sqrt(1 - h**2 * a**2 / 4)
    np.testing.assert_allclose(alternating.eigenvalues, [-1j * omega, 1j * omega])
    assert alternating.kind == "center"
    # Against the discrete maps: the flow over time h must match one step to
    # second order. simgd's step grows |z| by sqrt(1 + h^2 a^2) = 1 + h^2 a^2/2 +
    # O(h^4), the modified flow by exp(h^2 a^2/2); altgd turns by arccos(1 -
    # h^2 a^2/2) = h a (1 + h^2 a^2/24 + ...), the modified flow by h omega.
    rho = jf.spectral_radius(DIRAC, jf.method("simgd", h), [0.0, 0.0])
    assert abs(math.log(rho) - h * simultaneous.eigenvalues[0].real) < h**4
    turn = math.acos(1 - h**2 * a**2 / 2)
    assert abs(turn - h * omega) < h**3 * a**3 / 4
