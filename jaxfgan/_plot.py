"""Drawing phase portraits with matplotlib."""

import math

import matplotlib

matplotlib.use("Agg")  # files only; the library never opens a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from ._portrait import Panel  # noqa: E402

MARKERS = {
    "spiral attractor": dict(marker="o", color="#e41a1c"),
    "node attractor": dict(marker="s", color="#e41a1c"),
    "spiral repeller": dict(marker="o", color="#ff9f1c"),
    "node repeller": dict(marker="s", color="#ff9f1c"),
    "center": dict(marker="o", color="#ffffff"),
    "saddle": dict(marker="X", color="#3fc1ff"),
    "degenerate": dict(marker="D", color="#9e9e9e"),
}
"""How each kind of equilibrium is drawn."""

_TICKS = [-math.pi, -math.pi / 2, 0.0, math.pi / 2, math.pi]
_TICK_LABELS = ["$-\\pi$", "$-\\pi/2$", "0", "$\\pi/2$", "$\\pi$"]


def plot_portrait(panels: list[Panel], title: str | None = None) -> plt.Figure:
    """Draw one panel per objective: F as a heat map, streamlines of the flow,
    integrated trajectories and the equilibria marked by kind (Nash ones ringed).

    Arguments:
        panels: from :func:`jaxfgan.portrait_panels`.
        title: an optional title over the figure.

    Returns:
        The matplotlib figure (save it with ``fig.savefig``).
    """
    slots = len(panels) + 1  # the last slot holds the legend
    columns = slots if slots <= 4 else 3
    rows = math.ceil(slots / columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(4.6 * columns, 4.4 * rows),
        squeeze=False,
        layout="constrained",
    )
    limits = _colour_limits(panels)
    for ax, panel in zip(axes.flat, panels, strict=False):
        image = _draw_panel(ax, panel, limits)
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    fig.colorbar(image, ax=axes, shrink=0.6, label="F($\\theta_G$, $\\theta_D$)")
    _legend(axes, panels)
    if title:
        fig.suptitle(title)
    return fig


def _draw_panel(ax, panel: Panel, limits):
    image = ax.pcolormesh(
        panel.axis,
        panel.axis,
        panel.heights,
        cmap="viridis",
        vmin=limits[0],
        vmax=limits[1],
        shading="auto",
        rasterized=True,
    )
    ax.streamplot(
        panel.stream_axis,
        panel.stream_axis,
        panel.velocity[0],
        panel.velocity[1],
        color="white",
        linewidth=0.5,
        density=0.9,
        arrowsize=0.6,
    )
    for path in panel.paths:
        path = _broken(path) if panel.objective.box is None else path
        ax.plot(*path.T, color="black", linewidth=0.9, alpha=0.8)
        ax.plot(*path[0], marker=".", color="black", markersize=3)
    _draw_equilibria(ax, panel)
    ax.set_title(_panel_title(panel), fontsize=10)
    set_square(ax, panel.objective)
    return image


def set_square(ax, objective) -> None:
    """Limits, labels and ticks: angles in [-pi, pi] on the torus, else the box."""
    box = objective.box
    unit = " (rad)" if box is None else ""
    box = (-math.pi, math.pi) if box is None else box
    ax.set(
        xlim=box,
        ylim=box,
        aspect="equal",
        xlabel=f"$\\theta_G${unit}",
        ylabel=f"$\\theta_D${unit}",
    )
    if objective.box is None:
        ax.set_xticks(_TICKS, _TICK_LABELS)
        ax.set_yticks(_TICKS, _TICK_LABELS)


def _draw_equilibria(ax, panel: Panel) -> None:
    for point in panel.equilibria.points:
        copies = (
            _torus_copies(point.theta) if panel.equilibria.torus else point.theta[None]
        )
        style = MARKERS[point.kind]
        ax.scatter(
            copies[:, 0],
            copies[:, 1],
            s=50,
            marker=style["marker"],
            facecolor=style["color"],
            edgecolor="black",
            linewidth=0.9,
            zorder=5,
        )
        if point.nash:  # a black ring inside a white one shows on light and dark
            for colour, width in (("white", 3.2), ("black", 1.4)):
                ax.scatter(
                    copies[:, 0],
                    copies[:, 1],
                    s=220,
                    marker="o",
                    facecolor="none",
                    edgecolor=colour,
                    linewidth=width,
                    zorder=4,
                )


def _torus_copies(theta: np.ndarray) -> np.ndarray:
    """A point on the edge -pi of the square is drawn at +pi too."""
    shifts = [np.array([a, b]) for a in (0, 2 * math.pi) for b in (0, 2 * math.pi)]
    copies = [theta + s for s in shifts if np.all(theta + s <= math.pi + 1e-9)]
    return np.array(copies)


def _panel_title(panel: Panel) -> str:
    found = panel.equilibria
    check = "index sum 0" if found.poincare_hopf_ok else f"index sum {found.index_sum}!"
    if not found.torus:
        check = "on $R^2$: no index check"
    if panel.order is None:
        return f"{panel.label} ({check})"
    return f"{panel.label}: sup error {panel.sup_error:.2g} ({check})"


def _broken(path: np.ndarray) -> np.ndarray:
    """NaN between points where the wrapped path jumps across the square's edge."""
    jumps = np.any(np.abs(np.diff(path, axis=0)) > math.pi, axis=1)
    return np.insert(path, np.nonzero(jumps)[0] + 1, np.nan, axis=0)


def _colour_limits(panels: list[Panel]) -> tuple[float, float]:
    """One colour scale for every panel, so that equal colours mean equal F."""
    return (
        float(min(np.min(panel.heights) for panel in panels)),
        float(max(np.max(panel.heights) for panel in panels)),
    )


def marker_handle(marker: str, label: str, *, size=8, face="white", **style):
    """A legend entry that is a marker alone, edged in black."""
    return Line2D(
        [],
        [],
        linestyle="",
        marker=marker,
        markersize=size,
        markerfacecolor=face,
        markeredgecolor="black",
        label=label,
        **style,
    )


def _legend(axes, panels: list[Panel]) -> None:
    kinds = sorted(
        {p.kind for panel in panels for p in panel.equilibria.points},
        key=list(MARKERS).index,
    )
    handles = [
        marker_handle(MARKERS[k]["marker"], k, face=MARKERS[k]["color"]) for k in kinds
    ]
    handles += [
        marker_handle(
            "o", "Nash equilibrium (ring)", size=13, face="none", markeredgewidth=1.4
        ),
        Line2D(
            [],
            [],
            color="black",
            marker=".",
            markevery=[0],
            markersize=6,
            label="trajectory (dot: start)",
        ),
        Line2D([], [], color="#bbbbbb", label="streamline of the flow"),
    ]
    axes.flat[len(panels)].legend(
        handles=handles, loc="center", frameon=False, title="equilibria"
    )
