"""Batched integration of the training flow with diffrax.

Every initial condition is integrated independently under ``jax.vmap`` with an
adaptive Runge-Kutta method; the states stay unwrapped (angles are not reduced mod
2 pi during the solve, so a trajectory's winding is kept) and are wrapped into
[-pi, pi) only for output by :func:`jaxfgan.wrap_angles`.
"""

import warnings
from functools import partial

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, PartitionSpec
from jax.typing import DTypeLike
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
    dtype: DTypeLike | None = None,
    shard: bool = False,
    distributed: bool = False,
) -> FlowSolution:
    """Integrate the flow (-grad_g F, +grad_d F) from each row of ``y0``.

    Tsit5 (5th order, adaptive) with a PID step-size controller. Failures are per
    trajectory (see :attr:`FlowSolution.status`), never raised for the batch.
    Tolerances and times are traced values: a call with other numbers but the same
    shapes reuses the compiled solve.

    The starts are integrated in chunks of at most ``batch_size``, one after
    another and all of one size (the last one padded, so one compilation serves
    all; the size is balanced, so padding stays under batch_size / 8 a chunk, plus
    up to a row per device when sharded). Each chunk stops when its own slowest
    trajectory finishes, and its results move to host memory, so device memory is
    bounded by the chunk, not by the batch.

    Arguments:
        objective: the game.
        y0: initial conditions, shape (B, n) (or (n,) for one).
        t1: the final time; t0 the initial one.
        ts: optional times in [t0, t1] at which to save the state, shape (T,).
        rtol, atol: the step-size controller's tolerances.
        max_steps: the step budget per trajectory (a static setting).
        batch_size: integrate at most this many starts at once (default
            :func:`default_batch_size`).
        progress: show a progress bar over the chunks (tqdm).
        dtype: ``jnp.float64`` (the default) or ``jnp.float32``, for the states,
            times, tolerances and the objective's numbers (with float32, pass
            rtol >= 1e-5; see the Notes).
        shard: split each chunk over ``jax.local_devices()`` with ``jax.shard_map``
            (the chunk padded to a multiple of the device count); each device runs
            the vmapped solve on its share.
        distributed: after ``jax.distributed.initialize``, each process integrates
            its contiguous slice of the starts and the slices are gathered, so every
            process returns the whole solution (no effect in a single process).

    Returns:
        A :class:`FlowSolution`.

    Notes:
        Every trajectory is integrated on its own (its steps do not depend on its
        neighbours), so chunked, sharded and distributed runs agree with a
        single-device run to round-off (batched products of other sizes may add
        in another order: about 1e-13 apart, with the same step counts).

        float64 is right for equilibria, spectra, conserved quantities and anything
        compared at tight tolerance. float32 halves memory and, on GPUs, multiplies
        throughput; it suits sweeps over many starts and pictures (where a
        trajectory ends: basins, winding) at rtol >= 1e-5. float32 rounds at 6e-8
        relative, and an error estimate near that is noise, so a warning is issued
        when float32 is asked for with a tighter rtol.

    Example: F = sin(theta_g) sin(theta_d) conserves cos(theta_g) cos(theta_d).
        >>> from jaxfgan import UserObjective
        >>> F = UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))
        >>> y0 = jnp.array([[0.5, 0.0]])
        >>> sol = integrate_flow(F, y0, t1=3.0, rtol=1e-10, atol=1e-12)
        >>> g, d = sol.final[0]
        >>> round(float(jnp.cos(g) * jnp.cos(d)), 8) == round(float(jnp.cos(0.5)), 8)
        True
    """
    dtype = _check_dtype(dtype, rtol)
    y0 = jnp.asarray(y0, dtype=dtype)
    single = y0.ndim == 1
    y0 = jnp.atleast_2d(y0)
    _check_range(dtype, t0, t1, ts)
    ts = jnp.zeros((0,), dtype) if ts is None else jnp.asarray(ts, dtype=dtype)
    _check_inputs(objective, y0, t0, t1, ts, max_steps, batch_size)
    numbers = [jnp.asarray(x, dtype=dtype) for x in (t0, t1, rtol, atol)]
    solve = partial(
        _solve_local,
        _cast(objective, dtype),
        ts=ts,
        numbers=numbers,
        max_steps=max_steps,
        batch_size=batch_size,
        progress=progress,
        shard=shard,
    )
    if distributed and jax.process_count() > 1:
        columns = _solve_distributed(solve, y0)
    else:
        columns = solve(y0)
    solution = FlowSolution(ts, *(jnp.asarray(x) for x in columns))
    if single:

        def batched(s):
            return s.ys, s.final, s.status, s.num_steps, s.num_rejected

        first = jax.tree.map(lambda x: x[0], batched(solution))
        return eqx.tree_at(batched, solution, first)
    return solution


