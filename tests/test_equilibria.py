"""Equilibria and spectra against closed forms; Poincare-Hopf; convergence in N."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfgan as jf
from jaxfgan._equilibria import (
    classify,
    find_equilibria,
    is_nash,
    kind_from_eigenvalues,
)

PI = math.pi
SINE_PRODUCT = jf.UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))
NASH_EIGENVALUES = np.array(
    [-0.25 - 1j * math.sqrt(15) / 4, -0.25 + 1j * math.sqrt(15) / 4]
)


def _at(found, theta):
    matches = [
        p for p in found.points if float(jf.torus_distance(p.theta, theta)) < 1e-8
    ]
    assert len(matches) == 1, f"no single equilibrium at {theta}"
    return matches[0]


def test_sine_product_centres_and_saddles():
    # Jacobian of (-cos g sin d, sin g cos d): at (0,0) [[0,-1],[1,0]] -> +-i;
    # at (pi/2, pi/2) [[1,0],[0,-1]] -> +-1.
    found = find_equilibria(SINE_PRODUCT)
    assert len(found.points) == 8
    for theta in [(0, 0), (0, PI), (PI, 0), (PI, PI)]:
        point = _at(found, theta)
        assert point.kind == "center"
        np.testing.assert_allclose(point.eigenvalues, [-1j, 1j], atol=1e-12)
        assert point.index == 1 and point.nash
    for theta in [
        (PI / 2, PI / 2),
        (-PI / 2, PI / 2),
        (PI / 2, -PI / 2),
        (-PI / 2, -PI / 2),
    ]:
        point = _at(found, theta)
        assert point.kind == "saddle" and point.index == -1 and not point.nash
        np.testing.assert_allclose(point.eigenvalues, [-1, 1], atol=1e-12)
    assert found.index_sum == 0 and found.poincare_hopf_ok


def test_exponential_gan_equilibria_sum_to_zero():
    found = find_equilibria(jf.exponential_gan())
    assert found.index_sum == 0 and found.poincare_hopf_ok
    nash = [p for p in found.points if p.nash]
    assert {tuple(np.round(p.theta, 9)) for p in nash} == {
        (0.0, 0.0),
        (0.0, -round(PI, 9)),
        (-round(PI, 9), 0.0),
        (-round(PI, 9), -round(PI, 9)),
    }


def test_nash_with_flat_generator_block():
    # With sin(theta_d) = 0 the discriminator is constant 1/2 and F does not depend
    # on theta_g: the generator's Hessian block is exactly zero, yet (0, 0) is Nash.
    F = jf.exponential_gan()
    hessian = np.asarray(jax.hessian(lambda z: jf.value(F, z))(jnp.zeros(2)))
    assert hessian[0, 0] == pytest.approx(0.0, abs=1e-14)
    assert is_nash(F, [0.0, 0.0])
    # F = cos g + cos d: theta_g = pi minimises cos g; theta_d = 0 maximises cos d.
    G = jf.UserObjective(lambda g, d: jnp.cos(g[0]) + jnp.cos(d[0]))
    assert not is_nash(G, [PI, PI])  # theta_d = pi minimises cos
    assert is_nash(G, [PI, 0.0])


def test_three_angles_separable():
    # F = cos g1 + cos g2 + cos d: J = diag(cos g1, cos g2, -cos d) at {0, pi}^3;
    # index = sign(det J); the 8 signs sum to 0; Nash only at (pi, pi, 0).
    F = jf.UserObjective(
        lambda g, d: jnp.cos(g[0]) + jnp.cos(g[1]) + jnp.cos(d[0]), 2, 1
    )
    found = find_equilibria(F, starts=6)
    assert len(found.points) == 8 and found.index_sum == 0
    nash = [p for p in found.points if p.nash]
    assert len(nash) == 1
    np.testing.assert_allclose(np.abs(nash[0].theta), [PI, PI, 0.0], atol=1e-9)
    assert nash[0].kind == "node attractor"


def test_order_one_nash_points_are_centres():
    coeffs = jf.fourier_coefficients(jf.exponential_gan(), 128)
    found = find_equilibria(coeffs.truncate(1))
    near_nash = [p for p in found.points if p.nash]
    assert len(near_nash) == 4
    assert all(p.kind == "center" for p in near_nash)
    # order 1 is a sum of products of first harmonics: trace J = 0 at these points
    assert all(abs(p.eigenvalues.real).max() < 1e-12 for p in near_nash)
    assert found.poincare_hopf_ok


def test_nash_eigenvalues_converge_with_order():
    coeffs = jf.fourier_coefficients(jf.exponential_gan(), 128)
    errors = []
    for order in (4, 8, 16, 32):
        series = coeffs.truncate(order)
        root = _nearest_equilibrium(series, np.zeros(2))
        errors.append(
            np.max(np.abs(classify(series, root).eigenvalues - NASH_EIGENVALUES))
        )
    assert errors[2] < 1e-3  # order 16, the bound
    assert all(b < a for a, b in zip(errors, errors[1:], strict=False))


def _nearest_equilibrium(objective, guess):
    found = find_equilibria(objective, starts=8)
    return min(
        (p.theta for p in found.points),
        key=lambda t: float(jf.torus_distance(t, guess)),
    )


@pytest.mark.parametrize(
    "eigenvalues, kind",
    [
        ([-1 + 2j, -1 - 2j], "spiral attractor"),
        ([1 + 2j, 1 - 2j], "spiral repeller"),
        ([2j, -2j], "center"),
        ([-1, -2], "node attractor"),
        ([1, 2], "node repeller"),
        ([-1, 2], "saddle"),
        ([0, -1], "degenerate"),
        ([1e-9 + 1j, 1e-9 - 1j], "center"),
        ([1e-6 + 1j, 1e-6 - 1j], "spiral repeller"),
        ([0.5j, -0.5j, -1.0], "degenerate"),
    ],
)
def test_kind_from_eigenvalues(eigenvalues, kind):
    assert kind_from_eigenvalues(eigenvalues) == kind


def test_degenerate_index_from_winding():
    # F = sin(g)^3/3 - sin(g) sin(d)^2 ~ g^3/3 - g d^2 near 0, so the flow
    # v = (-dF/dg, dF/dd) ~ (-(g^2 - d^2), -2 g d), i.e. v_g + i v_d = -(g + i d)^2:
    # J = 0 there, and the winding number of -z^2 around 0 is 2.
    F = jf.UserObjective(
        lambda g, d: jnp.sin(g[0]) ** 3 / 3 - jnp.sin(g[0]) * jnp.sin(d[0]) ** 2
    )
    point = classify(F, [0.0, 0.0])
    assert point.kind == "degenerate"
    assert point.index == 2


def test_bad_starts():
    with pytest.raises(jf.InputError, match="starts"):
        find_equilibria(SINE_PRODUCT, starts=0)


def test_line_of_equilibria_is_not_called_clean():
    # F = sin(g): v = (-cos g, 0) vanishes on the whole lines g = +-pi/2, J is
    # singular everywhere; the pseudo-inverse Newton still lands on the lines.
    found = find_equilibria(jf.UserObjective(lambda g, d: jnp.sin(g[0])), starts=8)
    assert len(found.points) == 16  # 2 lines x 8 starting values of theta_d
    assert all(p.kind == "degenerate" and p.index == 0 for p in found.points)
    np.testing.assert_allclose(np.abs([p.theta[0] for p in found.points]), PI / 2)
    assert not found.poincare_hopf_ok
    assert "continuum" in found.poincare_hopf_message()


def test_scale_of_f_does_not_change_the_equilibria():
    # Newton's stopping rule and the residual test are relative to |v|
    big = jf.UserObjective(lambda g, d: 1e8 * jnp.sin(g[0]) * jnp.sin(d[0]))
    found = find_equilibria(big, starts=8)
    assert found.count("center") == 4 and found.count("saddle") == 4


def test_index_of_invertible_non_hyperbolic_points_in_four_angles():
    # F = sin g0 sin d0 + 0.3 cos g1 sin d1 is a sum of two 2-angle games: at each
    # of the 64 equilibria J is block diagonal, each block a centre (det > 0) or a
    # saddle (det < 0), so the index is the product of the two signs. 16 points
    # are centre x centre (+1), 16 saddle x saddle (+1), and 32 mix a centre with a
    # saddle: kind "degenerate" (not hyperbolic), yet det J != 0 and the index is
    # -1. The sum is 16 + 16 - 32 = 0.
    F = jf.UserObjective(
        lambda g, d: (
            jnp.sin(g[0]) * jnp.sin(d[0]) + 0.3 * jnp.cos(g[1]) * jnp.sin(d[1])
        ),
        2,
        2,
    )
    found = find_equilibria(F, starts=6)
    assert len(found.points) == 64
    assert found.index_sum == 0 and found.poincare_hopf_ok
    assert all(p.index == -1 for p in found.points if p.kind == "degenerate")


@pytest.mark.parametrize("theta", [[0.0, 0.0, 0.0], [np.nan, 0.0]])
def test_classify_bad_theta(theta):
    with pytest.raises(jf.InputError, match="classify"):
        classify(SINE_PRODUCT, theta)


def test_kind_needs_eigenvalues():
    with pytest.raises(jf.InputError):
        kind_from_eigenvalues([])
