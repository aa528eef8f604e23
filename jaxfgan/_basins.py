"""Basins of attraction: where the flow from each start of a grid ends up.

From every cell centre of an M x M grid of starts (theta_g, theta_d) the flow is
integrated to t1. A trajectory has *settled* when it ends within ``epsilon``
(max-norm on the torus) of a stable equilibrium, matched modulo 2 pi; otherwise it
is *unsettled*, with one reason from :data:`BASIN_STATUS`. For a settled trajectory
the map also holds the time after which it stays within ``epsilon`` of its
attractor, and for every trajectory the winding numbers: how many times the
unwrapped trajectory went around each angle. A trajectory that circles an
equilibrium has winding (0, 0); one that wraps around the torus does not.
"""

import math
from dataclasses import dataclass

import numpy as np

from ._chunk_store import ChunkStore
from ._equilibria import Equilibria, Equilibrium, find_equilibria
from ._errors import InputError
from ._flow import integrate_flow
from ._objective import TWO_PI, Objective

BASIN_STATUS = (
    "",
    "the step budget ran out before t1: raise max_steps or shorten t1",
    "the step size fell below its minimum: loosen rtol and atol",
    "the state became infinite or NaN: the objective is not finite along this path",
    "still moving at t1, not within epsilon of an attractor: raise t1",
    "at t1 within epsilon of an unstable equilibrium (on its stable manifold)",
)
"""Reasons of :attr:`BasinMap.status`: 0 settled; 1-3 are the flow's failures
(:data:`jaxfgan._flow.FLOW_STATUS`), 4 and 5 are trajectories that ran to t1."""

UNSETTLED = -1
"""The label of a start whose trajectory settled at no attractor."""


@dataclass(frozen=True)
class BasinMap:
    """Where each start of an M x M grid ends up.

    Arrays are indexed [i, j] for the start (theta_g, theta_d) = (axis[j], axis[i]),
    the layout of the phase portrait.

    Attributes:
        axis: the cell centres -pi + (j + 1/2) 2 pi / M, shape (M,).
        attractors: the stable equilibria, in the order of the labels.
        equilibria: every equilibrium found (the attractors among them).
        labels: index into ``attractors``, or :data:`UNSETTLED`, shape (M, M).
        status: 0 when settled, else a reason from :data:`BASIN_STATUS`, (M, M).
        times: the time after which the trajectory stays within ``epsilon`` of its
            attractor (NaN when unsettled), shape (M, M).
        winding: net turns of the unwrapped trajectory around each angle, (M, M, 2).
        t1, epsilon: the settings used.
    """

    axis: np.ndarray
    attractors: list[Equilibrium]
    equilibria: Equilibria
    labels: np.ndarray
    status: np.ndarray
    times: np.ndarray
    winding: np.ndarray
    t1: float
    epsilon: float

    @property
    def fractions(self) -> np.ndarray:
        """The share of the starts in each attractor's basin, shape (A,)."""
        counts = np.bincount(self.labels[self.labels >= 0], minlength=self.size)
        return counts[: len(self.attractors)] / self.labels.size

    @property
    def size(self) -> int:
        return len(self.attractors)

    @property
    def unsettled_fraction(self) -> float:
        """The share of starts that settled nowhere (with :attr:`fractions`, 1)."""
        return float(np.mean(self.labels == UNSETTLED))

    def reasons(self) -> dict[str, float]:
        """The share of the starts for each reason of being unsettled."""
        counts = np.bincount(self.status.ravel(), minlength=len(BASIN_STATUS))
        return {
            BASIN_STATUS[code]: count / self.status.size
            for code, count in enumerate(counts)
            if code and count
        }


