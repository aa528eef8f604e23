"""Drawing a truncation study: its accuracy curves against the order N."""

import matplotlib.pyplot as plt
import numpy as np

from ._truncation import TruncationStudy

_ERRORS = (
    ("sup_error", "sup |F - F_N|", "#1f77b4", "o"),
    ("field_error", "sup |v - v_N| (flow)", "#ff7f0e", "s"),
    ("missed_energy", "1 - energy kept", "#2ca02c", "^"),
    ("eigenvalue_error", "eigenvalue error (all paired)", "#d62728", "D"),
    ("nash_eigenvalue_error", "eigenvalue error (Nash points)", "#e377c2", "P"),
    ("trajectory_error", "trajectory distance", "#9467bd", "v"),
    ("aliasing_error", "aliasing estimate (M vs 2M)", "#7f7f7f", "x"),
)


def plot_truncation(
    study: TruncationStudy, target_error: float | None = None, title: str | None = None
) -> plt.Figure:
    """Three panels against N: the errors (log scale), the equilibria paired, missing
    and spurious, and the seconds each order costs (log scale).

    Arguments:
        study: from :func:`jaxfgan.truncation_study`.
        target_error: drawn as a horizontal line on the errors, if given.
        title: an optional title over the figure.

    Returns:
        The matplotlib figure (save it with ``fig.savefig``).
    """
    fig, axes = plt.subplots(
        1, 3, figsize=(15, 5.4), layout="constrained", width_ratios=(1.6, 1, 1)
    )
    orders = np.array([row.order for row in study.orders])
    _draw_errors(axes[0], study, orders, target_error)
    _draw_equilibria(axes[1], study, orders)
    _draw_seconds(axes[2], study, orders)
    for ax in axes:
        ax.set_xlabel("truncation order N")
        ax.grid(True, which="major", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _draw_errors(ax, study, orders, target_error) -> None:
    for key, label, colour, marker in _ERRORS:
        values = np.array([_error(row, key) for row in study.orders], dtype=float)
        values = np.where(values > 0, values, np.nan)  # 0 has no place on a log axis
        if key == "trajectory_error":
            label += f" at t = {study.t1:g}"
        style = dict(linestyle="--", linewidth=1.0) if key == "aliasing_error" else {}
        ax.plot(orders, values, marker=marker, markersize=4, color=colour, **style)
        ax.lines[-1].set_label(label)
    if target_error is not None:
        ax.axhline(target_error, color="black", linewidth=0.8, linestyle=":")
        ax.lines[-1].set_label(f"target {target_error:g}")
    ax.set(yscale="log", title="errors of the order-N series (log scale)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3)


def _draw_equilibria(ax, study, orders) -> None:
    exact = len(study.exact_equilibria.points)
    rows = study.orders
    ax.axhline(exact, color="black", linewidth=0.8, linestyle=":")
    ax.lines[-1].set_label(f"exact equilibria ({exact})")
    ax.plot(orders, [r.kinds_agree for r in rows], "o-", color="#2ca02c", ms=4)
    ax.lines[-1].set_label("paired, same kind")
    ax.plot(orders, [r.missing for r in rows], "s-", color="#d62728", ms=4)
    ax.lines[-1].set_label("missing")
    ax.plot(orders, [r.spurious for r in rows], "^-", color="#ff7f0e", ms=4)
    ax.lines[-1].set_label("spurious")
    ax.set(title="equilibria of the series", ylabel="count")
    ax.set_ylim(bottom=-0.5)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)


def _draw_seconds(ax, study, orders) -> None:
    for key, label, marker in (
        ("evaluate_seconds", "evaluate the flow at 4096 points", "o"),
        ("integrate_seconds", f"integrate {len(study.starts)} starts", "s"),
    ):
        values = [getattr(row, key) for row in study.orders]
        if all(value is None for value in values):
            continue
        ax.plot(orders, np.array(values, dtype=float), marker=marker, ms=4)
        ax.lines[-1].set_label(label)
    ax.set(yscale="log", title="cost of an order (compiled, log scale)")
    ax.set_ylabel("seconds")
    if ax.lines:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14))


def _error(row, key: str) -> float:
    if key == "missed_energy":
        return 1.0 - row.energy
    value = getattr(row, key)
    return np.nan if value is None else value
