"""How well the order-N Fourier series stands in for the exact objective.

For each order N, the series F_N (coefficients from an FFT on M points per angle) is
compared with the exact F on the fine grid of 2M points per angle, theta_j = pi j / M,
which holds the Fourier grid's nodes and the midpoints between them:

- sup_error = max |F - F_N| and field_error = max_j |v_j - v_N,j| over the fine grid,
  v = (-grad_g F, +grad_d F) the training flow;
- energy = sum_{max|k_j| <= N} |c_k|^2 / sum_k |c_k|^2, the share of the (Parseval)
  energy kept;
- each exact equilibrium is paired with an equilibrium of F_N (nearest first, within
  ``match_radius`` on the torus): the distance, the eigenvalue error, whether the
  kinds agree; exact equilibria left unpaired are missing, series ones spurious;
- trajectory_error: the largest torus distance, at time t1, between the exact flow
  and the flow of F_N started from the same points;
- the seconds F_N takes to evaluate (its flow at 4096 points) and to integrate.

Aliasing. On M points the FFT returns c_k + sum_{j != 0} c_{k + jM}, not c_k. The
coefficients from 2M points alias only through |k| >= 2M - N, so
aliasing_error = sum_{max|k_j| <= N} |c_k^(M) - c_k^(2M)| estimates the aliasing of
the M-point series (its leading terms c_{k +- M}) and bounds how far the two series
differ anywhere on the torus. It is compared with the truncation error proper,
max |F - F_N| over the fine grid with F_N taken from the 2M-point coefficients
(whose own aliasing is far smaller); where it is larger, the numbers describe the
grid M more than the order N, and a warning says so.
"""

import dataclasses
import itertools
import math
import time
import warnings
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._basins import basin_agreement, basin_map
from ._equilibria import Equilibria, Equilibrium, find_equilibria
from ._errors import InputError
from ._flow import integrate_flow
from ._fourier import (
    FourierCoefficients,
    FourierSeries,
    fourier_coefficients,
)
from ._objective import TWO_PI, Objective, torus_distance, vector_field

_TIMING_POINTS = 4096
_TRAJECTORIES = {1: 8, 2: 4, 3: 3, 4: 2}  # starts per angle: 8, 16, 27, 16 in all
_FIELD_BATCH = 16384
_ROUND_OFF = 100 * np.finfo(np.float64).eps  # relative to max |F|
MAX_FINE_POINTS = 2**24
"""The largest (2M)**n of the fine grid: F, its flow and the series' flow there take
(2n + 1) * 8 bytes a point, 1.2 GiB for four angles."""


@dataclass(frozen=True)
class EquilibriumMatch:
    """An exact equilibrium and the series equilibrium paired with it.

    Attributes:
        exact: the equilibrium of the exact objective.
        series: the paired equilibrium of the series, or None when it is missing.
        distance: their distance on the torus (max over angles), or None.
        eigenvalue_error: max_i |lambda_i - mu_i| over the best pairing of the two
            spectra, or None.
    """

    exact: Equilibrium
    series: Equilibrium | None
    distance: float | None
    eigenvalue_error: float | None

    @property
    def kind_agrees(self) -> bool:
        return self.series is not None and self.series.kind == self.exact.kind


