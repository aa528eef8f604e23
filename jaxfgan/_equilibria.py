"""Equilibria of the training flow: found by Newton's method, classified by spectrum.

An equilibrium z* has v(z*) = 0 for the flow v = (-grad_g F, +grad_d F). Its kind
comes from the eigenvalues of the Jacobian J = dv/dz at z*; its Poincare-Hopf index
is sign(det J) when J is invertible (for two angles, the winding number of v around
z* otherwise). On the torus the indices of all equilibria sum to 0, the Euler
characteristic of a torus, which checks that none was missed. An objective on R^n
(one with a ``box``) is searched inside its box, and has no such check.
"""

import math
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optimistix as optx

from ._errors import InputError
from ._objective import TWO_PI, Objective, flow_jacobian, value, vector_field
from ._typing import ArrayLike

KINDS = (
    "spiral attractor",
    "spiral repeller",
    "center",
    "node attractor",
    "node repeller",
    "saddle",
    "degenerate",
)
"""The kinds an equilibrium can have, from the eigenvalues of the flow's Jacobian."""

ZERO_TOL = 1e-7
"""A real or imaginary part is zero when |part| <= ZERO_TOL * (1 + |lambda|)."""

_DEFAULT_STARTS = {1: 64, 2: 24, 3: 10, 4: 6}
_MAX_AUTO_STARTS = 2**17  # the doubling of default starts stops below this many
MAX_STARTS = 2**20
"""The most Newton starts in all that find_equilibria takes (memory: a few GiB)."""


@dataclass(frozen=True)
class Equilibrium:
    """One equilibrium of the flow.

    Attributes:
        theta: the point (theta_g..., theta_d...), wrapped into [-pi, pi) on the
            torus.
        eigenvalues: the Jacobian's eigenvalues, sorted by real then imaginary part.
        kind: one of :data:`KINDS`.
        nash: theta_g is a local minimum of F(., theta_d) and theta_d a local
            maximum of F(theta_g, .) (flat directions allowed).
        index: the Poincare-Hopf index, +1, -1 or 0.
        value: F at theta.
    """

    theta: np.ndarray
    eigenvalues: np.ndarray
    kind: str
    nash: bool
    index: int
    value: float

    @property
    def stable(self) -> bool:
        """Every eigenvalue has a negative real part (asymptotic stability)."""
        return self.kind in ("spiral attractor", "node attractor")

    def to_json(self) -> dict:
        """The contract's JSON form of one equilibrium."""
        return {
            "theta": [float(x) for x in self.theta],
            "eigenvalues": [[float(e.real), float(e.imag)] for e in self.eigenvalues],
            "kind": self.kind,
            "nash": bool(self.nash),
            "index": int(self.index),
        }


@dataclass(frozen=True)
class Equilibria:
    """All equilibria found, with the Poincare-Hopf check.

    Attributes:
        points: the :class:`Equilibrium` objects, sorted by theta.
        starts: how many Newton starts were used.
        converged: how many starts converged to an equilibrium.
        torus: False for an objective on R^n, searched inside its box only.
    """

    points: list[Equilibrium]
    starts: int
    converged: int
    notes: list[str] = field(default_factory=list)
    torus: bool = True

    @property
    def index_sum(self) -> int:
        return int(sum(point.index for point in self.points))

    @property
    def poincare_hopf_ok(self) -> bool | None:
        """The indices sum to 0 (the torus's Euler characteristic) and none is 0.

        False means an equilibrium was missed or one is degenerate with an index
        that could not be computed; more Newton starts may help. None on R^n, where
        a box has no index sum to meet.
        """
        if not self.torus:
            return None
        return self.index_sum == 0 and all(p.index != 0 for p in self.points)

    def count(self, kind: str) -> int:
        return sum(point.kind == kind for point in self.points)

    def poincare_hopf_message(self) -> str:
        """One sentence on the Poincare-Hopf check, and what to do if it fails."""
        if not self.torus:
            return "on R^n, searched in the box only: no Poincare-Hopf check"
        if self.poincare_hopf_ok:
            return "index sum 0: Poincare-Hopf holds"
        undefined = sum(point.index == 0 for point in self.points)
        if undefined:
            return (
                f"index sum {self.index_sum}, but {undefined} degenerate equilibria "
                f"have no computable index (they may form a continuum), so "
                f"Poincare-Hopf cannot be checked"
            )
        return (
            f"index sum {self.index_sum}: Poincare-Hopf FAILS, so an equilibrium "
            f"was missed; try more starts"
        )