def basin_map(
    objective: Objective,
    *,
    grid: int = 128,
    t1: float = 150.0,
    epsilon: float = 1e-3,
    equilibria: Equilibria | None = None,
    samples: int = 257,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    max_steps: int = 16384,
    chunk_size: int = 16384,
    store: ChunkStore | None = None,
    progress=None,
) -> BasinMap:
    """Integrate the flow from an M x M grid of starts and label each by its attractor.

    The starts are cut into chunks of ``chunk_size`` (the last one padded, so one
    compiled solve serves all, and a chunk's numbers do not depend on which other
    chunks ran in the same process). With a ``store``, a chunk already on disk for
    the same fingerprint is read instead of computed, and each chunk computed is
    saved as soon as it is done, so an interrupted run resumes where it stopped
    and gives the same map, bit for bit.

    Each trajectory is saved at ``samples`` equally spaced times in [0, t1]; the
    time to come within ``epsilon`` is the last sample time at which it was
    farther, refined by interpolating log-distance linearly to the next sample.

    Arguments:
        objective: a two-angle objective (one angle per player).
        grid: M, starts per angle.
        t1: integration time.
        epsilon: settled means within epsilon (max-norm, radians) of an attractor.
        equilibria: from :func:`find_equilibria` (found here when not given).
        samples: saved times per trajectory, for the time to epsilon.
        rtol, atol, max_steps: the integrator's settings.
        chunk_size: starts integrated at once.
        store: where chunks are kept, or None to keep nothing on disk.
        progress: an optional callable (done, total) called after every chunk.

    Returns:
        A :class:`BasinMap`.

    Example: F = cos(theta_d) - cos(theta_g) has the flow (-sin theta_g,
        -sin theta_d), whose one attractor (0, 0) draws every start off the lines
        theta = pi.
        >>> import jax.numpy as jnp
        >>> from jaxfgan import UserObjective
        >>> F = UserObjective(lambda g, d: -jnp.cos(g[0]) + jnp.cos(d[0]))
        >>> basins = basin_map(F, grid=4, t1=60.0)
        >>> [a.theta.tolist() for a in basins.attractors], basins.fractions.tolist()
        ([[0.0, 0.0]], [1.0])
    """
    _check_settings(objective, grid, t1, epsilon, samples, chunk_size)
    if equilibria is None:
        equilibria = find_equilibria(objective)
    attractors = [point for point in equilibria.points if point.stable]
    axis = -math.pi + (np.arange(grid) + 0.5) * TWO_PI / grid
    g, d = np.meshgrid(axis, axis)
    starts = np.stack([g.ravel(), d.ravel()], axis=1)
    settings = _Settings(t1, epsilon, samples, rtol, atol, max_steps, chunk_size)
    parts = _chunks(
        objective, starts, equilibria, attractors, settings, store, progress
    )
    joined = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    return BasinMap(
        axis=axis,
        attractors=attractors,
        equilibria=equilibria,
        labels=joined["labels"].reshape(grid, grid),
        status=joined["status"].reshape(grid, grid),
        times=joined["times"].reshape(grid, grid),
        winding=joined["winding"].reshape(grid, grid, 2),
        t1=float(t1),
        epsilon=float(epsilon),
    )


def basin_agreement(reference: BasinMap, other: BasinMap, radius: float = 0.5) -> float:
    """The share of starts that end at the same attractor in two basin maps.

    Each attractor of ``other`` stands for the nearest attractor of ``reference``
    within ``radius`` (max-norm on the torus), or for none. A start agrees when its
    attractor in ``other`` stands for its attractor in ``reference``, or when it is
    unsettled in both. The two maps must share their grid of starts.

    Example: a map agrees with itself.
        >>> from jaxfgan import UserObjective
        >>> F = UserObjective(lambda g, d: -jnp.cos(g[0]) - jnp.cos(d[0]))
        >>> basins = basin_map(F, grid=4, t1=30.0)
        >>> basin_agreement(basins, basins)
        1.0
    """
    if reference.labels.shape != other.labels.shape or not np.allclose(
        reference.axis, other.axis
    ):
        raise InputError("basin_agreement: the two maps need the same grid of starts")
    stands_for = np.full(len(other.attractors) + 1, -2)  # -2: no counterpart
    stands_for[UNSETTLED] = UNSETTLED
    for index, attractor in enumerate(other.attractors):
        gaps = [_torus_gap(attractor.theta, a.theta) for a in reference.attractors]
        if gaps and min(gaps) <= radius:
            stands_for[index] = int(np.argmin(gaps))
    return float(np.mean(stands_for[other.labels] == reference.labels))


def _torus_gap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.mod(a - b + math.pi, TWO_PI) - math.pi)))


@dataclass(frozen=True)
class _Settings:
    t1: float
    epsilon: float
    samples: int
    rtol: float
    atol: float
    max_steps: int
    chunk_size: int


def _check_settings(objective, grid, t1, epsilon, samples, chunk_size) -> None:
    if objective.n != 2:
        raise InputError(
            f"basin_map: a basin map draws one angle per player, but the objective "
            f"has {objective.n_g} + {objective.n_d} angles"
        )
    checks = [
        (grid >= 1, f"grid must be >= 1, got {grid}"),
        (math.isfinite(t1) and t1 > 0, f"t1 must be finite and > 0, got {t1}"),
        (0 < epsilon < math.pi, f"epsilon must be in (0, pi), got {epsilon}"),
        (samples >= 2, f"samples must be >= 2, got {samples}"),
        (chunk_size >= 1, f"chunk_size must be >= 1, got {chunk_size}"),
    ]
    for ok, message in checks:
        if not ok:
            raise InputError(f"basin_map: {message}")