@dataclass(frozen=True)
class OrderAccuracy:
    """How the order-N series compares with the exact objective (module docstring).

    Attributes:
        order: N.
        sup_error, field_error: max |F - F_N| and max |v - v_N| on the fine grid.
        energy: the share of sum_k |c_k|^2 kept.
        aliasing_error: the estimate of the module docstring.
        truncation_error: max |F - F_N| on the fine grid with F_N from the
            2M-point coefficients: the error of truncation alone.
        aliased: the aliasing estimate exceeds the truncation error and round-off
            (100 eps max |F|): the grid, not the order, limits this row.
        matches: one :class:`EquilibriumMatch` per exact equilibrium.
        spurious_points: the series' equilibria paired with none.
        series_equilibria: every equilibrium of the series.
        trajectory_error: max over starts of the torus distance at t1.
        evaluate_seconds, integrate_seconds: compiled run times, or None if not
            measured.
        basin_agreement: the share of basin-map starts whose attractor matches the
            exact flow's (:func:`jaxfgan.basin_agreement`), or None if not measured.
    """

    order: int
    sup_error: float
    field_error: float
    energy: float
    aliasing_error: float
    truncation_error: float
    aliased: bool
    matches: tuple[EquilibriumMatch, ...]
    spurious_points: tuple[Equilibrium, ...]
    series_equilibria: Equilibria
    trajectory_error: float
    evaluate_seconds: float | None
    integrate_seconds: float | None
    basin_agreement: float | None = None

    @property
    def missing(self) -> int:
        return sum(match.series is None for match in self.matches)

    @property
    def spurious(self) -> int:
        return len(self.spurious_points)

    @property
    def kinds_agree(self) -> int:
        return sum(match.kind_agrees for match in self.matches)

    @property
    def eigenvalue_error(self) -> float | None:
        """The largest eigenvalue error over the paired equilibria (None if none)."""
        return _largest(match.eigenvalue_error for match in self.matches)

    @property
    def nash_eigenvalue_error(self) -> float | None:
        """The largest eigenvalue error over the paired exact Nash equilibria."""
        return _largest(m.eigenvalue_error for m in self.matches if m.exact.nash)

    @property
    def equilibrium_distance(self) -> float | None:
        return _largest(match.distance for match in self.matches)

    @property
    def seconds(self) -> float | None:
        if self.evaluate_seconds is None or self.integrate_seconds is None:
            return None
        return self.evaluate_seconds + self.integrate_seconds

    def to_json(self) -> dict:
        """The contract's keys, then the extra ones."""
        return {
            "order": self.order,
            "sup_error": self.sup_error,
            "field_error": self.field_error,
            "energy": self.energy,
            "eigenvalue_error": self.eigenvalue_error,
            "missing": self.missing,
            "spurious": self.spurious,
            "trajectory_error": self.trajectory_error,
            "seconds": self.seconds,
            "aliasing_error": self.aliasing_error,
            "truncation_error": self.truncation_error,
            "nash_eigenvalue_error": self.nash_eigenvalue_error,
            "equilibrium_distance": self.equilibrium_distance,
            "kinds_agree": self.kinds_agree,
            "evaluate_seconds": self.evaluate_seconds,
            "integrate_seconds": self.integrate_seconds,
            "basin_agreement": self.basin_agreement,
        }


@dataclass(frozen=True)
class TruncationStudy:
    """The result of :func:`truncation_study`.

    Attributes:
        orders: one :class:`OrderAccuracy` per order, by increasing N.
        exact_equilibria: the exact objective's equilibria.
        grid: M, the Fourier grid's points per angle (the fine grid has 2M).
        t1: the time at which trajectories are compared.
        starts: the trajectories' initial points, shape (P, n).
    """

    orders: tuple[OrderAccuracy, ...]
    exact_equilibria: Equilibria
    grid: int
    t1: float
    starts: np.ndarray

    def smallest_order(self, target_error: float) -> int | None:
        """The smallest order whose sup error of F is at most ``target_error``."""
        meeting = [row.order for row in self.orders if row.sup_error <= target_error]
        return min(meeting, default=None)

    @property
    def aliased_orders(self) -> list[int]:
        return [row.order for row in self.orders if row.aliased]

    def to_json(self, target_error: float | None = None) -> dict:
        """The contract: ``{"orders": [...], "smallest_order": N or null}``."""
        smallest = None if target_error is None else self.smallest_order(target_error)
        return {
            "orders": [row.to_json() for row in self.orders],
            "smallest_order": smallest,
        }

    def markdown(self) -> str:
        """The table, one row per order, as GitHub Markdown."""
        basins = any(row.basin_agreement is not None for row in self.orders)
        lines = [
            "| N | sup error F | field error | energy kept | eigenvalue error "
            "| missing | spurious | trajectory error | seconds |"
            + (" basins agree |" if basins else ""),
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            + ("---:|" if basins else ""),
        ]
        for row in self.orders:
            cells = [
                str(row.order),
                _g(row.sup_error),
                _g(row.field_error),
                f"{row.energy:.12f}",
                _g(row.eigenvalue_error),
                str(row.missing),
                str(row.spurious),
                _g(row.trajectory_error),
                "-" if row.seconds is None else f"{row.seconds:.3f}",
            ]
            if basins:
                cells.append(f"{row.basin_agreement:.4f}")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