def find_equilibria(
    objective: Objective,
    *,
    starts: int | None = None,
    zero_tol: float = ZERO_TOL,
    merge_tol: float = 1e-6,
) -> Equilibria:
    """Find and classify every equilibrium of the flow on the torus (or in a box).

    Newton's method (optimistix) runs from a grid of ``starts`` points per angle;
    the converged points are wrapped into [-pi, pi) and merged when closer than
    ``merge_tol`` on the torus. For an objective on R^n the grid covers its box,
    roots outside the box are dropped, nothing is wrapped and the grid is not
    doubled (there is no Poincare-Hopf check to pass). At each root
    ``jax.jacfwd`` gives the Jacobian of the flow, whose eigenvalues give the
    kind, and the Hessian blocks of F decide whether it is a Nash equilibrium.

    Arguments:
        objective: the game, on the torus or on R^n with a box.
        starts: Newton starts per angle. By default 24 for two angles (64, 10, 6 for
            one, three, four), doubled while the Poincare-Hopf check fails and no
            equilibrium is degenerate, up to 2**17 starts in all; a given number is
            used once as it is.
        zero_tol: the tolerance of :data:`ZERO_TOL` for zero real/imaginary parts.
        merge_tol: points closer than this (max-norm on the torus) are one.

    Returns:
        :class:`Equilibria`, with the Poincare-Hopf check.

    Example: F = sin(theta_g) sin(theta_d) has 4 centres and 4 saddles.
        >>> from jaxfgan import UserObjective
        >>> F = UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))
        >>> found = find_equilibria(F)
        >>> found.count("center"), found.count("saddle"), found.index_sum
        (4, 4, 0)
    """
    integer = isinstance(starts, int | np.integer) and not isinstance(starts, bool)
    if starts is not None and (not integer or starts < 1):
        raise InputError(
            f"find_equilibria: starts must be an integer >= 1, got {starts}"
        )
    per_angle = _DEFAULT_STARTS.get(objective.n, 4) if starts is None else starts
    roots = np.zeros((0, objective.n))
    total = 0
    while True:
        if per_angle**objective.n > MAX_STARTS:
            raise InputError(
                f"find_equilibria: {per_angle} starts per angle over {objective.n} "
                f"angles is {per_angle**objective.n} starts, above {MAX_STARTS}"
            )
        y0 = _start_grid(objective.n, per_angle, objective.box)
        found, ok = _newton_batch(objective, jnp.asarray(y0))
        roots = np.concatenate([roots, np.asarray(found)[np.asarray(ok)]])
        total += len(y0)
        merged = _merge_in_domain(roots, merge_tol, objective.box)
        points = [classify(objective, z, zero_tol=zero_tol) for z in merged]
        result = Equilibria(
            points=points,
            starts=total,
            converged=len(roots),
            torus=objective.box is None,
        )
        # More starts cannot mend a degenerate point (it may be non-isolated).
        if (
            starts is not None
            or result.poincare_hopf_ok is not False
            or result.count("degenerate")
        ):
            return result
        per_angle *= 2
        if per_angle**objective.n > _MAX_AUTO_STARTS:
            return result


def classify(objective: Objective, theta: ArrayLike, *, zero_tol: float = ZERO_TOL):
    """Classify the equilibrium at ``theta``: its spectrum, kind, index and Nash flag.

    Example: the exponential GAN's Nash point (0, 0), eigenvalues -1/4 +- i sqrt(15)/4.
        >>> from jaxfgan import exponential_gan
        >>> e = classify(exponential_gan(), [0.0, 0.0])
        >>> e.kind, e.nash, np.round(e.eigenvalues, 6).tolist()
        ('spiral attractor', True, [(-0.25-0.968246j), (-0.25+0.968246j)])
    """
    theta = jnp.asarray(theta, dtype=float)
    if theta.shape != (objective.n,) or not bool(jnp.all(jnp.isfinite(theta))):
        raise InputError(
            f"classify: theta must be {objective.n} finite angles, got {theta!r}"
        )
    jac, hessian, centre = (np.asarray(x) for x in _local_data(objective, theta))
    eigvals = np.linalg.eigvals(jac)
    eigvals = eigvals[np.lexsort((eigvals.imag, eigvals.real))]
    kind = kind_from_eigenvalues(eigvals, zero_tol)
    return Equilibrium(
        theta=np.asarray(theta),
        eigenvalues=eigvals,
        kind=kind,
        nash=_nash_from(objective, theta, hessian, float(centre), zero_tol),
        index=_index(objective, theta, jac, eigvals, zero_tol),
        value=float(centre),
    )


