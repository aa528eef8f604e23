"""Rotation against contraction at a spiral: turns per e-fold of contraction.

Near a spiral equilibrium with eigenvalues alpha +- i omega (alpha != 0), a
trajectory turns omega / (2 pi) times per unit time while its distance changes by
the factor exp(alpha) per unit time, so it makes |omega| / (2 pi |alpha|) turns
while its distance shrinks (or grows) by a factor e. Many turns per e-fold is the
slow, circling convergence of GAN training. The measurement follows a trajectory
from a start close to the equilibrium through its crossings of a line through it:
in the linear flow consecutive crossings are exactly pi / omega apart and the
distance ratio of two of them exactly exp(pi alpha / omega), whatever the
(non-normal) Jacobian, so half-turns / log(distance ratio) converges to the
predicted number as the start approaches the equilibrium (error O(radius)).
"""

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from ._equilibria import Equilibrium
from ._errors import InputError
from ._flow import integrate_flow
from ._objective import TWO_PI, Objective
from ._orbits import RTOL, field_function, hermite
from ._typing import Array


@dataclass(frozen=True)
class Rotation:
    """Turns per e-fold of contraction at a spiral, predicted and measured.

    Attributes:
        theta: the spiral equilibrium.
        predicted: |Im lambda| / (2 pi |Re lambda|) from its spectrum.
        measured: turns / log(distance ratio) along a trajectory.
        turns: the turns measured (a multiple of 1/2).
    """

    theta: np.ndarray
    predicted: float
    measured: float
    turns: float

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

    The flow is integrated in displacement coordinates w = z - theta (so the
    tolerances apply to the small displacement, not to the angles) from
    w = (radius, 0), and every crossing of the line through the spiral along
    theta_g is located: in the linear flow each is exactly half a turn later and
    exp(pi Re(lambda) / |Im(lambda)|) times as far. At most ``turns`` turns are
    followed, fewer when they would contract by more than about e^10.

    Arguments:
        objective: a two-angle objective.
        spiral: a spiral attractor or repeller from :func:`find_equilibria`.
        radius: the start's distance from the spiral, along theta_g.
        turns: the most turns to follow.

    Returns:
        A :class:`Rotation`.

    Notes:
        A spiral with |Im(lambda) / Re(lambda)| below about 0.3 contracts by more
        than e^10 in half a turn; its measurement then loses accuracy to round-off.

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
    half_turns = max(1, min(2 * turns, int(20 * predicted)))  # <= ~10 e-folds
    shifted = _Shifted(
        n_g=1, n_d=1, base=objective, shift=jnp.asarray(spiral.theta, dtype=float)
    )
    t1 = (half_turns + 1) * math.pi / omega
    ts = np.linspace(0.0, t1, 128 * (half_turns + 1) + 1)
    start = np.array([radius, 0.0])
    solution = integrate_flow(shifted, start, t1, ts=ts, rtol=RTOL, atol=1e-20)
    path = np.asarray(solution.ys)
    normal = np.array([0.0, 1.0])
    found = np.nonzero((path[:-1] @ normal) * (path[1:] @ normal) < 0)[0]
    if found.size < half_turns:
        raise InputError(
            f"rotation_contraction: the trajectory from {spiral.theta.tolist()} "
            f"crossed its section {found.size} times, expected {half_turns}"
        )
    last = _line_crossing(path, ts, int(found[half_turns - 1]), normal, shifted)
    distance = float(np.linalg.norm(last))
    measured = 0.5 * half_turns / abs(math.log(radius / distance))
    return Rotation(spiral.theta, predicted, measured, half_turns / 2)


class _Shifted(Objective):
    """F(theta + w) as a function of the displacement w from theta."""

    base: Objective
    shift: Array

    def __call__(self, theta_g: Array, theta_d: Array) -> Array:
        z = jnp.concatenate([theta_g, theta_d]) + self.shift
        return self.base(z[: self.base.n_g], z[self.base.n_g :])


def _line_crossing(path, ts, k, normal, objective) -> np.ndarray:
    """Where the path crosses the line w . normal = 0 between samples k and k+1."""
    field_at = field_function(objective)
    h = ts[k + 1] - ts[k]
    z0, z1 = path[k], path[k + 1]
    v0, v1 = field_at(z0), field_at(z1)
    sign = np.sign(z0 @ normal)
    low, high = 0.0, 1.0
    for _ in range(60):  # bisection on the cubic Hermite interpolant
        middle = 0.5 * (low + high)
        side = sign * (hermite(z0, z1, v0, v1, h, middle) @ normal)
        low, high = (middle, high) if side > 0 else (low, middle)
    return hermite(z0, z1, v0, v1, h, 0.5 * (low + high))
