"""Drawing periodic orbits over F, and the period against amplitude of families."""

import math

import matplotlib

matplotlib.use("Agg")  # files only; the library never opens a window

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from ._equilibria import Equilibria  # noqa: E402
from ._objective import Objective, value  # noqa: E402
from ._orbits import OrbitFamily, PeriodicOrbit  # noqa: E402
from ._plot import MARKERS  # noqa: E402

_TICKS = [-math.pi, -math.pi / 2, 0.0, math.pi / 2, math.pi]
_TICK_LABELS = ["$-\\pi$", "$-\\pi/2$", "0", "$\\pi/2$", "$\\pi$"]
_STYLE = {
    "closed": dict(color="white", linewidth=0.9),
    "limit cycle": dict(color="#ff3b3b", linewidth=2.0),
}


def plot_orbits(
    objective: Objective,
    equilibria: Equilibria,
    orbits: list[PeriodicOrbit],
    families: list[OrbitFamily],
    title: str | None = None,
) -> plt.Figure:
    """F as a heat map with every periodic orbit and equilibrium drawn on it, and
    beside it each family's period against amplitude.

    Returns:
        The matplotlib figure.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.6), layout="constrained")
    axis = np.linspace(-math.pi, math.pi, 160)
    image = left.pcolormesh(
        axis,
        axis,
        np.asarray(_heights(objective, jnp.asarray(axis))),
        cmap="viridis",
        shading="auto",
        rasterized=True,
    )
    fig.colorbar(image, ax=left, shrink=0.8, label="F($\\theta_G$, $\\theta_D$)")
    for orbit in orbits:
        left.plot(*_broken(orbit.path).T, **_STYLE[orbit.kind])
    _draw_equilibria(left, equilibria)
    left.set(
        xlim=(-math.pi, math.pi),
        ylim=(-math.pi, math.pi),
        aspect="equal",
        xlabel="$\\theta_G$ (rad)",
        ylabel="$\\theta_D$ (rad)",
        title=f"{len(orbits)} periodic orbits",
    )
    left.set_xticks(_TICKS, _TICK_LABELS)
    left.set_yticks(_TICKS, _TICK_LABELS)
    _draw_families(right, families)
    left.legend(handles=_legend(), loc="upper right", fontsize=7, framealpha=0.8)
    if title:
        fig.suptitle(title)
    return fig


def _draw_families(ax, families: list[OrbitFamily]) -> None:
    for family in families:
        centre = ", ".join(f"{x:.2f}" for x in family.center)
        line = ax.plot(
            family.amplitudes, family.periods, marker="o", label=f"around ({centre})"
        )[0]
        ax.axhline(
            family.small_amplitude_period,
            color=line.get_color(),
            linestyle=":",
            linewidth=0.8,
        )
    ax.set(
        xlabel="amplitude (rad)",
        ylabel="period",
        title="closed orbits: period against amplitude "
        "(dotted: 2$\\pi$/|Im $\\lambda$|)",
    )
    if families:
        ax.legend(fontsize=8)
    else:
        ax.text(
            0.5, 0.5, "no family of closed orbits", ha="center", transform=ax.transAxes
        )


def _draw_equilibria(ax, equilibria: Equilibria) -> None:
    for point in equilibria.points:
        style = MARKERS[point.kind]
        shifts = [np.array([a, b]) for a in (0, 2 * math.pi) for b in (0, 2 * math.pi)]
        for shift in shifts:
            theta = point.theta + shift
            if np.all(theta <= math.pi + 1e-9):
                ax.plot(
                    *theta,
                    linestyle="",
                    marker=style["marker"],
                    markersize=8,
                    markerfacecolor=style["color"],
                    markeredgecolor="black",
                )


def _legend() -> list:
    return [
        Line2D([], [], label="closed orbit", **_STYLE["closed"]),
        Line2D([], [], label="limit cycle", **_STYLE["limit cycle"]),
    ]


def _broken(path: np.ndarray) -> np.ndarray:
    wrapped = np.mod(path + math.pi, 2 * math.pi) - math.pi
    jumps = np.any(np.abs(np.diff(wrapped, axis=0)) > math.pi, axis=1)
    return np.insert(wrapped, np.nonzero(jumps)[0] + 1, np.nan, axis=0)


@eqx.filter_jit
def _heights(objective: Objective, axis):
    g, d = jnp.meshgrid(axis, axis, indexing="xy")
    points = jnp.stack([g.ravel(), d.ravel()], axis=1)
    return jax.vmap(lambda z: value(objective, z))(points).reshape(axis.size, -1)