def default_batch_size() -> int:
    """The chunk size used when none is given: 8192 starts on a CPU, 2**18 else.

    On a CPU, chunks of 8192 two-angle starts keep the solver's state in cache and
    ran fastest (2048 to 32768 measured on 2 cores, benchmarks/flow_throughput.py);
    an accelerator needs many more trajectories in flight to be busy.
    """
    return 8192 if jax.default_backend() == "cpu" else 2**18


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


def _check_dtype(dtype, rtol):
    """float64 (None) or float32, warning when rtol is below what float32 resolves."""
    if dtype is None:
        dtype = jnp.float64
    if _float_name(dtype) not in ("float64", "float32"):
        raise InputError(
            f"integrate_flow: dtype must be jnp.float64 or jnp.float32, got {dtype!r}"
        )
    dtype = jnp.dtype(dtype)
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        raise InputError(
            "integrate_flow: dtype float64 needs jax_enable_x64, which importing "
            "jaxfgan turns on and something turned off; turn it on or pass "
            "dtype=jnp.float32"
        )
    if dtype == jnp.float32 and rtol < 1e-5:
        warnings.warn(
            f"integrate_flow: rtol={rtol} is tighter than float32 can honour (it "
            "rounds at 6e-8, and the error estimate is noise near that); use "
            "rtol >= 1e-5 or dtype=jnp.float64",
            stacklevel=3,
        )
    return dtype


def _float_name(dtype) -> str:
    # np.dtype(None) is float64, so None and unreadable values get no name, and
    # neither do byte orders other than the machine's ('>f8'), which JAX refuses
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        return ""
    return dtype.name if dtype.isnative else ""


def _check_range(dtype, t0, t1, ts) -> None:
    """Times that would become infinite in ``dtype`` (1e39 in float32)."""
    largest = float(np.finfo(dtype).max)
    try:
        times = np.asarray([t0, t1, *([] if ts is None else np.ravel(ts))], float)
    except (TypeError, ValueError):
        return  # not numbers: the checks after the cast say so
    if np.any(np.abs(times[np.isfinite(times)]) > largest):
        raise InputError(
            f"integrate_flow: the times t0={t0}, t1={t1} and ts must stay below "
            f"{largest:.3g} in magnitude for dtype {np.dtype(dtype).name}"
        )


def _cast(objective: Objective, dtype) -> Objective:
    """The objective with its real arrays in ``dtype`` (complex ones to match), so
    that a float32 solve is not promoted back to float64 by its coefficients."""
    complex_dtype = jnp.result_type(dtype, jnp.complex64)

    def cast(x):
        if not eqx.is_inexact_array(x):
            return x
        return x.astype(complex_dtype if jnp.iscomplexobj(x) else dtype)

    return jax.tree.map(cast, objective)


