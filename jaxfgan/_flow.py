"""Batched integration of the training flow with diffrax.

Every initial condition is integrated independently under ``jax.vmap`` with an
adaptive Runge-Kutta method; the states stay unwrapped (angles are not reduced mod
2 pi during the solve, so a trajectory's winding is kept) and are wrapped into
[-pi, pi) only for output by :func:`jaxfgan.wrap_angles`.
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from ._errors import InputError
from ._objective import Objective, vector_field
from ._typing import Array, ArrayLike


class FlowSolution(eqx.Module):
    """The result of :func:`integrate_flow` for a batch of B initial conditions.

    Attributes:
        ts: the saved times, shape (T,) (T = 0 when none were asked for).
        ys: the unwrapped states at ``ts``, shape (B, T, n).
        final: the unwrapped state at t1, shape (B, n).
        status: per-trajectory outcome, an index into :data:`FLOW_STATUS`, shape (B,).
        num_steps: accepted steps per trajectory (at most ``max_steps``), shape (B,).
        num_rejected: rejected steps per trajectory, shape (B,).
    """

    ts: Array
    ys: Array
    final: Array
    status: Array
    num_steps: Array
    num_rejected: Array

    @property
    def succeeded(self) -> Array:
        """True where the trajectory reached t1 with a finite state, shape (B,)."""
        return self.status == 0

    def messages(self) -> list[str]:
        """A message per trajectory: '' on success, else what failed and what to do."""
        return [FLOW_STATUS[code] for code in jnp.ravel(self.status).tolist()]


FLOW_STATUS = (
    "",
    "the step budget ran out before t1: raise max_steps or shorten t1",
    "the step size fell below its minimum: loosen rtol and atol",
    "the state became infinite or NaN: the objective is not finite along this path",
)
"""Messages of :attr:`FlowSolution.status`: 0 is success."""


def integrate_flow(
    objective: Objective,
    y0: ArrayLike,
    t1: float,
    *,
    t0: float = 0.0,
    ts: ArrayLike | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int = 16384,
    batch_size: int | None = None,
    progress: bool = False,
) -> FlowSolution:
    """Integrate the flow (-grad_g F, +grad_d F) from each row of ``y0``.

    Tsit5 (5th order, adaptive) with a PID step-size controller. Failures are per
    trajectory (see :attr:`FlowSolution.status`), never raised for the batch.
    Tolerances and times are traced values: a call with other numbers but the same
    shapes reuses the compiled solve.

    With ``batch_size``, the starts are integrated in chunks of that size one after
    another (the last one padded, so one compilation serves all); each chunk stops
    when its own slowest trajectory finishes, and its results move to host memory,
    so device memory is bounded by the chunk, not by the batch.

    Arguments:
        objective: the game.
        y0: initial conditions, shape (B, n) (or (n,) for one).
        t1: the final time; t0 the initial one.
        ts: optional times in [t0, t1] at which to save the state, shape (T,).
        rtol, atol: the step-size controller's tolerances.
        max_steps: the step budget per trajectory (a static setting).
        batch_size: integrate at most this many starts at once (default: all).
        progress: show a progress bar over the chunks (tqdm).

    Returns:
        A :class:`FlowSolution`.

    Example: F = sin(theta_g) sin(theta_d) conserves cos(theta_g) cos(theta_d).
        >>> from jaxfgan import UserObjective
        >>> F = UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))
        >>> y0 = jnp.array([[0.5, 0.0]])
        >>> sol = integrate_flow(F, y0, t1=3.0, rtol=1e-10, atol=1e-12)
        >>> g, d = sol.final[0]
        >>> round(float(jnp.cos(g) * jnp.cos(d)), 8) == round(float(jnp.cos(0.5)), 8)
        True
    """
    y0 = jnp.asarray(y0, dtype=float)
    single = y0.ndim == 1
    y0 = jnp.atleast_2d(y0)
    ts = jnp.zeros((0,)) if ts is None else jnp.asarray(ts, dtype=float)
    _check_inputs(objective, y0, t0, t1, ts, max_steps, batch_size)
    numbers = [jnp.asarray(x, dtype=float) for x in (t0, t1, rtol, atol)]
    chunks = _Chunks(y0, batch_size or y0.shape[0])
    if progress:
        chunks = tqdm(chunks, desc="integrating", unit="chunk")
    parts = [
        _solve_chunk(objective, chunk, count, ts, numbers, max_steps)
        for chunk, count in chunks
    ]
    solution = jax.tree.map(lambda *xs: jnp.concatenate(xs), *parts)
    solution = eqx.tree_at(lambda s: s.ts, solution, ts)
    if single:

        def batched(s):
            return s.ys, s.final, s.status, s.num_steps, s.num_rejected

        first = jax.tree.map(lambda x: x[0], batched(solution))
        return eqx.tree_at(batched, solution, first)
    return solution


def _check_inputs(objective, y0, t0, t1, ts, max_steps, batch_size) -> None:
    """Errors a user can fix, raised before anything is compiled."""
    if y0.ndim != 2 or y0.shape[1] != objective.n or y0.shape[0] == 0:
        raise InputError(
            f"integrate_flow: y0 must have shape (batch >= 1, {objective.n}), got "
            f"{y0.shape}"
        )
    if not bool(jnp.all(jnp.isfinite(y0))):
        raise InputError("integrate_flow: y0 has NaN or infinite starts")
    if not (np.isfinite(t0) and np.isfinite(t1) and t1 > t0):
        raise InputError(f"integrate_flow: need finite t0 < t1, got t0={t0}, t1={t1}")
    steps = np.diff(np.asarray(ts))
    if ts.ndim != 1 or (ts.size and (ts[0] < t0 or ts[-1] > t1 or np.any(steps < 0))):
        raise InputError("integrate_flow: ts must be increasing times within [t0, t1]")
    for name, number in (("max_steps", max_steps), ("batch_size", batch_size)):
        if number is not None and (not isinstance(number, int) or number < 1):
            raise InputError(f"integrate_flow: {name} must be an integer >= 1")


class _Chunks:
    """Padded chunks of the starts: (chunk of exactly ``size`` rows, real rows)."""

    def __init__(self, y0, size: int):
        self.y0, self.size = y0, min(size, y0.shape[0])

    def __len__(self) -> int:
        return -(-self.y0.shape[0] // self.size)

    def __iter__(self):
        for begin in range(0, self.y0.shape[0], self.size):
            chunk = self.y0[begin : begin + self.size]
            count = chunk.shape[0]
            padding = jnp.repeat(chunk[-1:], self.size - count, axis=0)
            yield jnp.concatenate([chunk, padding]), count


def _solve_chunk(objective, chunk, count, ts, numbers, max_steps) -> FlowSolution:
    solution = _solve_batch(objective, chunk, ts, *numbers, max_steps=max_steps)
    solution = jax.tree.map(lambda x: np.asarray(x)[:count], solution)
    return eqx.tree_at(lambda s: s.ts, solution, np.asarray(ts))


@eqx.filter_jit
def _solve_batch(objective, y0, ts, t0, t1, rtol, atol, *, max_steps):
    def solve_one(start):
        return _solve(objective, start, ts, t0, t1, rtol, atol, max_steps)

    ys, final, status, steps, rejected = jax.vmap(solve_one)(y0)
    return FlowSolution(
        ts=ts, ys=ys, final=final, status=status, num_steps=steps, num_rejected=rejected
    )


def _solve(objective, start, ts, t0, t1, rtol, atol, max_steps):
    term = diffrax.ODETerm(lambda t, z, args: vector_field(objective, z))
    saveat = diffrax.SaveAt(ts=ts, t1=True) if ts.size else diffrax.SaveAt(t1=True)
    sol = diffrax.diffeqsolve(
        term,
        diffrax.Tsit5(),
        t0,
        t1,
        dt0=None,
        y0=start,
        saveat=saveat,
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
        throw=False,
    )
    stats = sol.stats
    return (
        sol.ys[:-1],
        sol.ys[-1],
        _status(sol),
        stats["num_accepted_steps"],
        stats["num_rejected_steps"],
    )


def _status(sol: diffrax.Solution) -> Array:
    finite = jnp.all(jnp.isfinite(sol.ys[-1]))
    results = diffrax.RESULTS
    return jnp.select(
        [
            (sol.result == results.successful) & finite,
            sol.result == results.max_steps_reached,
            sol.result == results.dt_min_reached,
        ],
        [0, 1, 2],
        default=3,
    )
