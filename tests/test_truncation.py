"""The truncation study against closed forms, Bessel coefficients and solve_ivp."""

import dataclasses
import itertools

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special
from scipy.integrate import solve_ivp

import jaxfgan as jf
from jaxfgan._truncation import eigenvalue_distance

EPSILON = 0.3


def _trig(g, d):
    return jnp.sin(g[0]) * jnp.sin(d[0]) + EPSILON * jnp.sin(3 * g[0]) * jnp.cos(
        2 * d[0]
    )


@pytest.fixture(scope="module")
def trig_study():
    # Orders 1 and 2 keep only sin g sin d; order 3 keeps all of F. A trigonometric
    # polynomial of degree 3 has exact coefficients on 8 points (2 * 3 + 1 <= 8).
    F = jf.UserObjective(_trig)
    return jf.truncation_study(F, (1, 2, 3), grid=8, t1=3.0, timing=False)


@pytest.fixture(scope="module")
def default_study():
    return jf.truncation_study(jf.exponential_gan(), (1, 2, 4, 8, 16), timing=False)


def test_trig_errors_closed_form(trig_study):
    # F - F_1 = eps sin 3g cos 2d: sup eps, reached on the 16-point fine grid at
    # g = 3 pi / 2, d = 0. Its flow (-3 eps cos 3g cos 2d, -2 eps sin 3g sin 2d)
    # peaks at 3 eps at (0, 0). Energy: |c| = 1/4 on 4 modes for sin g sin d and
    # eps/4 on 4 modes for the rest, so order 1 keeps 1 / (1 + eps^2).
    first, second, third = trig_study.orders
    for row in (first, second):
        assert row.sup_error == pytest.approx(EPSILON, abs=1e-14)
        assert row.field_error == pytest.approx(3 * EPSILON, abs=1e-14)
        assert row.energy == pytest.approx(1 / (1 + EPSILON**2), abs=1e-14)
    assert third.sup_error < 1e-14 and third.field_error < 1e-13
    assert third.energy == pytest.approx(1.0, abs=1e-14)
    assert all(row.aliasing_error < 1e-14 for row in trig_study.orders)


def test_trig_exact_order_matches_every_equilibrium(trig_study):
    third = trig_study.orders[2]
    exact = trig_study.exact_equilibria
    assert exact.poincare_hopf_ok
    assert third.missing == 0 and third.spurious == 0
    assert third.kinds_agree == len(exact.points)
    assert third.equilibrium_distance < 1e-9 and third.eigenvalue_error < 1e-9


def test_trajectory_error_against_solve_ivp(trig_study):
    # The reference integrates the exact flow and the order-1 flow (of sin g sin d)
    # at rtol 1e-12; the study's own tolerances (rtol 1e-8, atol 1e-10) over t = 3
    # leave differences far below 1e-6.
    def exact_flow(t, z):
        g, d = z
        return [
            -(np.cos(g) * np.sin(d) + 3 * EPSILON * np.cos(3 * g) * np.cos(2 * d)),
            np.sin(g) * np.cos(d) - 2 * EPSILON * np.sin(3 * g) * np.sin(2 * d),
        ]

    def order_one_flow(t, z):
        g, d = z
        return [-np.cos(g) * np.sin(d), np.sin(g) * np.cos(d)]

    def final(flow, start):
        sol = solve_ivp(flow, (0, 3.0), start, rtol=1e-12, atol=1e-12, method="DOP853")
        return sol.y[:, -1]

    gaps = [
        jf.torus_distance(final(exact_flow, z), final(order_one_flow, z))
        for z in trig_study.starts
    ]
    first, second, third = trig_study.orders
    assert first.trajectory_error == pytest.approx(float(max(gaps)), abs=1e-6)
    assert second.trajectory_error == pytest.approx(first.trajectory_error, abs=1e-9)
    assert third.trajectory_error < 1e-6


def test_default_model_curves_monotone_where_theory_says(default_study):
    rows = default_study.orders
    energy = [row.energy for row in rows]
    # Guaranteed (Parseval): each larger order keeps a superset of the |c_k|^2 >= 0.
    assert all(b >= a for a, b in itertools.pairwise(energy))
    # Guaranteed: |F - F_N| <= sum_{max|k_j| > N} |c_k| + aliasing, and that l1 tail
    # shrinks as N grows. The sup error itself is NOT guaranteed to shrink: Parseval
    # only bounds the L2 error, and a partial sum can overshoot where a smaller one
    # did not (the Gibbs effect near steep slopes). For this analytic F it does fall
    # at every order studied, which is checked as an observation.
    coefficients = jf.fourier_coefficients(jf.exponential_gan(), 256)
    power = np.abs(np.asarray(coefficients.coeffs))
    k = np.abs(np.fft.fftfreq(256, 1 / 256))
    reach = np.maximum.outer(k, k)
    tails = [float(np.sum(power[reach > row.order])) for row in rows]
    assert all(b <= a for a, b in itertools.pairwise(tails))
    for row, tail in zip(rows, tails, strict=True):
        assert row.sup_error <= tail + row.aliasing_error + 1e-12
    sup = [row.sup_error for row in rows]
    field = [row.field_error for row in rows]
    assert all(b < a for a, b in itertools.pairwise(sup))  # observed, not guaranteed
    assert all(b < a for a, b in itertools.pairwise(field))  # observed, likewise