def truncation_study(
    objective: Objective,
    orders: tuple[int, ...] = tuple(range(1, 33)),
    *,
    grid: int = 128,
    t1: float = 20.0,
    trajectories: int | None = None,
    starts: int | None = None,
    match_radius: float = 0.5,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    timing: bool = True,
    basin_grid: int = 0,
) -> TruncationStudy:
    """Compare the order-N Fourier series with the exact objective, for each N.

    Arguments:
        objective: the game, with n <= 4 angles in all.
        orders: the orders N >= 1 to study; each needs 2N + 1 <= grid.
        grid: M, Fourier grid points per angle; (2M)**n must stay below 2**24
            (M <= 2048, 128, 32 for two, three, four angles).
        t1: trajectories are compared at this time.
        trajectories: starts per angle of the trajectories (default 4 for two
            angles; 8, 3, 2 for one, three, four).
        starts: Newton starts per angle for the equilibria (see
            :func:`jaxfgan.find_equilibria`).
        match_radius: an exact and a series equilibrium farther apart than this
            (radians, max over angles) are never paired.
        rtol, atol: the tolerances of every integration.
        timing: measure each order's evaluation and integration times. Each order
            then compiles its own solver (seconds per order); without it, all orders
            share one.
        basin_grid: with M > 0, also draw the basin map of the exact flow and of
            each order on an M x M grid of starts (:func:`jaxfgan.basin_map`) and
            report the share of starts that reach the same attractor; 0 skips it.

    Returns:
        A :class:`TruncationStudy`.

    Warns:
        When the aliasing estimate exceeds the error of truncation alone at some
        order (see the module docstring): raise grid.

    Example: F = sin(theta_g) sin(theta_d) is its own order-1 series.
        >>> from jaxfgan import UserObjective
        >>> F = UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))
        >>> row = truncation_study(F, (1,), grid=8, t1=2.0, timing=False).orders[0]
        >>> row.sup_error < 1e-14, row.energy, row.missing, row.spurious
        (True, 1.0, 0, 0)

    Notes:
        The sup and field errors are measured on a grid, so a narrow feature between
        its points can be missed; raise grid to look closer. The trajectory error is
        limited below by the integration tolerances (about 1e-7 with the defaults).
    """
    orders = _check_study(objective, orders, grid, t1)
    exact = _reference(objective, orders, grid, t1, trajectories, starts, rtol, atol)
    settings = dict(starts=starts, radius=match_radius, rtol=rtol, atol=atol)
    rows = [_study_order(order, exact, timing, **settings) for order in orders]
    if basin_grid:
        rows = _with_basin_agreement(
            objective, exact.equilibria, rows, exact.full, basin_grid, match_radius
        )
    study = TruncationStudy(tuple(rows), exact.equilibria, grid, t1, exact.y0)
    _warn_aliasing(study)
    return study


@dataclass(frozen=True)
class _Reference:
    """What every order is compared with, computed once.

    coefficients (M points) and fine (2M points) hold the exact F's samples and
    coefficients; field is its flow on the fine grid; full is the series at the
    largest order studied; final the exact flow's state at t1 from each of y0.
    """

    coefficients: FourierCoefficients
    fine: FourierCoefficients
    field: np.ndarray
    equilibria: Equilibria
    full: FourierSeries
    y0: np.ndarray
    t1: float
    final: np.ndarray
    round_off: float


