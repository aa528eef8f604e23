"""Drawing discrete training runs side by side: one column per method, the
trajectories over the portrait above, the distance to the equilibria below."""

import math
import textwrap

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from ._equilibria import Equilibria
from ._objective import Objective
from ._plot import _broken, marker_handle, set_square
from ._portrait import _on_grid, square
from ._training import CONVERGED_TOL, converged_fraction, nearest_distance

VERDICT_COLOURS = {
    "converges": "#1a9850",
    "oscillates": "#fdae61",
    "diverges": "#d73027",
}
"""The colour of each verdict, on the equilibria and in the titles."""

SHOWN = 6
"""Trajectories drawn in the plane; the distance panel shows every start."""


def plot_training(
    objective: Objective, found: Equilibria, results: list, title: str | None = None
) -> plt.Figure:
    """Draw each method's runs: trajectories over F and the flow, equilibria
    coloured by the method's verdict, and the distance to the nearest equilibrium
    against the step.

    Arguments:
        objective: the game (two parameters).
        found: its equilibria.
        results: (method, :class:`TrainingRun`, assessments) per method.
        title: an optional title over the figure.

    Returns:
        The matplotlib figure.
    """
    columns = min(len(results), 3)
    groups = math.ceil(len(results) / columns)
    fig, axes = plt.subplots(
        2 * groups,
        columns,
        figsize=(max(4.4 * columns, 6.4), 7.4 * groups),
        squeeze=False,
        layout="constrained",
        height_ratios=[3, 1.5] * groups,
    )
    background = _background(objective)
    for index, (method, run, verdicts) in enumerate(results):
        row, column = 2 * (index // columns), index % columns
        colours = _start_colours(run.path.shape[0])
        _draw_plane(axes[row, column], objective, background, run, verdicts, colours)
        axes[row, column].set_title(_title(method, verdicts, objective, run, found))
        _draw_distance(axes[row + 1, column], objective, run, found, colours)
    for index in range(len(results), groups * columns):
        row, column = 2 * (index // columns), index % columns
        axes[row, column].axis("off")
        axes[row + 1, column].axis("off")
    _legend(fig, columns)
    if title:
        fig.suptitle(textwrap.fill(title, 40 * columns + 30), fontsize=11)
    return fig


def _background(objective: Objective) -> tuple:
    lo, hi = square(objective)
    axis = np.linspace(lo, hi, 120)
    stream_axis = np.linspace(lo, hi, 31)
    heights = np.asarray(_on_grid(objective, jnp.asarray(axis), False))
    velocity = np.asarray(_on_grid(objective, jnp.asarray(stream_axis), True))
    return axis, heights, stream_axis, velocity


def _start_colours(count: int) -> np.ndarray:
    return plt.get_cmap("turbo")(np.linspace(0.05, 0.95, count))


def _draw_plane(ax, objective, background, run, verdicts, colours) -> None:
    axis, heights, stream_axis, velocity = background
    ax.pcolormesh(axis, axis, heights, cmap="Greys", shading="auto", alpha=0.35)
    ax.streamplot(
        stream_axis,
        stream_axis,
        velocity[0],
        velocity[1],
        color="#9e9e9e",
        linewidth=0.4,
        density=0.7,
        arrowsize=0.5,
    )
    for index in _shown(run.path.shape[0]):
        drawn = _wrapped(objective, run.path[index])
        colour = colours[index]
        ax.plot(*drawn.T, color=colour, linewidth=0.7, alpha=0.9)
        ax.plot(*drawn[0], marker="o", color=colour, markersize=4)
        ax.plot(*drawn[-1], marker="s", color=colour, markersize=5, mec="black")
    for item in verdicts:
        ax.scatter(
            *item.theta,
            s=110 if item.nash else 60,
            marker="o" if item.nash else "X",
            facecolor=VERDICT_COLOURS[item.verdict],
            edgecolor="black",
            linewidth=1.2,
            zorder=5,
        )
    set_square(ax, objective)


def _shown(count: int) -> np.ndarray:
    """At most SHOWN starts, spread over the batch: more spirals hide each other."""
    return np.unique(np.linspace(0, count - 1, min(count, SHOWN)).round().astype(int))


def _wrapped(objective: Objective, path: np.ndarray) -> np.ndarray:
    if objective.box is not None:
        return path
    return _broken(np.mod(path + math.pi, 2 * math.pi) - math.pi)


def _draw_distance(ax, objective, run, found, colours) -> None:
    targets = [point.theta for point in found.points]
    batch, saved, n = run.path.shape
    flat = np.nan_to_num(run.path.reshape(-1, n), nan=np.inf)
    gaps = nearest_distance(objective, flat, targets).reshape(batch, saved)
    gaps = np.clip(gaps, 1e-14, None)  # below this it is round-off
    for gap, colour in zip(gaps, colours, strict=True):
        ax.semilogy(run.steps, gap, color=colour, linewidth=0.6, alpha=0.6)
    ax.semilogy(run.steps, np.median(gaps, axis=0), color="black", linewidth=1.6)
    ax.axhline(CONVERGED_TOL, color="black", linestyle=":", linewidth=0.8)
    ax.set(xlabel="step", ylabel="distance to nearest\nequilibrium")
    finite = gaps[np.isfinite(gaps)]
    top = float(finite.max()) if finite.size else 10.0
    ax.set_ylim(max(3e-15, float(finite.min(initial=top)) / 3), top * 3)


def _title(method, verdicts, objective, run, found) -> str:
    rates = f"lr {float(method.lr):g}"
    if float(method.lr_d) != float(method.lr):
        rates += f", lr-d {float(method.lr_d):g}"
    if method.name == "momentum":
        rates += f", beta {float(method.momentum):g}"
    if method.name == "altgd":
        rates += f", {method.g_steps}:{method.d_steps}"
    nash = [item for item in verdicts if item.nash] or verdicts
    worst = max(nash, key=lambda item: item.spectral_radius, default=None)
    line = "no equilibrium found"
    if worst is not None:
        label = "Nash" if worst.nash else "equilibrium"
        line = f"{label}: ρ {worst.spectral_radius:.5g}, {worst.verdict}"
    share = converged_fraction(objective, run, found.points)
    return f"{method.name} ({rates})\n{line}\n{100 * share:.0f}% of starts converged"


def _legend(fig, columns: int) -> None:
    relations = ("<", "=", ">")
    handles = [
        marker_handle("o", f"{verdict} (ρ {relation} 1)", size=9, face=colour)
        for relation, (verdict, colour) in zip(
            relations, VERDICT_COLOURS.items(), strict=True
        )
    ]
    handles.append(marker_handle("X", "not Nash (circle: Nash)"))
    handles.append(marker_handle("s", "end of a run (dot: start)", size=6))
    handles.append(Line2D([], [], color="black", linewidth=1.6, label="median"))
    handles.append(
        Line2D(
            [],
            [],
            color="black",
            linestyle=":",
            label=f"converged below {CONVERGED_TOL:g}",
        )
    )
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=2 if columns == 1 else 4,
        fontsize=9,
    )