def _chunks(objective, starts, equilibria, attractors, settings, store, progress):
    size = min(settings.chunk_size, len(starts))
    total = -(-len(starts) // size)
    parts = []
    for index in range(total):
        chunk = starts[index * size : (index + 1) * size]
        part = store.load(index) if store is not None else None
        if part is None or len(part["labels"]) != len(chunk):
            part = _solve_chunk(
                objective, chunk, size, equilibria, attractors, settings
            )
            if store is not None:
                store.save(index, part)
        parts.append(part)
        if progress is not None:
            progress(index + 1, total)
    return parts


def _solve_chunk(objective, chunk, size, equilibria, attractors, settings) -> dict:
    count = len(chunk)
    padded = np.concatenate([chunk, np.repeat(chunk[-1:], size - count, axis=0)])
    ts = np.linspace(0.0, settings.t1, settings.samples)
    solution = integrate_flow(
        objective,
        padded,
        settings.t1,
        ts=ts,
        rtol=settings.rtol,
        atol=settings.atol,
        max_steps=settings.max_steps,
    )
    ys = np.asarray(solution.ys)[:count]
    final = np.asarray(solution.final)[:count]
    flow_status = np.asarray(solution.status)[:count]
    return _label(chunk, ys, final, flow_status, ts, equilibria, attractors, settings)


def _label(starts, ys, final, flow_status, ts, equilibria, attractors, settings):
    """Labels, reasons, times to epsilon and winding numbers of a chunk."""
    epsilon = settings.epsilon
    nearest, gap = _nearest(final, [a.theta for a in attractors])
    settled = (flow_status == 0) & (gap <= epsilon)
    labels = np.where(settled, nearest, UNSETTLED)
    near_other = _nearest(final, [p.theta for p in equilibria.points])[1] <= epsilon
    status = np.where(flow_status != 0, flow_status, np.where(near_other, 5, 4))
    status = np.where(settled, 0, status)
    targets = np.array([a.theta for a in attractors]).reshape(-1, 2)
    target = targets[np.where(settled, nearest, 0)] if len(targets) else final * 0
    times = np.where(settled, _time_within(ys, target, ts, epsilon), np.nan)
    winding = _winding(starts, final, target, settled)
    return {
        "labels": labels.astype(np.int16),
        "status": status.astype(np.int8),
        "times": times,
        "winding": winding,
    }


def _winding(start, final, target, settled) -> np.ndarray:
    """Turns around each angle, beyond the shortest way from the start to the end.

    A settled trajectory ends at a lift target + 2 pi m of its attractor; its
    winding is how many turns that lift lies beyond the one nearest the start, so
    a trajectory that spirals into its attractor without going around the torus
    has winding 0, whatever side of the square's edge the attractor is drawn on.
    An unsettled one counts the whole turns of its net displacement.
    """
    direct = start + np.mod(target - start + math.pi, TWO_PI) - math.pi
    lifted = np.round((final - direct) / TWO_PI)
    travelled = np.fix(np.nan_to_num(final - start) / TWO_PI)
    return np.where(settled[:, None], lifted, travelled).astype(np.int32)


def _nearest(points, targets) -> tuple[np.ndarray, np.ndarray]:
    """Index of and max-norm torus distance to the nearest target, per point."""
    if len(targets) == 0:
        return np.zeros(len(points), int), np.full(len(points), np.inf)
    diff = points[:, None, :] - np.asarray(targets)[None, :, :]
    gaps = np.max(np.abs(np.mod(diff + math.pi, TWO_PI) - math.pi), axis=-1)
    gaps = np.where(np.isfinite(gaps), gaps, np.inf)
    return np.argmin(gaps, axis=1), np.min(gaps, axis=1)


def _time_within(ys, target, ts, epsilon) -> np.ndarray:
    """The time after which each trajectory stays within epsilon of its target."""
    diff = ys - target[:, None, :]
    gaps = np.max(np.abs(np.mod(diff + math.pi, TWO_PI) - math.pi), axis=-1)
    outside = gaps > epsilon
    last = ts.size - 1 - np.argmax(outside[:, ::-1], axis=1)  # last sample outside
    inside_all = ~np.any(outside, axis=1)
    following = np.minimum(last + 1, ts.size - 1)
    rows = np.arange(len(ys))
    before, after = gaps[rows, last], gaps[rows, following]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.log(before / epsilon) / np.log(before / after)
    share = np.clip(np.nan_to_num(share, nan=1.0), 0.0, 1.0)
    step = ts[following] - ts[last]
    return np.where(inside_all, 0.0, ts[last] + share * step)
