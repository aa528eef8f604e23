"""Discrete training: the update maps of GAN optimisers, run in batches, and their
linearisation at the equilibria.

With v the flow's vector field and z = (theta_g, theta_d), one step of size h is

- ``simgd`` (simultaneous gradient descent-ascent): z+ = z + h v(z);
- ``altgd`` (alternating): ``g_steps`` generator steps theta_g+ = theta_g +
  h v_g(z), then ``d_steps`` discriminator steps theta_d+ = theta_d + h_d v_d(z),
  each at the parameters just updated;
- ``momentum`` (heavy ball): z+ = z + h v(z) + beta (z - z-), beta < 0 allowed;
- ``adam``: Adam (Kingma and Ba, 2015) on the gradients -v;
- ``extragradient``: z+ = z + h v(z + h v(z)) (Korpelevich, 1976);
- ``optimistic``: z+ = z + h (2 v(z) - v(z-)) (Daskalakis et al., 2018).

The generator's learning rate is h, the discriminator's h_d (h unless given).
optax performs every update: it minimises, so each player is given -v, which is
the generator's gradient of F and the discriminator's gradient of -F. A step of
``altgd`` is one round (g_steps + d_steps updates).
"""

import math
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from ._errors import InputError
from ._objective import Objective, distance, vector_field
from ._typing import Array, ArrayLike

METHODS = ("simgd", "altgd", "momentum", "adam", "extragradient", "optimistic")
"""The discrete training methods."""

VERDICTS = ("converges", "oscillates", "diverges")
"""Local verdicts from the update map's spectral radius rho: < 1, = 1, > 1."""

RADIUS_TOL = 1e-9
"""|rho - 1| <= RADIUS_TOL counts as rho = 1 (oscillates)."""

ADAM_EPS_ROOT = 1e-46
"""Adam's eps_root: sqrt(1e-46) = 1e-23 is 1e-15 of optax's eps = 1e-8."""

MAX_SAVED = 2000
"""At most this many states per trajectory are kept by :func:`train`."""


class Method(eqx.Module):
    """A training method with its settings; its numbers are traced, not static.

    Attributes:
        name: one of :data:`METHODS`.
        lr: h, the generator's learning rate.
        lr_d: h_d, the discriminator's learning rate.
        momentum: beta, for ``momentum``.
        g_steps, d_steps: updates of each player per round, for ``altgd``.
    """

    name: str = eqx.field(static=True)
    lr: Array
    lr_d: Array
    momentum: Array
    g_steps: int = eqx.field(static=True)
    d_steps: int = eqx.field(static=True)

    def scaled(self, factor: ArrayLike) -> "Method":
        """The same method with both learning rates multiplied by ``factor``."""
        return eqx.tree_at(
            lambda m: (m.lr, m.lr_d), self, (self.lr * factor, self.lr_d * factor)
        )


def method(
    name: str,
    lr: float,
    *,
    lr_d: float | None = None,
    momentum: float = 0.0,
    g_steps: int = 1,
    d_steps: int = 1,
) -> Method:
    """Check and bundle the settings of a training method (see the module docstring).

    Example:
        >>> method("altgd", 0.1, d_steps=2).d_steps
        2
    """
    if name not in METHODS:
        raise InputError(
            f"method: unknown method {name!r}; choose one of {', '.join(METHODS)}"
        )
    lr_d = lr if lr_d is None else lr_d
    for label, number in (("lr", lr), ("lr_d", lr_d)):
        if not (math.isfinite(number) and number > 0):
            raise InputError(f"method: {label} must be finite and > 0, got {number}")
    if not math.isfinite(momentum) or abs(momentum) >= 1:
        raise InputError(f"method: momentum must lie in (-1, 1), got {momentum}")
    if (g_steps, d_steps) != (1, 1) and name != "altgd":
        raise InputError(
            f"method: g_steps and d_steps apply to altgd only, not to {name}"
        )
    if g_steps < 1 or d_steps < 1:
        raise InputError(
            f"method: need g_steps, d_steps >= 1, got {g_steps}, {d_steps}"
        )
    return Method(
        name=name,
        lr=jnp.asarray(float(lr)),
        lr_d=jnp.asarray(float(lr_d)),
        momentum=jnp.asarray(float(momentum)),
        g_steps=g_steps,
        d_steps=d_steps,
    )


def _optimiser(method: Method, lr: Array) -> optax.GradientTransformation:
    if method.name == "momentum":
        return optax.sgd(lr, momentum=method.momentum)
    if method.name == "adam":
        # sqrt(nu + eps_root) instead of optax's default sqrt(nu): the two agree to
        # 1e-15 of eps, and the first has a derivative at nu = 0, the fixed point.
        return optax.adam(lr, eps_root=ADAM_EPS_ROOT)
    if method.name == "optimistic":
        return optax.optimistic_gradient_descent(lr)
    return optax.sgd(lr)