def _reference(objective, orders, grid, t1, trajectories, starts, rtol, atol):
    fine = fourier_coefficients(objective, 2 * grid)
    coefficients = fourier_coefficients(objective, grid)
    y0 = trajectory_starts(objective.n, trajectories)
    return _Reference(
        coefficients=coefficients,
        fine=fine,
        field=field_on_grid(objective, 2 * grid),
        equilibria=find_equilibria(objective, starts=starts),
        full=coefficients.truncate(orders[-1]),
        y0=y0,
        t1=t1,
        final=_integrate(objective, y0, t1, rtol, atol)[0],
        round_off=_ROUND_OFF * max(1.0, float(jnp.max(jnp.abs(fine.samples)))),
    )


def _study_order(order, exact, timing, *, starts, radius, rtol, atol):
    """One row of the study: the order-N series against the exact objective."""
    errors = _grid_errors(exact.coefficients, exact.fine, exact.field, order)
    padded = _padded(exact.full, order)
    found = find_equilibria(padded, starts=starts)
    matches, spurious = match_equilibria(exact.equilibria, found, radius)
    series = exact.coefficients.truncate(order) if timing else padded
    final, integrate_seconds = _integrate(
        series, exact.y0, exact.t1, rtol, atol, timing
    )
    return OrderAccuracy(
        order=order,
        **errors,
        aliased=errors["aliasing_error"]
        > max(errors["truncation_error"], exact.round_off),
        energy=exact.coefficients.energy_captured(order),
        matches=matches,
        spurious_points=spurious,
        series_equilibria=found,
        trajectory_error=float(np.max(torus_distance(final, exact.final))),
        evaluate_seconds=_evaluate_seconds(series) if timing else None,
        integrate_seconds=integrate_seconds,
    )


def _with_basin_agreement(objective, equilibria, rows, full, grid, radius):
    """Each row with its basin agreement; the series share one padded shape, so
    one compiled solve serves every order."""
    reference = basin_map(objective, grid=grid, equilibria=equilibria)
    return [
        dataclasses.replace(
            row,
            basin_agreement=basin_agreement(
                reference,
                basin_map(
                    _padded(full, row.order),
                    grid=grid,
                    equilibria=row.series_equilibria,
                ),
                radius,
            ),
        )
        for row in rows
    ]


def match_equilibria(
    exact: Equilibria, series: Equilibria, radius: float
) -> tuple[tuple[EquilibriumMatch, ...], tuple[Equilibrium, ...]]:
    """Pair exact and series equilibria, closest pairs first, none farther than radius.

    Greedy on the sorted torus distances: the closest pair is taken, both leave,
    and so on. Returns one match per exact equilibrium (in its order) and the
    series equilibria left over.

    Example: one exact point, two series points, one of them near.
        >>> from jaxfgan import UserObjective, classify
        >>> F = UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))
        >>> at = lambda *zs: Equilibria([classify(F, z) for z in zs], 0, 0)
        >>> pairs, extra = match_equilibria(at([0.0, 0.0]), at([0.0, 0.0], [2.0, 2.0]),
        ...                                 radius=0.5)
        >>> pairs[0].distance, len(extra)
        (0.0, 1)
    """
    pairs = sorted(
        (_gap(a.theta, b.theta), i, j)
        for i, a in enumerate(exact.points)
        for j, b in enumerate(series.points)
    )
    partner: dict[int, tuple[int, float]] = {}
    taken: set[int] = set()
    for distance, i, j in pairs:
        if distance <= radius and i not in partner and j not in taken:
            partner[i] = (j, distance)
            taken.add(j)
    matches = tuple(
        _match(point, series.points, partner.get(i))
        for i, point in enumerate(exact.points)
    )
    spurious = tuple(p for j, p in enumerate(series.points) if j not in taken)
    return matches, spurious