def _solve_local(objective, y0, ts, numbers, max_steps, batch_size, progress, shard):
    """The rows of y0 on this process's devices, chunk after chunk, as host arrays
    (ys, final, status, num_steps, num_rejected)."""
    size = _chunk_size(y0.shape[0], batch_size or default_batch_size())
    solve = _solve_batch
    if shard:
        devices = jax.local_devices()
        size = -(-size // len(devices)) * len(devices)
        solve = partial(_solve_sharded, mesh=Mesh(np.array(devices), ("batch",)))
    chunks = _Chunks(y0, size)
    if progress:
        chunks = tqdm(chunks, desc="integrating", unit="chunk")
    parts = [
        _to_host(solve(objective, chunk, ts, *numbers, max_steps=max_steps), count)
        for chunk, count in chunks
    ]
    return tuple(np.concatenate(xs) for xs in zip(*parts, strict=True))


def _chunk_size(count: int, limit: int) -> int:
    """The size of the fewest chunks of at most ``limit`` rows that hold ``count``.

    One chunk is exactly ``count`` rows. Several are balanced, rounded up to a
    multiple of limit / 8: 10,000 starts with a limit of 8192 run as two chunks of
    5120, not 8192 and a padded 8192 (39 % wasted), and batches of any size share
    at most eight compiled chunk shapes."""
    chunks = -(-count // limit)
    if chunks == 1:
        return count
    step = -(-limit // 8)
    balanced = -(-count // chunks)
    return min(limit, -(-balanced // step) * step)


def _solve_distributed(solve, y0):
    """This process's contiguous slice of the starts, then every process's results
    gathered (each slice padded to the same length, as the gather needs)."""
    count, index = jax.process_count(), jax.process_index()
    share = -(-y0.shape[0] // count)
    padding = jnp.repeat(y0[-1:], share * count - y0.shape[0], axis=0)
    padded = jnp.concatenate([y0, padding])
    mine = solve(padded[index * share : (index + 1) * share])
    gathered = multihost_utils.process_allgather(mine, tiled=True)
    return tuple(np.asarray(x)[: y0.shape[0]] for x in gathered)


class _Chunks:
    """Padded chunks of the starts: (chunk of exactly ``size`` rows, real rows)."""

    def __init__(self, y0, size: int):
        self.y0, self.size = y0, size

    def __len__(self) -> int:
        return -(-self.y0.shape[0] // self.size)

    def __iter__(self):
        for begin in range(0, self.y0.shape[0], self.size):
            chunk = self.y0[begin : begin + self.size]
            count = chunk.shape[0]
            padding = jnp.repeat(chunk[-1:], self.size - count, axis=0)
            yield jnp.concatenate([chunk, padding]), count


def _to_host(columns, count):
    return tuple(np.asarray(x)[:count] for x in columns)


@eqx.filter_jit
def _solve_batch(objective, y0, ts, t0, t1, rtol, atol, *, max_steps):
    return _solve_rows(objective, y0, ts, t0, t1, rtol, atol, max_steps)


@eqx.filter_jit
def _solve_sharded(objective, y0, ts, t0, t1, rtol, atol, *, max_steps, mesh):
    """The rows of y0 split over the mesh's devices, each share solved by vmap.

    shard_map, not jit over sharded inputs: the partitioner would have to split an
    adaptive while loop whose trip count depends on every row, which was reported
    to run many times slower (issue 3); here each device runs its own loop, until
    its own slowest row finishes.
    """
    arrays, static = eqx.partition(objective, eqx.is_array)

    def solve_share(arrays, y0, *settings):
        return _solve_rows(eqx.combine(arrays, static), y0, *settings, max_steps)

    replicated = PartitionSpec()
    solve = jax.shard_map(
        solve_share,
        mesh=mesh,
        in_specs=(replicated, PartitionSpec("batch"), *[replicated] * 5),
        out_specs=PartitionSpec("batch"),
        # No collectives run inside, so the replication check guards nothing;
        # with it on, diffrax's while loops fail it (a carry that starts as a
        # replicated constant comes back per-shard: "manual axis types do not
        # match"), and casting the inputs cannot reach diffrax's own constants.
        check_vma=False,
    )
    return solve(arrays, y0, ts, t0, t1, rtol, atol)


def _solve_rows(objective, y0, ts, t0, t1, rtol, atol, max_steps):
    """(ys, final, status, num_steps, num_rejected) for the rows of y0, by vmap."""

    def solve_one(start):
        return _solve(objective, start, ts, t0, t1, rtol, atol, max_steps)

    return jax.vmap(solve_one)(y0)


def _solve(objective, start, ts, t0, t1, rtol, atol, max_steps):
    term = diffrax.ODETerm(
        lambda t, z, args: vector_field(objective, z).astype(z.dtype)
    )
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
        _status(sol, vector_field(objective, sol.ys[-1])),
        stats["num_accepted_steps"],
        stats["num_rejected_steps"],
    )


def _status(sol: diffrax.Solution, last_velocity: Array) -> Array:
    """The code of FLOW_STATUS. A flow that is not finite where the solve stopped
    is code 3 whatever diffrax reports: it rejects every step there until the
    budget runs out, and 'raise max_steps' would be the wrong advice."""
    finite = jnp.all(jnp.isfinite(sol.ys[-1]))
    stuck = ~jnp.all(jnp.isfinite(last_velocity))
    results = diffrax.RESULTS
    succeeded = (sol.result == results.successful) & finite
    return jnp.select(
        [
            succeeded,
            stuck | ~finite,
            sol.result == results.max_steps_reached,
            sol.result == results.dt_min_reached,
        ],
        [0, 3, 1, 2],
        default=3,
    )
