"""Drawing a basin map with matplotlib: the basins, and the time to settle."""

import math

import matplotlib

matplotlib.use("Agg")  # files only; the library never opens a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from ._basins import UNSETTLED, BasinMap  # noqa: E402
from ._plot import MARKERS  # noqa: E402

_PALETTE = ["#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377"]
_UNSETTLED_COLOUR = "#222222"
_TICKS = [-math.pi, -math.pi / 2, 0.0, math.pi / 2, math.pi]
_TICK_LABELS = ["$-\\pi$", "$-\\pi/2$", "0", "$\\pi/2$", "$\\pi$"]


def plot_basins(basins: BasinMap, title: str | None = None) -> plt.Figure:
    """Two panels: each start coloured by the attractor it reached (paler where the
    trajectory wrapped around the torus, black where it settled nowhere), and the
    time it took to come within epsilon; every equilibrium marked by kind.

    Arguments:
        basins: from :func:`jaxfgan.basin_map`.
        title: an optional title over the figure.

    Returns:
        The matplotlib figure.
    """
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(12.5, 6.2), layout="constrained", squeeze=True
    )
    colours = [_PALETTE[k % len(_PALETTE)] for k in range(basins.size)]
    _draw_labels(left, basins, colours)
    image = _draw_times(right, basins)
    fig.colorbar(
        image, ax=right, shrink=0.8, label=f"time to within {basins.epsilon:g}"
    )
    for ax in (left, right):
        _draw_equilibria(ax, basins)
        _axes(ax)
    left.set_title(f"basins ({basins.axis.size}$^2$ starts, t1 = {basins.t1:g})")
    right.set_title("time to settle (white: unsettled)")
    fig.legend(
        handles=_legend(basins, colours),
        loc="outside lower center",
        ncols=2,
        fontsize=8,
    )
    if title:
        fig.suptitle(title)
    return fig


def _draw_labels(ax, basins: BasinMap, colours) -> None:
    wrapped = np.any(basins.winding != 0, axis=-1)
    index = np.where(basins.labels == UNSETTLED, 0, basins.labels + 1)
    index = np.where(wrapped & (basins.labels != UNSETTLED), index + basins.size, index)
    pale = [_pale(c) for c in colours]
    cmap = ListedColormap([_UNSETTLED_COLOUR, *colours, *pale])
    ax.imshow(
        index,
        origin="lower",
        extent=(-math.pi, math.pi, -math.pi, math.pi),
        cmap=cmap,
        vmin=-0.5,
        vmax=2 * basins.size + 0.5,
        interpolation="nearest",
    )


def _draw_times(ax, basins: BasinMap):
    return ax.imshow(
        np.ma.masked_invalid(basins.times),
        origin="lower",
        extent=(-math.pi, math.pi, -math.pi, math.pi),
        cmap="magma",
        interpolation="nearest",
    )


def _draw_equilibria(ax, basins: BasinMap) -> None:
    for point in basins.equilibria.points:
        style = MARKERS[point.kind]
        for theta in _torus_copies(point.theta):
            ax.plot(
                *theta,
                linestyle="",
                marker=style["marker"],
                markerfacecolor=style["color"],
                markeredgecolor="black",
                markersize=8,
                clip_on=True,
            )


def _torus_copies(theta: np.ndarray) -> list[np.ndarray]:
    shifts = [np.array([a, b]) for a in (0, 2 * math.pi) for b in (0, 2 * math.pi)]
    return [theta + s for s in shifts if np.all(theta + s <= math.pi + 1e-9)]


def _axes(ax) -> None:
    ax.set(
        xlim=(-math.pi, math.pi),
        ylim=(-math.pi, math.pi),
        aspect="equal",
        xlabel="$\\theta_G$ (rad)",
        ylabel="$\\theta_D$ (rad)",
    )
    ax.set_xticks(_TICKS, _TICK_LABELS)
    ax.set_yticks(_TICKS, _TICK_LABELS)


def _legend(basins: BasinMap, colours) -> list:
    handles = []
    for point, colour, share in zip(
        basins.attractors, colours, basins.fractions, strict=True
    ):
        theta = ", ".join(f"{x:.3f}" for x in point.theta)
        nash = ", Nash" if point.nash else ""
        handles.append(
            Patch(
                facecolor=colour,
                label=f"{point.kind} ({theta}){nash}: {100 * share:.1f}% of starts",
            )
        )
    if basins.size:
        handles.append(Patch(facecolor=_pale(colours[0]), label="paler: wrapped"))
    for reason, share in basins.reasons().items():
        short = reason.split(":")[0]
        handles.append(
            Patch(
                facecolor=_UNSETTLED_COLOUR,
                label=f"unsettled, {short}: {100 * share:.1f}%",
            )
        )
    if not basins.reasons():
        handles.append(Patch(facecolor=_UNSETTLED_COLOUR, label="unsettled: 0%"))
    return handles


def _pale(colour: str) -> tuple[float, float, float]:
    rgb = np.array(matplotlib.colors.to_rgb(colour))
    return tuple(0.45 * rgb + 0.55)