def eigenvalue_distance(a: np.ndarray, b: np.ndarray) -> float:
    """min over pairings of max_i |a_i - b_pi(i)|: spectra compared as sets.

    Sorting both and comparing in order would pair wrongly when real parts nearly
    tie; with at most four eigenvalues, trying all 24 pairings is cheap.

    Example:
        >>> round(eigenvalue_distance(np.array([1j, -1j]), np.array([-1.1j, 1j])), 12)
        0.1
    """
    return min(
        float(np.max(np.abs(np.asarray(a) - np.asarray(b)[list(order)])))
        for order in itertools.permutations(range(len(b)))
    )


def trajectory_starts(n: int, per_angle: int | None = None) -> np.ndarray:
    """A grid of per_angle**n starts, offset by 0.21 rad off the symmetry lines."""
    per_angle = _TRAJECTORIES.get(n, 2) if per_angle is None else per_angle
    line = -math.pi + (np.arange(per_angle) + 0.5) * TWO_PI / per_angle + 0.21
    mesh = np.meshgrid(*[line] * n, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def field_on_grid(objective: Objective, grid: int) -> np.ndarray:
    """The flow v at theta_j = 2 pi j / M on the full grid, shape (n, M, ..., M)."""
    n = objective.n
    total = grid**n
    batch = min(_FIELD_BATCH, total)
    count = math.ceil(total / batch)
    flat = jnp.arange(count * batch).reshape(count, batch) % total
    values = np.asarray(_field_batches(objective, flat, grid)).reshape(-1, n)
    return values[:total].T.reshape((n,) + (grid,) * n)


def series_on_grid(
    coefficients: FourierCoefficients, order: int, grid: int
) -> tuple[np.ndarray, np.ndarray]:
    """F_N and its flow v_N at theta_j = 2 pi j / grid, exactly, by inverse FFT.

    The order-N coefficients are placed at k mod grid of a zero array; with
    2N + 1 <= grid no two modes share a place, so the inverse FFT evaluates the
    trigonometric polynomial itself. Differentiation multiplies c_k by i k_j.
    Returns F_N with shape (grid,)*n and v_N with shape (n,) + (grid,)*n.
    """
    n = coefficients.coeffs.ndim
    k = np.arange(-order, order + 1)
    centred = np.asarray(coefficients.modes_tensor(order))
    signs = [-1.0] * coefficients.n_g + [1.0] * coefficients.n_d

    def evaluate(tensor):
        padded = np.zeros((grid,) * n, complex)
        padded[np.ix_(*[k % grid] * n)] = tensor
        return np.real(np.fft.ifftn(padded)) * grid**n

    field = []
    for axis in range(n):
        shape = [1] * n
        shape[axis] = k.size
        field.append(signs[axis] * evaluate(centred * 1j * k.reshape(shape)))
    return evaluate(centred), np.stack(field)


def _check_study(objective, orders, grid, t1) -> tuple[int, ...]:
    if objective.box is not None:
        raise InputError(
            f"truncation_study: the Fourier series needs the torus, but this objective "
            f"lives on R^{objective.n} (it has a box)"
        )
    orders = tuple(sorted(set(int(order) for order in orders)))
    if not orders or orders[0] < 1:
        raise InputError(f"truncation_study: orders must be >= 1, got {orders}")
    if 2 * orders[-1] + 1 > grid:
        raise InputError(
            f"truncation_study: order {orders[-1]} needs a grid of at least "
            f"{2 * orders[-1] + 1} points per angle (2N+1), got {grid}"
        )
    if (2 * grid) ** objective.n > MAX_FINE_POINTS:
        largest = int(round(MAX_FINE_POINTS ** (1 / objective.n))) // 2
        raise InputError(
            f"truncation_study: the fine grid of {2 * grid} points per angle over "
            f"{objective.n} angles is above {MAX_FINE_POINTS} points; use a grid of "
            f"at most {largest}"
        )
    if not (math.isfinite(t1) and t1 > 0):
        raise InputError(f"truncation_study: t1 must be finite and > 0, got {t1}")
    return orders


def _grid_errors(coefficients, fine, exact_field, order) -> dict:
    values, field = series_on_grid(coefficients, order, fine.grid)
    less_aliased, _ = series_on_grid(fine, order, fine.grid)
    exact = np.asarray(fine.samples)
    aliasing = coefficients.modes_tensor(order) - fine.modes_tensor(order)
    return {
        "sup_error": float(np.max(np.abs(values - exact))),
        "truncation_error": float(np.max(np.abs(less_aliased - exact))),
        "field_error": float(np.max(np.abs(field - exact_field))),
        "aliasing_error": float(jnp.sum(jnp.abs(aliasing))),
    }


def _padded(full: FourierSeries, order: int) -> FourierSeries:
    """The order-N series written at the larger order of ``full``, zeros above N.

    Every order then has the same shapes, so one compiled Newton solve and one
    compiled integration serve them all. The harmonic basis of
    :class:`FourierSeries` is [1, cos 1..N_max, sin 1..N_max]; its frequencies are
    [0, 1..N_max, 1..N_max], and keeping those <= N is the truncation at N.
    """
    top = np.arange(1, full.order + 1)
    keep = np.concatenate([[0], top, top]) <= order
    mask = np.ones(())
    for _ in range(full.n):
        mask = np.multiply.outer(mask, keep)
    return eqx.tree_at(lambda s: s.coeffs, full, full.coeffs * jnp.asarray(mask))


def _integrate(objective, y0, t1, rtol, atol, timing=False):
    """The flow's wrapped state at t1 from each start; timed on a second, compiled
    run when ``timing``."""

    def run():
        solution = integrate_flow(objective, y0, t1, rtol=rtol, atol=atol)
        return jax.block_until_ready(solution.final)

    final = run()
    if not timing:
        return np.asarray(final), None
    begin = time.perf_counter()
    run()
    return np.asarray(final), time.perf_counter() - begin


def _evaluate_seconds(series: Objective) -> float:
    """The best of three compiled evaluations of the flow at 4096 points."""
    points = jnp.asarray(
        np.random.default_rng(0).uniform(-math.pi, math.pi, (_TIMING_POINTS, series.n))
    )
    jax.block_until_ready(_field_at(series, points))
    times = []
    for _ in range(3):
        begin = time.perf_counter()
        jax.block_until_ready(_field_at(series, points))
        times.append(time.perf_counter() - begin)
    return min(times)


@eqx.filter_jit
def _field_at(objective, points):
    return jax.vmap(lambda z: vector_field(objective, z))(points)


@eqx.filter_jit
def _field_batches(objective, flat, grid):
    def one_batch(indices):
        digits = jnp.stack(jnp.unravel_index(indices, (grid,) * objective.n), axis=-1)
        points = digits.astype(float) * (TWO_PI / grid)
        return jax.vmap(lambda z: vector_field(objective, z))(points)

    return jax.lax.map(one_batch, flat)


def _match(point, series_points, pair) -> EquilibriumMatch:
    if pair is None:
        return EquilibriumMatch(point, None, None, None)
    other = series_points[pair[0]]
    error = eigenvalue_distance(point.eigenvalues, other.eigenvalues)
    return EquilibriumMatch(point, other, pair[1], error)


def _warn_aliasing(study: TruncationStudy) -> None:
    if study.aliased_orders:
        warnings.warn(
            f"truncation_study: at orders {study.aliased_orders} the aliasing error "
            f"of the {study.grid}-point Fourier grid (estimated from "
            f"{2 * study.grid} points) exceeds the truncation error measured; raise "
            f"the grid",
            stacklevel=3,
        )


def _gap(a, b) -> float:
    return float(torus_distance(np.asarray(a), np.asarray(b)))


def _largest(values) -> float | None:
    present = [value for value in values if value is not None]
    return max(present, default=None)


def _g(number: float | None) -> str:
    return "-" if number is None else f"{number:.2e}"