def _players(objective: Objective, method: Method):
    return _optimiser(method, method.lr), _optimiser(method, method.lr_d)


def init_state(objective: Objective, method: Method, z: ArrayLike):
    """The training state at z: (z, generator's optax state, discriminator's).

    optax starts its accumulators at 0, so momentum's first step is a plain step,
    and optimistic's first step takes v(z-) = v(z), also a plain step.
    """
    z = jnp.asarray(z, dtype=float)
    opt_g, opt_d = _players(objective, method)
    return z, opt_g.init(z[: objective.n_g]), opt_d.init(z[objective.n_g :])


def step(objective: Objective, method: Method, state):
    """One step (one round for altgd) of the update map, state to state."""
    if method.name == "altgd":
        return _alternating(objective, method, state)
    if method.name == "extragradient":
        return _extragradient(objective, method, state)
    z, state_g, state_d = state
    opt_g, opt_d = _players(objective, method)
    grads = -vector_field(objective, z)
    n_g = objective.n_g
    update_g, state_g = opt_g.update(grads[:n_g], state_g, z[:n_g])
    update_d, state_d = opt_d.update(grads[n_g:], state_d, z[n_g:])
    return z + jnp.concatenate([update_g, update_d]), state_g, state_d


def _extragradient(objective, method, state):
    z, state_g, state_d = state
    half = z + _sgd_update(objective, method, z, z)
    return z + _sgd_update(objective, method, half, z), state_g, state_d


def _sgd_update(objective, method, at, z):
    """optax's SGD update of both players from the gradients -v(at)."""
    opt_g, opt_d = _players(objective, method)
    grads = -vector_field(objective, at)
    n_g = objective.n_g
    update_g, _ = opt_g.update(grads[:n_g], opt_g.init(z[:n_g]))
    update_d, _ = opt_d.update(grads[n_g:], opt_d.init(z[n_g:]))
    return jnp.concatenate([update_g, update_d])


def _alternating(objective, method, state):
    z, state_g, state_d = state
    opt_g, opt_d = _players(objective, method)
    n_g = objective.n_g
    for _ in range(method.g_steps):
        grad_g = -vector_field(objective, z)[:n_g]
        update, state_g = opt_g.update(grad_g, state_g, z[:n_g])
        z = z.at[:n_g].add(update)
    for _ in range(method.d_steps):
        grad_d = -vector_field(objective, z)[n_g:]
        update, state_d = opt_d.update(grad_d, state_d, z[n_g:])
        z = z.at[n_g:].add(update)
    return z, state_g, state_d


@dataclass(frozen=True)
class TrainingRun:
    """The result of :func:`train` for B starts.

    Attributes:
        path: the unwrapped iterates, shape (B, T, n), T <= MAX_SAVED + 1 states
            (every ``stride``-th step, the start first).
        steps: the step number of each saved state, shape (T,).
        final: the iterate after the last step, shape (B, n).
        finite: whether the final iterate is finite, shape (B,).
    """

    path: np.ndarray
    steps: np.ndarray
    final: np.ndarray
    finite: np.ndarray


