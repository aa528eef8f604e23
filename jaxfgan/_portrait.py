"""The data of a phase portrait: for the exact objective and each truncation order,
its equilibria, F on a grid, the flow on a grid and a few integrated trajectories.

On the torus the square is [-pi, pi)^2; an objective on R^2 is drawn in its box,
and has no Fourier series (so no orders)."""

import math
import time
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._equilibria import Equilibria, find_equilibria
from ._errors import InputError
from ._flow import integrate_flow
from ._fourier import fourier_coefficients
from ._objective import Objective, value, vector_field


@dataclass(frozen=True)
class Panel:
    """One objective of a portrait: the exact F (order None) or its order-N series.

    Attributes:
        label: a short title, e.g. "exact F" or "order 4".
        order: N, or None for the exact objective.
        objective: the objective drawn.
        equilibria: its :class:`Equilibria`.
        sup_error: max |F - F_N| on the Fourier grid (None for the exact F).
        energy_captured: the share of sum |c_k|^2 kept (None for the exact F).
        axis: the grid of angles along each axis of ``heights``, shape (R,).
        heights: F on the grid, shape (R, R), indexed [theta_d, theta_g].
        velocity: the flow on a coarser grid, shape (2, S, S), same indexing.
        stream_axis: the coarse grid's angles, shape (S,).
        paths: integrated trajectories (wrapped to [-pi, pi) on the torus), shape
            (P, T, 2).
        seconds: wall-clock time spent on this panel.
    """

    label: str
    order: int | None
    objective: Objective
    equilibria: Equilibria
    sup_error: float | None
    energy_captured: float | None
    axis: np.ndarray
    heights: np.ndarray
    velocity: np.ndarray
    stream_axis: np.ndarray
    paths: np.ndarray
    seconds: float


def portrait_panels(
    objective: Objective,
    orders: tuple[int, ...] = (1, 2, 4, 8),
    *,
    grid: int = 128,
    starts: int | None = None,
    resolution: int = 160,
    trajectories: int = 5,
    t1: float = 30.0,
) -> list[Panel]:
    """Compute every panel of a phase portrait: the exact objective, then each order.

    Arguments:
        objective: a two-angle objective (one angle per player).
        orders: the truncation orders N to show beside the exact objective.
        grid: M, Fourier grid points per angle; each order needs 2N + 1 <= M.
        starts: Newton starts per angle for the equilibria.
        resolution: the heat map's points per angle.
        trajectories: the trajectories start on a ``trajectories`` squared grid.
        t1: how long each trajectory is integrated.

    Returns:
        A list of :class:`Panel`, the exact objective first.
    """
    if objective.n != 2:
        raise InputError(
            f"portrait: a phase portrait draws one angle per player, but the objective "
            f"has {objective.n_g} + {objective.n_d} angles; use `jaxfgan equilibria` "
            f"or `jaxfgan fourier` for more angles"
        )
    if orders and objective.box is not None:
        raise InputError(
            "portrait: the Fourier series needs the torus, but the objective lives "
            "on R^2 (it has a box); draw it with orders=()"
        )
    start = time.perf_counter()
    coefficients = fourier_coefficients(objective, grid) if orders else None
    panels = [
        _panel(
            "exact F",
            None,
            objective,
            None,
            None,
            start,
            starts,
            resolution,
            trajectories,
            t1,
        )
    ]
    for order in orders:
        begin = time.perf_counter()
        series = same_flow(objective, coefficients.truncate(order))
        panels.append(
            _panel(
                f"order {order}",
                order,
                series,
                coefficients.sup_error(order),
                coefficients.energy_captured(order),
                begin,
                starts,
                resolution,
                trajectories,
                t1,
            )
        )
    return panels


def _panel(
    label,
    order,
    objective,
    sup_error,
    energy,
    begin,
    starts,
    resolution,
    trajectories,
    t1,
) -> Panel:
    lo, hi = square(objective)
    axis = np.linspace(lo, hi, resolution)
    stream_axis = np.linspace(lo, hi, 41)
    return Panel(
        label=label,
        order=order,
        objective=objective,
        equilibria=find_equilibria(objective, starts=starts),
        sup_error=sup_error,
        energy_captured=energy,
        axis=axis,
        heights=np.asarray(_on_grid(objective, jnp.asarray(axis), False)),
        velocity=np.asarray(_on_grid(objective, jnp.asarray(stream_axis), True)),
        stream_axis=stream_axis,
        paths=_paths(objective, trajectories, t1),
        seconds=time.perf_counter() - begin,
    )


@eqx.filter_jit
def _on_grid(objective: Objective, axis, velocity: bool):
    """F (or the flow, stacked (2, S, S)) at (theta_g, theta_d) = (axis[j], axis[i])."""
    g, d = jnp.meshgrid(axis, axis, indexing="xy")
    points = jnp.stack([g.ravel(), d.ravel()], axis=1)
    if velocity:
        flow = jax.vmap(lambda z: vector_field(objective, z))(points)
        return flow.T.reshape(2, axis.size, axis.size)
    return jax.vmap(lambda z: value(objective, z))(points).reshape(axis.size, axis.size)


def square(objective: Objective) -> tuple[float, float]:
    """The drawn range of each coordinate: [-pi, pi] on the torus, else the box."""
    return (-math.pi, math.pi) if objective.box is None else objective.box


def same_flow(objective: Objective, series: Objective) -> Objective:
    """The series with the objective's flow transform (its regulariser), if any."""
    with_base = getattr(objective, "with_base", None)
    return series if with_base is None else with_base(series)


def _paths(objective: Objective, per_axis: int, t1: float) -> np.ndarray:
    lo, hi = square(objective)
    width = hi - lo
    line = lo + (np.arange(per_axis) + 0.5) * width / per_axis + 0.21 * width / 6.3
    g, d = np.meshgrid(line, line)
    starts = np.stack([g.ravel(), d.ravel()], axis=1)
    ts = np.linspace(0.0, t1, 500)
    sol = integrate_flow(objective, starts, t1, ts=ts, rtol=1e-7, atol=1e-9)
    if objective.box is not None:
        return np.asarray(sol.ys)
    return np.mod(np.asarray(sol.ys) + math.pi, 2 * math.pi) - math.pi
