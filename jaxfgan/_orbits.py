"""Periodic orbits of the flow: Poincare return maps, Newton shooting, Floquet.

A *section* is a segment {o + s u : lower < s < upper} with a unit normal n; a
trajectory returns to it when (z - o) . n changes sign from - to + while the
along-coordinate s = (z - o) . u lies in (lower, upper), with z - o reduced mod 2 pi
per angle, so a return near any 2 pi-translate of o counts (an orbit that wraps
around the torus returns with a nonzero winding). Returns are located between the
saved samples of a tightly integrated trajectory with the cubic Hermite interpolant
(the samples and the vector field there), whose error is O(h^4).

The return map P(s) sends a point of the section to its first return. A closed orbit
is a fixed point, P(s) = s. Its *drift* is |P(s) - s| / amplitude, the relative
distance from start to return; the orbit is closed when the drift is at most a
stated tolerance. A spiral with contraction per turn exp(2 pi Re(lambda) /
|Im(lambda)|) has the same relative drift at every amplitude, so however slowly it
decays it is told apart from a closed orbit once that drift exceeds the tolerance.

Isolated fixed points (limit cycles) are refined by Newton's method on the shooting
equations phi_T(z0) = z0 + 2 pi k for (s, T), with the monodromy matrix
Phi(T) = d phi_T / d z0 from the variational equation Phi' = J(z) Phi. Its
eigenvalues are the Floquet multipliers: one is 1 (along the orbit), the other is
1 for a closed orbit of a family and exp(integral of div v dt) for a limit cycle.
"""

import math
from dataclasses import dataclass, field

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._equilibria import Equilibria, Equilibrium
from ._errors import InputError
from ._flow import integrate_flow
from ._objective import TWO_PI, Objective, flow_jacobian, vector_field
from ._typing import ArrayLike

RTOL, ATOL = 1e-10, 1e-12
"""Integration tolerances of every orbit computation."""


@dataclass(frozen=True)
class Section:
    """The segment {origin + s along : lower < s < upper} with normal ``normal``."""

    origin: np.ndarray
    along: np.ndarray
    normal: np.ndarray
    lower: float
    upper: float

    def point(self, s: float) -> np.ndarray:
        return self.origin + s * self.along


@dataclass(frozen=True)
class Return:
    """The first return of the trajectory from ``start`` to a section.

    Attributes:
        start: the start on the section, shape (2,).
        point: the unwrapped point of return, shape (2,).
        time: the return time (the period when the orbit is closed).
        winding: the return lies near origin + 2 pi winding, shape (2,).
        amplitude: half the largest range of a non-wrapping angle along the way.
        drift: |return - start (mod 2 pi)| / amplitude (max-norm).
    """

    start: np.ndarray
    point: np.ndarray
    time: float
    winding: np.ndarray
    amplitude: float
    drift: float
    path: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class PeriodicOrbit:
    """A periodic orbit: a point on it, its period, amplitude and multipliers."""

    start: np.ndarray
    period: float
    amplitude: float
    multipliers: np.ndarray
    kind: str
    winding: np.ndarray
    path: np.ndarray = field(repr=False)

    def to_json(self) -> dict:
        return {
            "start": [float(x) for x in self.start],
            "period": float(self.period),
            "amplitude": float(self.amplitude),
            "multipliers": [[float(m.real), float(m.imag)] for m in self.multipliers],
            "kind": self.kind,
            "winding": [int(k) for k in self.winding],
        }


@dataclass(frozen=True)
class OrbitFamily:
    """Closed orbits around a centre: the period as a function of the amplitude."""

    center: np.ndarray
    amplitudes: np.ndarray
    periods: np.ndarray
    small_amplitude_period: float

    def to_json(self) -> dict:
        return {
            "center": [float(x) for x in self.center],
            "amplitudes": [float(x) for x in self.amplitudes],
            "periods": [float(x) for x in self.periods],
            "small_amplitude_period": self.small_amplitude_period,
        }


def first_returns(
    objective: Objective,
    section: Section,
    positions: ArrayLike,
    t_max: float,
    *,
    per_unit_time: int = 64,
) -> list[Return | None]:
    """The first return to ``section`` from each position s on it (None: no return).

    Arguments:
        objective: a two-angle objective.
        section: the section.
        positions: the along-coordinates s of the starts, shape (K,).
        t_max: how long to wait for a return.
        per_unit_time: saved samples per unit of time (h = 1 / per_unit_time).

    Returns:
        One :class:`Return` or None per start.
    """
    starts = np.stack([section.point(s) for s in np.atleast_1d(positions)])
    ts = np.linspace(0.0, t_max, int(t_max * per_unit_time) + 1)
    solution = integrate_flow(objective, starts, t_max, ts=ts, rtol=RTOL, atol=ATOL)
    field_at = field_function(objective)
    returns = []
    for start, path, status in zip(
        starts, np.asarray(solution.ys), np.asarray(solution.status), strict=True
    ):
        crossing = _first_crossing(path, ts, section) if status == 0 else None
        returns.append(
            None
            if crossing is None
            else _return(start, path, ts, crossing, section, field_at)
        )
    return returns