def train(
    objective: Objective, method: Method, y0: ArrayLike, steps: int
) -> TrainingRun:
    """Run ``steps`` steps of ``method`` from every row of ``y0`` at once.

    ``jax.vmap`` runs the starts side by side and ``jax.lax.scan`` the steps; the
    method's numbers are traced, so other learning rates reuse the compiled loop.

    Arguments:
        objective: the game (its flow may be regularised).
        method: from :func:`method`.
        y0: starts, shape (B, n).
        steps: how many steps (rounds for altgd), >= 1.

    Returns:
        A :class:`TrainingRun`.

    Example: simultaneous steps on F = theta_g theta_d multiply |z| by
    sqrt(1 + h^2) each step.
        >>> from jaxfgan import UserObjective
        >>> F = UserObjective(lambda g, d: g[0] * d[0], box=(-1, 1))
        >>> run = train(F, method("simgd", 0.1), jnp.array([[1.0, 0.0]]), 2)
        >>> round(float(jnp.linalg.norm(run.final[0])), 6), round(1.01, 6)
        (1.01, 1.01)
    """
    y0 = jnp.atleast_2d(jnp.asarray(y0, dtype=float))
    if y0.ndim != 2 or y0.shape[1] != objective.n:
        raise InputError(
            f"train: y0 must have shape (batch, {objective.n}), got {y0.shape}"
        )
    if not isinstance(steps, int) or steps < 1:
        raise InputError(f"train: steps must be an integer >= 1, got {steps}")
    stride = -(-steps // MAX_SAVED)
    saves, rest = divmod(steps, stride)
    path, final = _run_batch(objective, method, y0, saves, stride, rest)
    path = np.concatenate([np.asarray(y0)[:, None], np.asarray(path)], axis=1)
    final = np.asarray(final)
    return TrainingRun(
        path=path,
        steps=np.arange(saves + 1) * stride,
        final=final,
        finite=np.all(np.isfinite(final), axis=1),
    )


@eqx.filter_jit
def _run_batch(objective, method, y0, saves, stride, rest):
    def run_one(start):
        def advance(state, _):
            state = jax.lax.fori_loop(
                0, stride, lambda _, s: step(objective, method, s), state
            )
            return state, state[0]

        state = init_state(objective, method, start)
        state, path = jax.lax.scan(advance, state, None, length=saves)
        state = jax.lax.fori_loop(
            0, rest, lambda _, s: step(objective, method, s), state
        )
        return path, state[0]

    return jax.vmap(run_one)(y0)


def update_jacobian(objective: Objective, method: Method, theta: ArrayLike) -> Array:
    """The Jacobian of one step of the update map at the fixed point over ``theta``.

    The state is (z, the optimisers' accumulators) at its fixed point: one step
    from :func:`init_state` at the equilibrium, so that the accumulators are 0
    and first-step special cases (optimistic's) are past. It is flattened;
    integer counters (Adam's step count) and Adam's second moment are held
    fixed. ``jax.jacfwd`` differentiates through optax.

    Notes:
        Adam's update m / (sqrt(nu) + eps) has the gain h / eps at the fixed point,
        so its linearisation says "diverges" for any h above about eps: the fixed
        point repels perturbations smaller than eps, and a run then hovers near
        it at a distance set by h, rather than converging.

    Returns:
        The Jacobian, shape (m, m), m = n plus the accumulators' size.

    Example: simultaneous steps on F = theta_g theta_d: [[1, -h], [h, 1]].
        >>> from jaxfgan import UserObjective
        >>> F = UserObjective(lambda g, d: g[0] * d[0], box=(-1, 1))
        >>> update_jacobian(F, method("simgd", 0.5), [0.0, 0.0]).tolist()
        [[1.0, -0.5], [0.5, 1.0]]
    """
    return _update_jacobian(objective, method, jnp.asarray(theta, dtype=float))


@eqx.filter_jit
def _update_jacobian(objective, method, theta):
    state = step(objective, method, init_state(objective, method, theta))
    spec = jax.tree_util.tree_map_with_path(_differentiated, state)
    moving, fixed = eqx.partition(state, spec)
    flat, unravel = ravel_pytree(moving)

    def one_step(x):
        after = step(objective, method, eqx.combine(unravel(x), fixed))
        return ravel_pytree(eqx.filter(after, spec))[0]

    return jax.jacfwd(one_step)(flat)


def _differentiated(path, leaf) -> bool:
    # Adam's second moment nu sits at 0 at the fixed point, where sqrt(nu) has no
    # derivative; it is held there, like the step count. Its first-order effect
    # on z is nil anyway: the update m / (sqrt(nu) + eps) has m = 0 there.
    names = {getattr(key, "name", None) for key in path}
    return eqx.is_inexact_array(leaf) and "nu" not in names


def spectral_radius(objective: Objective, method: Method, theta: ArrayLike) -> float:
    """rho, the largest |eigenvalue| of :func:`update_jacobian` at ``theta``."""
    jac = np.asarray(update_jacobian(objective, method, theta))
    return float(np.max(np.abs(np.linalg.eigvals(jac))))


def verdict(radius: float) -> str:
    """'converges' (rho < 1), 'oscillates' (rho = 1 within RADIUS_TOL), 'diverges'.

    Example:
        >>> verdict(1.0 + 1e-12), verdict(0.9), verdict(1.1)
        ('oscillates', 'converges', 'diverges')
    """
    if abs(radius - 1.0) <= RADIUS_TOL:
        return "oscillates"
    return "converges" if radius < 1.0 else "diverges"


def max_stable_lr(
    objective: Objective,
    method: Method,
    theta: ArrayLike,
    *,
    lowest: float = 1e-3,
    highest: float = 1e2,
) -> float | None:
    """The largest h such that every learning rate in (0, h] converges locally.

    The ratio h_d / h and the other settings stay as in ``method``. rho is scanned
    on a log grid from ``lowest`` to ``highest`` and the first crossing of 1 is
    bisected to a relative 1e-10. ``lowest`` stays well above 0 because near a
    centre rho = 1 + O(h^2), which below h ~ 1e-4 is within RADIUS_TOL of 1.

    Returns:
        h, or None when already ``lowest`` does not converge; ``highest`` when
        every scanned rate converges (a lower bound then).

    Example: simultaneous steps at a spiral attractor with flow eigenvalues
    -1/4 +- i sqrt(15)/4 (the exponential GAN's Nash point): |1 + h lambda|^2 =
    1 - h/2 + h^2 < 1 exactly when h < 1/2.
        >>> from jaxfgan import exponential_gan
        >>> h = max_stable_lr(exponential_gan(), method("simgd", 0.1), [0.0, 0.0])
        >>> round(h, 8)
        0.5
    """
    theta = jnp.asarray(theta, dtype=float)
    unit = method.scaled(1.0 / method.lr)  # h = 1, same ratio h_d / h
    grid = np.geomspace(lowest, highest, 97)
    stable = _stable(objective, unit, theta, grid)
    if not stable[0]:
        return None
    if stable.all():
        return float(highest)
    first = int(np.argmin(stable))
    low, high = grid[first - 1], grid[first]
    while high - low > 1e-10 * high:
        middle = 0.5 * (low + high)
        if _stable(objective, unit, theta, np.array([middle]))[0]:
            low = middle
        else:
            high = middle
    return float(low)


def _stable(objective, unit, theta, rates: np.ndarray) -> np.ndarray:
    jacs = _scaled_jacobians(objective, unit, theta, jnp.asarray(rates))
    radii = np.max(np.abs(np.linalg.eigvals(np.asarray(jacs))), axis=-1)
    return radii < 1.0 - RADIUS_TOL


@eqx.filter_jit
def _scaled_jacobians(objective, unit, theta, rates):
    return jax.vmap(lambda h: _update_jacobian(objective, unit.scaled(h), theta))(rates)


def nearest_distance(objective: Objective, points, equilibria) -> np.ndarray:
    """Distance of each point (B, n) to the nearest of ``equilibria`` (E, n)."""
    points = jnp.asarray(points)
    if len(equilibria) == 0:
        return np.full(points.shape[0], np.inf)
    targets = jnp.asarray(np.asarray(equilibria))
    gaps = distance(objective, points[:, None, :], targets[None, :, :])
    return np.asarray(jnp.min(gaps, axis=1))


CONVERGED_TOL = 1e-3
"""A run has converged when it ends within this distance of an equilibrium."""


@dataclass(frozen=True)
class Assessment:
    """A method at one equilibrium: its spectral radius, verdict and largest stable
    learning rate (see :func:`assess`)."""

    theta: np.ndarray
    nash: bool
    spectral_radius: float
    verdict: str
    max_stable_lr: float | None

    def to_json(self) -> dict:
        """The contract's JSON form (``jaxfgan train --json``)."""
        return {
            "theta": [float(x) for x in self.theta],
            "nash": bool(self.nash),
            "spectral_radius": self.spectral_radius,
            "verdict": self.verdict,
            "max_stable_lr": self.max_stable_lr,
        }


def assess(objective: Objective, method: Method, equilibria) -> list[Assessment]:
    """Spectral radius, verdict and max stable rate at each equilibrium found.

    Arguments:
        objective: the game.
        method: from :func:`method`.
        equilibria: the :class:`jaxfgan.Equilibrium` points of the flow (the fixed
            points of every method here).
    """
    found = []
    for point in equilibria:
        radius = spectral_radius(objective, method, point.theta)
        found.append(
            Assessment(
                theta=point.theta,
                nash=point.nash,
                spectral_radius=radius,
                verdict=verdict(radius),
                max_stable_lr=max_stable_lr(objective, method, point.theta),
            )
        )
    return found


def converged_fraction(objective: Objective, run: TrainingRun, equilibria) -> float:
    """The share of starts that end within CONVERGED_TOL of an equilibrium."""
    targets = [point.theta for point in equilibria]
    gaps = nearest_distance(objective, np.nan_to_num(run.final, nan=np.inf), targets)
    return float(np.mean(run.finite & (gaps < CONVERGED_TOL)))


def training_starts(objective: Objective, per_axis: int) -> np.ndarray:
    """A per_axis x per_axis grid of starts (two parameters) over the square
    [-pi, pi)^2 or the box, shape (per_axis**2, 2).

    The points sit 0.6 of the way across their cells, not at the centres, so that
    no start is an equilibrium at the centre of the square (both models have one).
    """
    lo, hi = (-math.pi, math.pi) if objective.box is None else objective.box
    line = lo + (np.arange(per_axis) + 0.6) * (hi - lo) / per_axis
    g, d = np.meshgrid(line, line)
    return np.stack([g.ravel(), d.ravel()], axis=1)