def test_order_16_nash_eigenvalues(default_study):
    # Closed form at the exact Nash points: -1/4 +- i sqrt(15)/4 (README).
    expected = np.array([-0.25 - 1j * np.sqrt(15) / 4, -0.25 + 1j * np.sqrt(15) / 4])
    row = default_study.orders[-1]
    assert row.order == 16
    nash = [match for match in row.matches if match.exact.nash]
    targets = np.asarray(jf.exponential_gan().nash_points())
    assert len(nash) == 4
    for match in nash:
        assert match.series is not None and match.kind_agrees
        assert (
            float(np.min(jf.torus_distance(targets, match.series.theta[None, :])))
            < 1e-3
        )
        assert eigenvalue_distance(match.series.eigenvalues, expected) < 1e-3
    # At order 1 the same points are centres: purely imaginary eigenvalues.
    first = [m for m in default_study.orders[0].matches if m.exact.nash]
    assert all(m.series is None or m.series.kind == "center" for m in first)


def test_aliasing_estimate_bessel():
    # exp(a cos g + b sin d) has c_(k, l) = I_k(a) (-i)^l I_l(b). On M points the FFT
    # returns sum_j c_(k, l) + jM; the estimate compares M with 2M, which leaves the
    # terms with some odd j: checked against those sums. The FFT's round-off is
    # about eps max|F| = eps e^2.5 ~ 3e-15 per coefficient, over 49 coefficients.
    a, b, order, grid = 1.5, 1.0, 3, 7
    F = jf.UserObjective(lambda g, d: jnp.exp(a * jnp.cos(g[0]) + b * jnp.sin(d[0])))
    with pytest.warns(UserWarning, match="aliasing error of the 7-point"):
        study = jf.truncation_study(F, (order,), grid=grid, t1=1.0, timing=False)
    row = study.orders[0]

    def c(k, m):
        return special.iv(k, a) * (-1j) ** (m % 4) * special.iv(m, b)

    shifts = [
        j for j in itertools.product(range(-6, 7), repeat=2) if j[0] % 2 or j[1] % 2
    ]
    expected = sum(
        abs(sum(c(k + grid * j, m + grid * i) for j, i in shifts))
        for k in range(-order, order + 1)
        for m in range(-order, order + 1)
    )
    assert row.aliasing_error == pytest.approx(expected, abs=1e-13)
    assert row.aliased and study.aliased_orders == [order]


def test_smallest_order(trig_study):
    assert trig_study.smallest_order(1e-12) == 3
    assert trig_study.smallest_order(0.5) == 1
    assert trig_study.smallest_order(1e-20) is None
    record = trig_study.to_json(0.5)
    assert record["smallest_order"] == 1
    assert trig_study.to_json()["smallest_order"] is None


def test_bad_orders():
    F = jf.UserObjective(_trig)
    with pytest.raises(jf.InputError, match="orders must be >= 1"):
        jf.truncation_study(F, (0, 1), grid=8)
    with pytest.raises(jf.InputError, match="at least 9 points"):
        jf.truncation_study(F, (4,), grid=8)


def test_basin_agreement_by_order():
    # The exponential GAN's flow and its series keep the invariant lines
    # theta = +-pi/2 (F depends on the angles through their sines), so each of the
    # four rectangles is one basin. At order 1 the Nash points are centres and no
    # start settles (agreement 0); at order 8 each rectangle holds one spiral
    # attractor next to the exact one (agreement 1).
    study = jf.truncation_study(
        jf.exponential_gan(), (1, 8), grid=64, timing=False, basin_grid=8
    )
    assert [row.basin_agreement for row in study.orders] == [0.0, 1.0]
    assert "basins agree" in study.markdown()
    assert study.to_json()["orders"][1]["basin_agreement"] == 1.0


def test_basin_agreement_counts_matching_attractors():
    F = jf.UserObjective(lambda g, d: -jnp.cos(g[0]) - jnp.cos(d[0]))
    reference = jf.basin_map(F, grid=4, t1=30.0)
    assert jf.basin_agreement(reference, reference) == 1.0
    moved = dataclasses.replace(
        reference,
        labels=np.where(np.arange(16).reshape(4, 4) < 4, -1, reference.labels),
    )
    assert jf.basin_agreement(reference, moved) == 0.75  # 4 of 16 now unsettled