@eqx.filter_jit
def _local_data(objective: Objective, theta):
    """The flow's Jacobian, F's Hessian and F at theta, in one compiled call."""

    def f(z):
        return value(objective, z)

    return flow_jacobian(objective, theta), jax.hessian(f)(theta), f(theta)


@eqx.filter_jit
def _values(objective: Objective, points):
    return jax.vmap(lambda z: value(objective, z))(points)


@eqx.filter_jit
def _fields(objective: Objective, points):
    return jax.vmap(lambda z: vector_field(objective, z))(points)


def kind_from_eigenvalues(eigvals: ArrayLike, zero_tol: float = ZERO_TOL) -> str:
    """The kind of an equilibrium from its eigenvalues (see :data:`KINDS`).

    Example:
        >>> kind_from_eigenvalues([-0.25 + 0.97j, -0.25 - 0.97j])
        'spiral attractor'
    """
    eigvals = np.asarray(eigvals, dtype=complex)
    if eigvals.ndim != 1 or eigvals.size == 0 or not np.all(np.isfinite(eigvals)):
        raise InputError(
            f"kind_from_eigenvalues: need a non-empty 1-D array of finite "
            f"eigenvalues, got {eigvals!r}"
        )
    scale = zero_tol * (1.0 + np.abs(eigvals))
    re = np.where(np.abs(eigvals.real) <= scale, 0.0, eigvals.real)
    rotating = np.any(np.abs(eigvals.imag) > scale)
    if np.any(np.abs(eigvals) <= zero_tol):
        return "degenerate"
    if np.all(re == 0):
        return "center"
    if np.any(re == 0):
        return "degenerate"
    if np.any(re > 0) and np.any(re < 0):
        return "saddle"
    direction = "attractor" if np.all(re < 0) else "repeller"
    return f"{'spiral' if rotating else 'node'} {direction}"


def is_nash(
    objective: Objective, theta: ArrayLike, *, zero_tol: float = ZERO_TOL
) -> bool:
    """Whether ``theta`` is a local Nash equilibrium of the min-max game.

    theta_g must be a local minimum of F(., theta_d) and theta_d a local maximum of
    F(theta_g, .). Each player's Hessian block decides when it is definite; where it
    is singular, F is probed at distances 1e-3, 1e-2 and 5e-2 along +- each flat
    direction, and a decrease (for the generator) or increase (for the
    discriminator) beyond round-off rules the point out.

    Notes:
        The probe looks along the flat directions only; a higher-order saddle that
        bends away from them is not detected.
    """
    theta = jnp.asarray(theta, dtype=float)
    _, hessian, centre = (np.asarray(x) for x in _local_data(objective, theta))
    return _nash_from(objective, theta, hessian, float(centre), zero_tol)


def _nash_from(objective, theta, hessian, centre, zero_tol) -> bool:
    n_g = objective.n_g
    blocks = [(slice(0, n_g), 1.0), (slice(n_g, objective.n), -1.0)]
    return all(
        _is_local_min(objective, theta, part, sign, hessian, centre, zero_tol)
        for part, sign in blocks
    )


def _is_local_min(objective, theta, part, sign, hessian, centre, zero_tol):
    """Is sign * F a local minimum at theta along the coordinates ``part``?"""
    block = sign * hessian[part, part]
    curvatures, directions = np.linalg.eigh(block)
    flat = np.abs(curvatures) <= zero_tol * (1.0 + np.max(np.abs(curvatures)))
    if np.any(curvatures[~flat] < 0):
        return False
    if not np.any(flat):
        return True
    steps = np.zeros((int(flat.sum()), objective.n))
    steps[:, part] = directions[:, flat].T
    distances = np.array([1e-3, 1e-2, 5e-2, -1e-3, -1e-2, -5e-2])
    probes = np.asarray(theta) + distances[:, None, None] * steps[None, :, :]
    probes = probes.reshape(-1, objective.n)
    nearby = sign * np.asarray(_values(objective, jnp.asarray(probes)))
    slack = 1e-11 * (1.0 + abs(centre))
    return bool(np.all(nearby >= sign * centre - slack))


