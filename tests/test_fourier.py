"""Fourier coefficients and truncated series against closed forms and numpy's FFT."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special

import jaxfgan as jf


def _bessel_objective(a, b):
    return jf.UserObjective(lambda g, d: jnp.exp(a * jnp.cos(g[0]) + b * jnp.sin(d[0])))


def test_fourier_coeffs_bessel():
    # exp(a cos x) = sum_k I_k(a) e^{ikx}; exp(b sin y) = sum_l (-i)^l I_l(b) e^{ily}
    # (generating function of J_n with J_n(-ib) = (-i)^n I_n(b)).
    a, b, order = 1.3, 0.7, 6
    coeffs = jf.fourier_coefficients(_bessel_objective(a, b), grid=64)
    got = np.asarray(coeffs.modes_tensor(order))
    k = np.arange(-order, order + 1)
    expected = np.outer(special.iv(k, a), (-1j) ** k * special.iv(k, b))
    np.testing.assert_allclose(got, expected, atol=1e-14)


def test_coefficients_match_numpy_fft():
    F = jf.UserObjective(
        lambda g, d: jnp.log(2.5 + jnp.sin(g[0] - 0.3) * jnp.cos(2 * d[0]))
    )
    grid = 32
    theta = 2 * np.pi * np.arange(grid) / grid
    G, D = np.meshgrid(theta, theta, indexing="ij")
    samples = np.log(2.5 + np.sin(G - 0.3) * np.cos(2 * D))
    expected = np.fft.fft2(samples) / grid**2
    np.testing.assert_allclose(
        np.asarray(jf.fourier_coefficients(F, grid).coeffs), expected, atol=1e-15
    )


def test_trig_polynomial_is_its_own_series():
    def fn(g, d):
        return 0.5 + jnp.cos(g[0]) * jnp.sin(2 * d[0]) - 0.25 * jnp.sin(3 * g[0] + d[0])

    F = jf.UserObjective(fn)
    series = jf.fourier_series(F, order=3, grid=16)
    rng = np.random.default_rng(0)
    for z in rng.uniform(-np.pi, np.pi, size=(20, 2)):
        assert float(jf.value(series, z)) == pytest.approx(
            float(jf.value(F, z)), abs=1e-13
        )
    assert jf.fourier_coefficients(F, 16).sup_error(3) < 1e-13


def test_real_form_matches_complex_sum_three_angles():
    def fn(g, d):
        return jnp.exp(0.4 * jnp.sin(g[0]) * jnp.cos(g[1] - d[0]) + 0.2 * jnp.cos(d[0]))

    F = jf.UserObjective(fn, n_g=2, n_d=1)
    order, grid = 3, 12
    coeffs = jf.fourier_coefficients(F, grid)
    c = np.asarray(coeffs.modes_tensor(order))
    series = coeffs.truncate(order)
    rng = np.random.default_rng(1)
    modes = np.array(list(itertools.product(range(-order, order + 1), repeat=3)))
    for z in rng.uniform(-np.pi, np.pi, size=(10, 3)):
        direct = sum(c[tuple(m + order)] * np.exp(1j * m @ z) for m in modes)
        assert float(jf.value(series, z)) == pytest.approx(direct.real, abs=1e-12)
    np.testing.assert_allclose(np.asarray(series.complex_coefficients()), c, atol=1e-15)


def test_sup_error_equals_direct_evaluation_on_nodes_and_midpoints():
    F = jf.exponential_gan()
    grid, order = 32, 4
    coeffs = jf.fourier_coefficients(F, grid)
    series = coeffs.truncate(order)
    nodes = 2 * np.pi * np.arange(grid) / grid
    midpoints = nodes + np.pi / grid
    points = np.concatenate(
        [np.array(list(itertools.product(axis, axis))) for axis in (nodes, midpoints)]
    )
    errors = [abs(float(jf.value(series, z)) - float(jf.value(F, z))) for z in points]
    assert coeffs.sup_error(order) == pytest.approx(max(errors), rel=1e-10)


def test_sup_error_sees_aliasing():
    # with 2N + 1 = M the series interpolates F at the nodes exactly; the error
    # between them is what the user needs to see
    coeffs = jf.fourier_coefficients(jf.exponential_gan(), 3)
    on_nodes = np.max(np.abs(np.real(np.fft.ifftn(coeffs.coeffs)) * 9 - coeffs.samples))
    assert on_nodes < 1e-13
    assert coeffs.sup_error(1) > 1.0


def test_energy_and_error_shrink_with_order():
    coeffs = jf.fourier_coefficients(jf.exponential_gan(), 128)
    orders = [0, 1, 2, 4, 8, 16, 32]
    energy = [coeffs.energy_captured(n) for n in orders]
    errors = [coeffs.sup_error(n) for n in orders]
    # Parseval: each larger order keeps a superset of modes, so energy never drops.
    assert all(b >= a for a, b in zip(energy, energy[1:], strict=False))
    assert energy[-1] == pytest.approx(1.0, abs=1e-8)
    assert all(b < a for a, b in zip(errors[1:], errors[2:], strict=False))


def test_order_too_large_for_grid():
    coeffs = jf.fourier_coefficients(jf.exponential_gan(), 16)
    with pytest.raises(jf.InputError, match="at least 17 points"):
        coeffs.truncate(8)
    assert coeffs.truncate(7).order == 7  # 2N + 1 = 15 <= 16


def test_series_is_a_pytree_of_arrays():
    series = jf.fourier_series(jf.exponential_gan(), order=2, grid=16)
    assert series.coeffs.shape == (5, 5)
    assert series.coeffs.dtype == jnp.float64
    assert math.isfinite(float(jf.value(series, jnp.zeros(2))))


def _complex_series_flow(F, grid, order):
    """The straightforward flow: the series as a complex sum over numpy FFT
    coefficients, differentiated by autodiff (independent of the real form)."""
    theta = 2 * np.pi * np.arange(grid) / grid
    G, D = np.meshgrid(theta, theta, indexing="ij")
    samples = np.asarray(
        jax.vmap(jax.vmap(lambda g, d: jf.value(F, jnp.stack([g, d]))))(
            jnp.asarray(G), jnp.asarray(D)
        )
    )
    c = np.fft.fft2(samples) / grid**2
    k = np.arange(-order, order + 1)
    c = jnp.asarray(c[np.ix_(k % grid, k % grid)])

    def series(z):
        return jnp.real(jnp.exp(1j * k * z[0]) @ c @ jnp.exp(1j * k * z[1]))

    def flow(z):
        grad = jax.grad(series)(z)
        return jnp.stack([-grad[0], grad[1]])

    return jax.vmap(flow)


@pytest.mark.parametrize("order", [1, 8, 32])
def test_closed_form_flow_matches_the_complex_series(order):
    F = jf.exponential_gan()
    grid = 2 * order + 2
    series = jf.fourier_series(F, order=order, grid=grid)
    rng = np.random.default_rng(order)
    # unwrapped angles, as along a long trajectory, test the harmonic recurrence
    z = jnp.asarray(rng.uniform(-60.0, 60.0, size=(200, 2)))
    got = jax.vmap(lambda w: jf.vector_field(series, w))(z)
    np.testing.assert_allclose(got, _complex_series_flow(F, grid, order)(z), atol=1e-12)


def test_closed_form_flow_matches_autodiff_four_angles():
    def fn(g, d):
        return jnp.sin(g[0] + 2 * d[1]) * jnp.cos(g[1]) + 0.3 * jnp.cos(d[0] - g[0])

    series = jf.fourier_series(jf.UserObjective(fn, n_g=2, n_d=2), order=2, grid=8)
    rng = np.random.default_rng(4)
    for z in jnp.asarray(rng.uniform(-np.pi, np.pi, size=(5, 4))):
        grad = jax.grad(lambda w: fn(w[:2], w[2:]))(z)
        expected = jnp.array([-grad[0], -grad[1], grad[2], grad[3]])
        np.testing.assert_allclose(jf.vector_field(series, z), expected, atol=1e-13)


def test_integer_angles_are_angles():
    series = jf.fourier_series(
        jf.UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0])), order=3, grid=16
    )
    assert float(jf.value(series, jnp.array([1, 2]))) == pytest.approx(
        math.sin(1) * math.sin(2), abs=1e-14
    )