def follow_orbit(
    objective: Objective,
    through: ArrayLike,
    *,
    tolerance: float = 1e-6,
    t_max: float = 200.0,
) -> tuple[bool, Return | None]:
    """Follow the orbit through a point and decide whether it is closed.

    The section is the segment through ``through`` across the flow (normal along
    the velocity there, half-width 0.5 rad); the orbit is closed when its first
    return drifts by at most ``tolerance`` (relative to the amplitude).

    Returns:
        (closed, the first return or None when there was none before t_max).

    Example: the orbit of F = sin(theta_g) sin(theta_d) through (0.5, 0) is closed
        with period 4 K(sin(0.5)**2) = 6.6999757...
        >>> from jaxfgan import UserObjective
        >>> F = UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))
        >>> closed, back = follow_orbit(F, [0.5, 0.0])
        >>> closed, round(back.time, 6)
        (True, 6.699976)
    """
    _check_two_angles("follow_orbit", objective)
    point = np.asarray(through, dtype=float)
    velocity = np.asarray(vector_field(objective, jnp.asarray(point)))
    speed = float(np.linalg.norm(velocity))
    if not speed > 1e-12:
        raise InputError(
            f"follow_orbit: {point.tolist()} is an equilibrium (speed {speed:.2g}); "
            f"choose a point off it"
        )
    normal = velocity / speed
    along = np.array([-normal[1], normal[0]])
    section = Section(point, along, normal, -0.5, 0.5)
    back = first_returns(objective, section, [0.0], t_max)[0]
    return back is not None and back.drift <= tolerance, back


def find_orbits(
    objective: Objective,
    equilibria: Equilibria,
    *,
    tolerance: float = 1e-6,
    amplitudes: int = 8,
    turns: float = 12.0,
    wrapping: bool = True,
) -> tuple[list[PeriodicOrbit], list[OrbitFamily]]:
    """Closed orbits and limit cycles around every centre and spiral.

    From each centre or spiral equilibrium c, the section is the half-line
    c + s e_g (s > 0, along theta_g) up to 0.9 times the max-norm distance to the
    nearest other equilibrium, crossed in the sense in which the flow turns around
    c; a return counts only if the trip went once around c. The
    return map is sampled at ``amplitudes`` evenly spaced points; where every sampled
    orbit is closed (drift <= ``tolerance``) they form a family of closed orbits,
    and where the signed drift changes sign between neighbours, Newton shooting
    refines a limit cycle. A trajectory must return within ``turns`` times the
    linear period 2 pi / |Im(lambda)|.

    With ``wrapping``, orbits that wrap around the torus are looked for too: the
    sections are the circles theta_g = 0 and theta_d = 0, each sampled at
    ``amplitudes`` points, and a return must come after a turn around that angle
    (within ``turns`` times 2 pi).

    Returns:
        (orbits, families): every closed orbit sampled and every limit cycle found,
        and the families of closed orbits with their period against amplitude.
    """
    _check_two_angles("find_orbits", objective)
    orbits, families = [], []
    for center in equilibria.points:
        if center.kind not in ("center", "spiral attractor", "spiral repeller"):
            continue
        found, family = _around(
            objective, center, equilibria, tolerance, amplitudes, turns
        )
        orbits += found
        families += [family] if family is not None else []
    if wrapping:
        for angle in (0, 1):
            orbits += _wrapping(objective, angle, tolerance, amplitudes, turns)
    return orbits, families


def _wrapping(objective, angle, tolerance, count, turns) -> list[PeriodicOrbit]:
    """Orbits that wrap around ``angle``: returns to the circle theta_angle = 0.

    The circle is sampled at ``count`` points, each crossed in the direction the
    flow crosses it there; a return counts only after one turn around ``angle``.
    """
    other = 1 - angle
    positions = -math.pi + (np.arange(count) + 0.5) * TWO_PI / count
    field_at = field_function(objective)
    found = []
    for sense in (1.0, -1.0):
        normal = np.zeros(2)
        normal[angle] = sense
        along = np.zeros(2)
        along[other] = 1.0
        section = Section(np.zeros(2), along, normal, -math.pi, math.pi)
        starts = [s for s in positions if field_at(section.point(s)) @ normal > 0]
        if not starts:
            continue
        returns = first_returns(objective, section, starts, turns * TWO_PI)
        returns = [
            r if r is not None and r.winding[angle] != 0 else None for r in returns
        ]
        closed = [r for r in returns if r is not None and r.drift <= tolerance]
        found += [_closed_orbit(objective, r, "closed") for r in closed]
        found += _limit_cycles(objective, section, starts, returns, tolerance)
    return found


