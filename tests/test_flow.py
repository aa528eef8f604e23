"""The batched flow against a conserved quantity, scipy's solve_ivp and itself."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import jaxfgan as jf

SINE_PRODUCT = jf.UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))


def test_sine_product_conserves_cosine_product():
    # F = sin g sin d: g' = -cos g sin d, d' = sin g cos d, and
    # d/dt (cos g cos d) = -sin g cos d g' - cos g sin d d' = 0.
    starts = np.array([[0.5, 0.0], [1.0, 0.3], [-2.0, 2.5], [0.1, -0.2]])
    ts = np.linspace(0.0, 20.0, 101)
    sol = jf.integrate_flow(SINE_PRODUCT, starts, 20.0, ts=ts, rtol=1e-10, atol=1e-12)
    invariant = np.cos(sol.ys[..., 0]) * np.cos(sol.ys[..., 1])
    start_value = np.cos(starts[:, 0]) * np.cos(starts[:, 1])
    # tolerance: 1e-10 per unit time, times t1 = 20, with margin
    np.testing.assert_allclose(
        invariant, start_value[:, None] * np.ones_like(ts), atol=1e-8
    )
    assert bool(jnp.all(sol.succeeded))


def test_matches_solve_ivp_on_exponential_gan():
    F = jf.exponential_gan()
    field = jax.jit(lambda z: jf.vector_field(F, z))

    def rhs(t, z):
        return np.asarray(field(jnp.asarray(z)))

    starts = np.array([[0.9, -0.4], [2.5, 1.0], [-1.0, 2.0]])
    sol = jf.integrate_flow(F, starts, 15.0, rtol=1e-10, atol=1e-12)
    for start, final in zip(starts, np.asarray(sol.final), strict=True):
        ref = integrate.solve_ivp(
            rhs, (0, 15.0), start, method="DOP853", rtol=1e-12, atol=1e-13
        )
        # both at tolerances <= 1e-10; errors grow at most by e^(0.4 t) on this field
        np.testing.assert_allclose(final, ref.y[:, -1], atol=1e-7)


def test_trajectory_spirals_into_nash():
    F = jf.exponential_gan()
    sol = jf.integrate_flow(F, jnp.array([0.4, 0.3]), 80.0)
    # |z(t)| ~ e^(-t/4): after t = 80 the start (distance 0.5) is within 1e-8
    assert float(jf.torus_distance(sol.final, jnp.zeros(2))) < 1e-6


def test_step_budget_is_reported_per_trajectory():
    sol = jf.integrate_flow(
        jf.exponential_gan(), np.array([[0.4, 0.3], [2.0, -1.0]]), 50.0, max_steps=8
    )
    assert sol.status.tolist() == [1, 1]
    assert "max_steps" in sol.messages()[0]
    assert np.all(np.asarray(sol.num_steps) <= 8)


def test_work_is_bounded():
    sol = jf.integrate_flow(jf.exponential_gan(), np.array([[0.4, 0.3]]), 40.0)
    # ~ 40 time units / (period 6.5 / ~20 steps per turn at rtol 1e-6) ~ 120 steps
    assert 20 < int(sol.num_steps[0]) < 400


class _CountingObjective(jf.Objective):
    scale: jnp.ndarray

    def __call__(self, theta_g, theta_d):
        _CountingObjective.traces += 1  # runs only while tracing
        return self.scale * jnp.sin(theta_g[0]) * jnp.sin(theta_d[0])


def test_second_call_with_other_numbers_does_not_retrace():
    _CountingObjective.traces = 0
    starts = np.array([[0.5, 0.1], [1.0, -0.4]])
    first = _CountingObjective(n_g=1, n_d=1, scale=jnp.asarray(1.0))
    jf.integrate_flow(first, starts, 5.0, rtol=1e-6, atol=1e-8)
    traced = _CountingObjective.traces
    assert traced > 0
    other = eqx.tree_at(lambda o: o.scale, first, jnp.asarray(2.0))
    jf.integrate_flow(other, starts + 0.1, 7.5, rtol=1e-8, atol=1e-10)
    assert _CountingObjective.traces == traced


@pytest.mark.parametrize(
    "y0, t1, options, expect",
    [
        (np.zeros((3, 3)), 1.0, {}, "shape"),
        (np.zeros((0, 2)), 1.0, {}, "shape"),
        (np.array([[np.nan, 0.0]]), 1.0, {}, "NaN"),
        (np.zeros(2), 0.0, {}, "t0 < t1"),
        (np.zeros(2), np.inf, {}, "t0 < t1"),
        (np.zeros(2), 1.0, {"ts": [0.5, 0.2]}, "increasing"),
        (np.zeros(2), 1.0, {"ts": [0.0, 2.0]}, "within"),
        (np.zeros(2), 1.0, {"max_steps": 0}, "max_steps"),
        (np.zeros(2), 1.0, {"batch_size": 2.5}, "batch_size"),
    ],
)
def test_bad_input_raises(y0, t1, options, expect):
    with pytest.raises(jf.InputError, match=expect):
        jf.integrate_flow(SINE_PRODUCT, y0, t1, **options)


def test_wrap_angles_range():
    wrapped = np.asarray(jf.wrap_angles(np.array([math.pi, -math.pi, 7.0, -7.0])))
    assert np.all(wrapped >= -math.pi) and np.all(wrapped < math.pi)
    np.testing.assert_allclose(np.cos(wrapped), np.cos([math.pi, -math.pi, 7.0, -7.0]))


def test_chunked_equals_unchunked(same_solution):
    starts = np.random.default_rng(0).uniform(-3, 3, size=(50, 2))
    ts = np.linspace(0.0, 10.0, 5)
    whole = jf.integrate_flow(jf.exponential_gan(), starts, 10.0, ts=ts)
    chunked = jf.integrate_flow(
        jf.exponential_gan(), starts, 10.0, ts=ts, batch_size=16
    )
    same_solution(chunked, whole)
    assert chunked.final.shape == (50, 2) and chunked.ys.shape == (50, 5, 2)
