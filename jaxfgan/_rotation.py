"""Rotation against contraction at a spiral: turns per e-fold of contraction.

Near a spiral equilibrium with eigenvalues alpha +- i omega (alpha != 0), a
trajectory turns omega / (2 pi) times per unit time while its distance changes by
the factor exp(alpha) per unit time, so it makes |omega| / (2 pi |alpha|) turns
while its distance shrinks (or grows) by a factor e. Many turns per e-fold is the
slow, circling convergence of GAN training. The measurement follows a trajectory
from a start close to the equilibrium through successive returns to a half-line
section from it: in the linear flow the return time is exactly 2 pi / omega and the
distance ratio of two returns exactly exp(2 pi alpha / omega), whatever the
(non-normal) Jacobian, so turns / log(distance ratio) converges to the predicted
number as the start approaches the equilibrium (error O(radius)).
"""

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from ._equilibria import Equilibrium
from ._errors import InputError
from ._flow import integrate_flow
from ._objective import TWO_PI, Objective, flow_jacobian
from ._orbits import (
    ATOL,
    RTOL,
    Section,
    crossing_point,
    crossings,
    field_function,
    plane_cross,
)


@dataclass(frozen=True)
class Rotation:
    """Turns per e-fold of contraction at a spiral, predicted and measured.

    Attributes:
        theta: the spiral equilibrium.
        predicted: |Im lambda| / (2 pi |Re lambda|) from its spectrum.
        measured: turns / log(distance ratio) along a trajectory.
        turns: the whole turns measured.
    """

    theta: np.ndarray
    predicted: float
    measured: float
    turns: int

    @property
    def relative_difference(self) -> float:
        return abs(self.measured - self.predicted) / self.predicted

    def to_json(self) -> dict:
        return {
            "theta": [float(x) for x in self.theta],
            "predicted_turns_per_efold": self.predicted,
            "measured_turns_per_efold": self.measured,
            "relative_difference": self.relative_difference,
        }


def rotation_contraction(
    objective: Objective,
    spiral: Equilibrium,
    *,
    radius: float = 1e-4,
    turns: int = 4,
) -> Rotation:
    """Measure the turns per e-fold of contraction at a spiral and predict them.

    Arguments:
        objective: a two-angle objective.
        spiral: a spiral attractor or repeller from :func:`find_equilibria`.
        radius: the start's distance from the spiral, along theta_g.
        turns: how many returns to the section to follow.

    Returns:
        A :class:`Rotation`.

    Example: at the exponential GAN's Nash point, lambda = (-1 +- i sqrt(15)) / 4,
        so sqrt(15) / (2 pi) = 0.616 turns per e-fold.
        >>> from jaxfgan import classify, exponential_gan
        >>> F = exponential_gan()
        >>> rotation = rotation_contraction(F, classify(F, [0.0, 0.0]))
        >>> round(rotation.predicted, 4), round(rotation.measured, 4)
        (0.6164, 0.6164)
    """
    if spiral.kind not in ("spiral attractor", "spiral repeller") or objective.n != 2:
        raise InputError(
            f"rotation_contraction: needs a spiral of a two-angle objective, got a "
            f"{spiral.kind} of {objective.n} angles"
        )
    eigenvalue = spiral.eigenvalues[np.argmax(spiral.eigenvalues.imag)]
    alpha, omega = float(eigenvalue.real), float(eigenvalue.imag)
    predicted = omega / (TWO_PI * abs(alpha))
    section = _section(objective, spiral)
    period = TWO_PI / omega
    t1 = (turns + 0.5) * period
    ts = np.linspace(0.0, t1, int(256 * (turns + 0.5)) + 1)
    path = np.asarray(
        integrate_flow(
            objective, section.point(radius), t1, ts=ts, rtol=RTOL, atol=ATOL
        ).ys
    )
    field_at = field_function(objective)
    found = crossings(path, section)[:turns]
    _, last, _ = crossing_point(path, ts, int(found[-1]), section, field_at)
    distance = float(np.linalg.norm(last - spiral.theta))
    measured = len(found) / abs(math.log(radius / distance))
    return Rotation(spiral.theta, predicted, measured, len(found))


def _section(objective: Objective, spiral: Equilibrium) -> Section:
    """The half-line theta + s e_g (s > 0), crossed in the flow's sense of turning."""
    along = np.array([1.0, 0.0])
    jac = np.asarray(flow_jacobian(objective, jnp.asarray(spiral.theta)))
    turning = np.sign(plane_cross(along, jac @ along))
    return Section(spiral.theta, along, turning * np.array([0.0, 1.0]), 0.0, math.inf)