def _around(objective, center, equilibria, tolerance, amplitudes, turns):
    section = _radial_section(objective, center, equilibria)
    if section is None:
        return [], None
    omega = float(np.max(np.abs(center.eigenvalues.imag)))
    positions = section.upper * np.arange(1, amplitudes + 1) / (amplitudes + 1)
    returns = first_returns(objective, section, positions, turns * TWO_PI / omega)
    orbits = []
    returns = [r if r is not None and _encircles(r, center) else None for r in returns]
    closed = [r for r in returns if r is not None and r.drift <= tolerance]
    for r in closed:
        orbits.append(_closed_orbit(objective, r, "closed"))
    family = None
    if len(closed) >= 2:
        family = OrbitFamily(
            center=center.theta,
            amplitudes=np.array([o.amplitude for o in orbits]),
            periods=np.array([o.period for o in orbits]),
            small_amplitude_period=TWO_PI / omega,
        )
    orbits += _limit_cycles(objective, section, positions, returns, tolerance)
    return orbits, family


def _encircles(back: Return, center: Equilibrium) -> bool:
    """The trip turned once around the centre (not around a neighbour of it)."""
    offset = back.path - center.theta
    swept = np.diff(np.unwrap(np.arctan2(offset[:, 1], offset[:, 0])))
    return abs(float(np.sum(swept))) > math.pi


def _radial_section(objective, center: Equilibrium, equilibria) -> Section | None:
    others = [p.theta for p in equilibria.points if p is not center]
    reach = math.pi
    if others:
        gaps = np.mod(np.asarray(others) - center.theta + math.pi, TWO_PI) - math.pi
        reach = min(math.pi, float(np.min(np.max(np.abs(gaps), axis=1))))
    along = np.array([1.0, 0.0])
    jac = np.asarray(flow_jacobian(objective, jnp.asarray(center.theta)))
    turning = float(plane_cross(along, jac @ along))
    if turning == 0.0:
        return None
    normal = np.sign(turning) * np.array([-along[1], along[0]])
    return Section(center.theta, along, normal, 0.0, 0.9 * reach)


def _limit_cycles(objective, section, positions, returns, tolerance):
    cycles = []
    for k in range(len(positions) - 1):
        left, right = returns[k], returns[k + 1]
        if left is None or right is None:
            continue
        if max(left.drift, right.drift) <= tolerance:
            continue  # inside a family of closed orbits
        if _signed(left, section) * _signed(right, section) < 0:
            cycle = shoot(objective, section, left, right)
            if cycle is not None:
                cycles.append(cycle)
    return cycles


def _signed(back: Return, section: Section) -> float:
    return float(np.dot(_reduce(back.point - back.start), section.along))


def shoot(objective, section: Section, left: Return, right: Return):
    """Newton shooting for (s, T) between two returns whose drifts differ in sign.

    Returns the :class:`PeriodicOrbit` (kind "limit cycle"), or None when Newton
    does not converge to a residual below 1e-9 within 30 steps.
    """
    s_left = float(np.dot(left.start - section.origin, section.along))
    s_right = float(np.dot(right.start - section.origin, section.along))
    s, period = 0.5 * (s_left + s_right), 0.5 * (left.time + right.time)
    shift = TWO_PI * left.winding
    for _ in range(30):
        start = section.point(s)
        end, monodromy = flow_with_variations(objective, start, period)
        residual = end - start - shift
        if np.max(np.abs(residual)) < 1e-9:
            return _orbit_from(objective, start, period, "limit cycle", left.winding)
        velocity = np.asarray(vector_field(objective, jnp.asarray(end)))
        matrix = np.stack([monodromy @ section.along - section.along, velocity], 1)
        step = np.linalg.lstsq(matrix, -residual, rcond=None)[0]
        s, period = s + step[0], period + step[1]
    return None


def flow_with_variations(objective: Objective, start: ArrayLike, time: float):
    """phi_T(start) and the monodromy matrix Phi(T) = d phi_T / d start.

    Integrates z' = v(z), Phi' = J(z) Phi, Phi(0) = I at tolerances RTOL, ATOL.
    """
    end, monodromy = _variations(
        objective, jnp.asarray(start, dtype=float), jnp.asarray(float(time))
    )
    return np.asarray(end), np.asarray(monodromy)


@eqx.filter_jit
def _variations(objective, start, time):
    n = start.shape[0]

    def rhs(t, state, args):
        z, phi = state
        return vector_field(objective, z), flow_jacobian(objective, z) @ phi

    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(rhs),
        diffrax.Tsit5(),
        0.0,
        time,
        None,
        (start, jnp.eye(n, dtype=start.dtype)),
        stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
        max_steps=1_000_000,
    )
    return jax.tree.map(lambda x: x[-1], solution.ys)