def _index(objective, theta, jac, eigvals, zero_tol) -> int:
    if np.all(np.abs(eigvals) > zero_tol * (1.0 + np.abs(eigvals))):
        return int(np.sign(np.prod(eigvals).real))  # sign(det J), J invertible
    if objective.n == 2:
        return _winding_index(objective, theta)
    return 0


def _winding_index(objective, theta, radius=1e-3, points=720) -> int:
    """The winding number of v around a small circle centred on theta (two angles)."""
    angles = np.linspace(0.0, TWO_PI, points, endpoint=False)
    circle = np.asarray(theta) + radius * np.stack([np.cos(angles), np.sin(angles)], 1)
    field_values = np.asarray(_fields(objective, jnp.asarray(circle)))
    speeds = np.hypot(field_values[:, 0], field_values[:, 1])
    if speeds.min() <= 1e-12 * max(1.0, speeds.max()):
        return 0  # v vanishes on the circle: not an isolated zero at this scale
    heading = np.unwrap(np.arctan2(field_values[:, 1], field_values[:, 0]))
    return int(round(_closed_turn(heading) / TWO_PI))


def _closed_turn(heading: np.ndarray) -> float:
    """Total turning of a closed loop of headings, including the closing segment."""
    closing = math.remainder(heading[0] - heading[-1], TWO_PI)
    return float(heading[-1] - heading[0] + closing)


def _start_grid(n: int, per_angle: int, box=None) -> np.ndarray:
    """A grid of per_angle**n starts, offset so none lies on a symmetry line."""
    lo, hi = (-math.pi, math.pi) if box is None else box
    width = hi - lo
    line = (
        lo + (np.arange(per_angle) + 0.5) * width / per_angle + 0.0123 * width / TWO_PI
    )
    mesh = np.meshgrid(*[line] * n, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


@eqx.filter_jit
def _newton_batch(objective: Objective, y0):
    # The SVD solve makes each step a pseudo-inverse step: the same as Newton where
    # the Jacobian is invertible, and still defined where it is singular (a line
    # of equilibria, F constant in one angle), where LU would return NaN.
    solver = optx.Newton(rtol=1e-12, atol=1e-12, linear_solver=lx.SVD())

    def field(z):
        return vector_field(objective, z)

    # Newton's stopping test and the residual test are relative to the field's
    # size over the starts, so that F and 1e8 F have the same equilibria
    scale = jnp.maximum(1.0, jnp.max(jnp.abs(jax.vmap(field)(y0))))

    def solve_one(start):
        sol = optx.root_find(
            lambda z, args: field(z) / scale,
            solver,
            start,
            max_steps=64,
            throw=False,
        )
        residual = jnp.max(jnp.abs(field(sol.value)))
        ok = (sol.result == optx.RESULTS.successful) & (residual <= 1e-9 * scale)
        return sol.value, ok & jnp.all(jnp.isfinite(sol.value))

    return jax.vmap(solve_one)(y0)


def _merge_in_domain(roots: np.ndarray, tol: float, box) -> list[np.ndarray]:
    """Merge on the torus; on R^n, keep the roots inside the box and merge there."""
    if box is None:
        return _merge(_wrap(roots), tol)
    inside = np.all((roots >= box[0]) & (roots <= box[1]), axis=1)
    return _merge(roots[inside], tol, torus=False)


def _wrap(points: np.ndarray) -> np.ndarray:
    """Wrap into [-pi, pi); a coordinate within 1e-10 of pi becomes -pi (same point)."""
    wrapped = np.mod(points + math.pi, TWO_PI) - math.pi
    return np.where(wrapped > math.pi - 1e-10, -math.pi, wrapped)


def _merge(points: np.ndarray, tol: float, torus: bool = True) -> list[np.ndarray]:
    """Greedy merge of points closer than ``tol`` (on the torus), sorted by theta."""
    gap = _torus_gap if torus else _plane_gap
    kept: list[np.ndarray] = []
    for point in points:
        if not any(gap(point, other) < tol for other in kept):
            kept.append(point)
    return sorted(kept, key=lambda p: tuple(np.round(p, 9)))


def _plane_gap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)))


def _torus_gap(a: np.ndarray, b: np.ndarray) -> float:
    diff = np.mod(a - b + math.pi, TWO_PI) - math.pi
    return float(np.max(np.abs(diff)))