def _closed_orbit(objective, back: Return, kind: str) -> PeriodicOrbit:
    return _orbit_from(objective, back.start, back.time, kind, back.winding, back)


def _orbit_from(objective, start, period, kind, winding, back=None) -> PeriodicOrbit:
    _, monodromy = flow_with_variations(objective, start, period)
    multipliers = np.linalg.eigvals(monodromy)
    multipliers = multipliers[np.lexsort((multipliers.imag, multipliers.real))]
    if back is None:
        ts = np.linspace(0.0, period, 513)
        path = np.asarray(
            integrate_flow(objective, start, period, ts=ts, rtol=RTOL, atol=ATOL).ys
        )
    else:
        path = back.path
    return PeriodicOrbit(
        start=np.asarray(start),
        period=float(period),
        amplitude=_amplitude(path, np.asarray(winding)),
        multipliers=multipliers,
        kind=kind,
        winding=np.asarray(winding, dtype=int),
        path=path,
    )


def _first_crossing(path, ts, section: Section):
    """Index k of the first sample pair (k, k+1) that crosses the section."""
    found = crossings(path, section)
    return int(found[0]) if found.size else None


def crossings(path: np.ndarray, section: Section) -> np.ndarray:
    """Indices k of every sample pair (k, k+1) of a path that crosses the section."""
    reduced = _reduce(path - section.origin)
    g = reduced @ section.normal
    s = reduced @ section.along
    inside = (s > section.lower) & (s < section.upper)
    crossing = (g[:-1] < 0) & (g[1:] >= 0) & inside[:-1] & inside[1:]
    crossing &= np.max(np.abs(np.diff(reduced, axis=0)), axis=1) < 1.0  # no seam
    return np.nonzero(crossing)[0]


def crossing_point(path, ts, k, section: Section, field_at):
    """The time and unwrapped point where the path crosses the section in step k."""
    h = ts[k + 1] - ts[k]
    z0, z1 = path[k], path[k + 1]
    v0, v1 = field_at(z0), field_at(z1)
    offset = z0 - _reduce(z0 - section.origin)  # the nearest translate of origin

    def g(x):
        return float(np.dot(hermite(z0, z1, v0, v1, h, x) - offset, section.normal))

    low, high = 0.0, 1.0
    for _ in range(60):  # bisection: g(0) < 0 <= g(1)
        middle = 0.5 * (low + high)
        low, high = (middle, high) if g(middle) < 0 else (low, middle)
    x = 0.5 * (low + high)
    return float(ts[k] + x * h), hermite(z0, z1, v0, v1, h, x), offset


def _return(start, path, ts, k, section, field_at) -> Return:
    time, point, offset = crossing_point(path, ts, k, section, field_at)
    winding = np.round((offset - section.origin) / TWO_PI).astype(int)
    trip = np.concatenate([path[: k + 1], point[None]])
    amplitude = _amplitude(trip, winding)
    gap = float(np.max(np.abs(_reduce(point - start))))
    return Return(
        start=start,
        point=point,
        time=time,
        winding=winding,
        amplitude=amplitude,
        drift=gap / amplitude if amplitude > 0 else math.inf,
        path=trip,
    )


def hermite(z0, z1, v0, v1, h, x):
    """The cubic Hermite interpolant at the fraction x of a step of length h."""
    h00 = 2 * x**3 - 3 * x**2 + 1
    h10 = x**3 - 2 * x**2 + x
    h01 = -2 * x**3 + 3 * x**2
    h11 = x**3 - x**2
    return h00 * z0 + h10 * h * v0 + h01 * z1 + h11 * h * v1


def _amplitude(path: np.ndarray, winding: np.ndarray) -> float:
    """Half the largest range of the angles that do not wrap along the path."""
    ranges = np.ptp(path, axis=0) / 2
    still = np.asarray(winding) == 0
    return float(np.max(ranges[still])) if np.any(still) else math.pi


def _reduce(diff: np.ndarray) -> np.ndarray:
    return np.mod(diff + math.pi, TWO_PI) - math.pi


def field_function(objective):
    """The vector field as a numpy function of one point (compiled once per kind)."""
    return lambda z: np.asarray(_field(objective, jnp.asarray(z, dtype=float)))


@eqx.filter_jit
def _field(objective, z):
    return vector_field(objective, z)


def _check_two_angles(name: str, objective: Objective) -> None:
    if objective.n != 2:
        raise InputError(
            f"{name}: works on one angle per player, but the objective has "
            f"{objective.n_g} + {objective.n_d} angles"
        )


def plane_cross(a, b) -> float:
    """The z-component of the cross product of two plane vectors."""
    return float(a[0] * b[1] - a[1] * b[0])
