"""How many GAN-flow trajectories per second does jaxfgan integrate, against the rest?

One run on one machine measures, with one problem and one set of settings throughout
(the default exponential GAN, t1 = 50, rtol 1e-6, atol 1e-8, a 5th-order adaptive
Runge-Kutta method with the same error controller):

1. jaxfgan's trajectories per second for the order-8 series and the exact objective
   at batch sizes from 10^2 up (the largest a square grid of starts), compile time
   apart, and the process's peak memory after each size;
2. at 65,536 starts (--compare), the straightforward diffrax version (the series as
   complex exponentials with a (2N+1) x (2N+1) coefficient matrix, autodiff, vmap
   over diffeqsolve with Tsit5), torchdiffeq (dopri5 on one batched state) and a loop
   of scipy's solve_ivp (RK45, timed on a sample and extrapolated), as ratios, and
   each one's error on a sample of starts against DOP853 at rtol 1e-12;
3. the floating-point rate achieved (XLA's cost analysis of one compiled solver step
   times the steps executed) as a share of the dense matrix-product rate measured
   in the same run;
4. the cost against the truncation order N and against the number of angles.

It writes benchmarks/results/flow_throughput.json and .md and, for a full run, puts
the table into benchmarks/README.md between its markers.

    python benchmarks/flow_throughput.py            # the full run (about 20 minutes)
    python benchmarks/flow_throughput.py --quick    # about a minute
"""

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from _machine import machine, save
from scipy import integrate

import jaxfgan as jf
from jaxfgan._flow import _chunk_size

HERE = Path(__file__).resolve().parent
T1, RTOL, ATOL, ORDER, GRID = 50.0, 1e-6, 1e-8, 8, 64
MAX_STEPS = 16384


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def starts(count: int, angles: int = 2) -> np.ndarray:
    """Cell centres of a square grid over the torus when count is a square (two
    angles), else uniform random starts."""
    side = math.isqrt(count)
    if angles == 2 and side * side == count:
        axis = np.linspace(-np.pi, np.pi, side, endpoint=False) + np.pi / side
        return np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    return np.random.default_rng(0).uniform(-np.pi, np.pi, size=(count, angles))


def timed(fn):
    begin = time.perf_counter()
    result = jax.block_until_ready(fn())
    return result, time.perf_counter() - begin


def run(objective, y0, chunk=None, dtype=None):
    return jf.integrate_flow(
        objective, y0, T1, rtol=RTOL, atol=ATOL, batch_size=chunk, dtype=dtype
    )


# -- 1. jaxfgan's throughput ----------------------------------------------------------


def jaxfgan_sweep(objective, sizes, chunk, dtype) -> list[dict]:
    rows, compiled = [], set()
    for size in sizes:
        y0 = starts(size)
        batch = _chunk_size(size, chunk)  # the chunk integrate_flow will compile
        compile_s = None
        if batch not in compiled:
            warm = y0[:batch]
            first = timed(lambda w=warm, b=batch: run(objective, w, b, dtype).final)
            second = timed(lambda w=warm, b=batch: run(objective, w, b, dtype).final)
            compile_s, compiled = first[1] - second[1], compiled | {batch}
        sol, seconds = timed(lambda y=y0, b=batch: run(objective, y, b, dtype))
        steps = np.asarray(sol.num_steps)
        rows.append(
            {
                "batch": size,
                "chunk": batch,
                "seconds": seconds,
                "per_second": size / seconds,
                "compile_s": compile_s,
                "peak_rss_mib": peak_rss_mib(),
                "succeeded": float(np.mean(np.asarray(sol.succeeded))),
                "mean_steps": float(np.mean(steps)),
            }
        )
        log(f"  {size:>8} starts: {size / seconds:9.0f} /s ({seconds:.1f} s)")
    return rows


# -- 2. the straightforward versions ---------------------------------------------------


def straightforward_solve(objective):
    """The final states for a batch of starts, as a user would first write it: the
    flow by autodiff of F(z), vmap over diffeqsolve (Tsit5, PID)."""

    def field(t, z, args):
        grad = jax.grad(objective)(z)
        return jnp.stack([-grad[0], grad[1]])

    def solve(start):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(field),
            diffrax.Tsit5(),
            0.0,
            T1,
            None,
            start,
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
            max_steps=MAX_STEPS,
            throw=False,
        )
        return sol.ys[-1]

    return jax.jit(jax.vmap(solve))


def diffrax_baseline(coeffs: np.ndarray):
    """F = Re sum_kl c_kl e^{ik g} e^{il d}, autodiff, vmap over diffeqsolve."""
    c = jnp.asarray(coeffs)
    k = jnp.arange(-ORDER, ORDER + 1)

    def objective(z):
        return jnp.real(jnp.exp(1j * k * z[0]) @ c @ jnp.exp(1j * k * z[1]))

    return straightforward_solve(objective)


def torch_baseline(coeffs: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """The same field in torch, one (B, 2) state for torchdiffeq's dopri5."""
    import torch
    from torchdiffeq import odeint

    c = torch.as_tensor(coeffs.copy())
    k = torch.arange(-ORDER, ORDER + 1, dtype=torch.float64)

    def field(t, z):
        eg = torch.exp(1j * z[:, :1] * k)
        ed = torch.exp(1j * z[:, 1:] * k)
        grad_g = torch.real(((1j * k * eg) @ c * ed).sum(1))
        grad_d = torch.real((eg @ c * (1j * k * ed)).sum(1))
        return torch.stack([-grad_g, grad_d], 1)

    with torch.no_grad():
        times = torch.tensor([0.0, T1], dtype=torch.float64)
        ys = odeint(field, torch.as_tensor(y0), times, rtol=RTOL, atol=ATOL)
    return ys[-1].numpy()


def numpy_field(coeffs: np.ndarray):
    k = np.arange(-ORDER, ORDER + 1)

    def field(t, z):
        eg, ed = np.exp(1j * k * z[0]), np.exp(1j * k * z[1])
        grad_g = np.real((1j * k * eg) @ coeffs @ ed)
        grad_d = np.real(eg @ coeffs @ (1j * k * ed))
        return np.array([-grad_g, grad_d])

    return field


def scipy_loop(coeffs, y0, method="RK45", rtol=RTOL, atol=ATOL) -> np.ndarray:
    field = numpy_field(coeffs)
    finals = [
        integrate.solve_ivp(field, (0.0, T1), s, method=method, rtol=rtol, atol=atol)
        for s in y0
    ]
    return np.array([sol.y[:, -1] for sol in finals])


def comparison(series, coeffs, count, sample, torch_count) -> dict:
    y0 = starts(count)
    picked = np.random.default_rng(1).choice(count, size=sample, replace=False)
    log(f"reference: DOP853 at rtol 1e-12 on {sample} starts")
    reference = scipy_loop(coeffs, y0[picked], "DOP853", 1e-12, 1e-13)
    results = {}

    run(series, y0)  # compiled for this chunk shape
    sol, seconds = timed(lambda: run(series, y0).final)
    results["jaxfgan"] = record(count, seconds, np.asarray(sol)[picked], reference)
    log(f"jaxfgan: {count / seconds:.0f} /s")

    baseline = diffrax_baseline(coeffs)
    jax.block_until_ready(baseline(jnp.asarray(y0)))
    final, seconds = timed(lambda: baseline(jnp.asarray(y0)))
    results["diffrax, straightforward"] = record(
        count, seconds, np.asarray(final)[picked], reference
    )
    log(f"diffrax straightforward: {count / seconds:.0f} /s")

    try:
        results["torchdiffeq (dopri5, batched state)"] = torch_record(
            coeffs, y0, torch_count, picked, reference
        )
    except ImportError:
        log("torchdiffeq not installed: pip install '.[bench]'")

    final, seconds = timed(lambda: scipy_loop(coeffs, y0[picked]))
    results["scipy solve_ivp loop (RK45)"] = record(sample, seconds, final, reference)
    log(f"scipy loop: {sample / seconds:.1f} /s")
    ours = results["jaxfgan"]["per_second"]
    for entry in results.values():
        entry["jaxfgan_ratio"] = ours / entry["per_second"]
    return {"batch": count, "sample": sample, "methods": results}


def torch_record(coeffs, y0, count, picked, reference) -> dict:
    import torch

    # one thread: on the shared 2-core machine two OpenMP threads that spin while
    # waiting for each other ran ten times slower
    torch.set_num_threads(1)
    final, seconds = timed(lambda: torch_baseline(coeffs, y0[:count]))
    inside = picked < count
    log(f"torchdiffeq: {count / seconds:.0f} /s")
    return record(count, seconds, final[picked[inside]], reference[inside])


def record(count, seconds, final_sample, reference) -> dict:
    error = np.max(np.abs(final_sample - reference), axis=1)
    return {
        "trajectories": count,
        "seconds": seconds,
        "per_second": count / seconds,
        "max_error": float(np.max(error)),
        "median_error": float(np.median(error)),
        "within_1e-4": float(np.mean(error < 1e-4)),
    }


# -- 3. the floating-point rate ------------------------------------------------------


def matmul_peak(dtype, size=1024, repeats=5) -> float:
    a = jnp.ones((size, size), dtype)
    product = jax.jit(lambda x: jnp.matmul(x, x, precision="highest"))
    jax.block_until_ready(product(a))
    best = min(timed(lambda: product(a))[1] for _ in range(repeats))
    return 2 * size**3 / best


def step_flops(objective, batch, dtype) -> float:
    """XLA's flop count of one Tsit5 step and step-size update for ``batch`` starts,
    the same diffrax code and flow the solve runs."""
    solver = diffrax.Tsit5()
    controller = diffrax.PIDController(rtol=RTOL, atol=ATOL)
    term = diffrax.ODETerm(lambda t, z, args: jf.vector_field(objective, z))

    def one_step(y0):
        t0, t1 = jnp.zeros((), dtype), jnp.asarray(0.01, dtype)
        state = solver.init(term, t0, t1, y0, None)
        y1, error, _, _, _ = solver.step(term, t0, t1, y0, None, state, False)
        func = solver.func
        _, state = controller.init(term, t0, t1, y0, t1 - t0, None, func, 5)
        return controller.adapt_step_size(t0, t1, y0, y1, None, error, 5, state)

    y0 = jnp.asarray(starts(batch), dtype)
    compiled = jax.jit(jax.vmap(one_step)).lower(y0).compile()
    analysis = compiled.cost_analysis()
    analysis = analysis[0] if isinstance(analysis, list) else analysis
    return float(analysis["flops"])


def flop_rate(objective, batch, dtype, peak) -> dict:
    """The rate, and where the time of one chunk goes: the flow's evaluations
    (Tsit5 makes 6 per step), diffrax's bookkeeping, and lockstep waiting (rows
    that have finished ride along until the chunk's slowest one does)."""
    y0 = starts(batch)
    run(objective, y0, batch, dtype)
    sol, seconds = timed(lambda: run(objective, y0, batch, dtype))
    per_row = np.asarray(sol.num_steps + sol.num_rejected)
    iterations = int(np.max(per_row))
    flops = step_flops(objective, batch, dtype) * iterations
    field_s = field_seconds(objective, y0.astype(dtype))
    return {
        "batch": batch,
        "iterations": iterations,
        "flops": flops,
        "seconds": seconds,
        "rate": flops / seconds,
        "peak": peak,
        "share_of_peak": flops / seconds / peak,
        "ns_per_row_iteration": 1e9 * seconds / (batch * iterations),
        "ns_per_flow_evaluation": 1e9 * field_s,
        "flow_share": 6 * field_s * batch * iterations / seconds,
        "lockstep_share": 1 - float(np.mean(per_row)) / iterations,
    }


def field_seconds(objective, y0, repeats=200) -> float:
    """Seconds per row for one vmapped evaluation of the flow (``repeats`` chained
    evaluations in one compiled loop, so dispatch is not counted)."""
    field = jax.vmap(lambda z: jf.vector_field(objective, z))

    def chain(y):
        return jax.lax.fori_loop(0, repeats, lambda i, y: y + 1e-9 * field(y), y)

    compiled = jax.jit(chain).lower(y0).compile()
    jax.block_until_ready(compiled(y0))
    best = min(timed(lambda: compiled(y0))[1] for _ in range(3))
    return best / (repeats * y0.shape[0])


# -- 4. cost growth --------------------------------------------------------------------


def growth_with_order(gan, orders, batch) -> list[dict]:
    coefficients = jf.fourier_coefficients(gan, 2 * max(orders) + 2)
    rows = []
    for order in orders:
        series = coefficients.truncate(order)
        y0 = starts(batch)
        run(series, y0)
        sol, seconds = timed(lambda s=series, y=y0: run(s, y))
        steps = float(np.mean(np.asarray(sol.num_steps)))
        rows.append(
            {
                "order": order,
                "seconds": seconds,
                "per_second": batch / seconds,
                "mean_steps": steps,
            }
        )
        log(f"  order {order}: {batch / seconds:.0f} /s, {steps:.0f} steps")
    return rows


def four_angle_game():
    """A smooth game of two angles per player, and its 2-angle restriction."""

    def fn(g, d):
        return jnp.log(
            2.5 + jnp.sin(g[0]) * jnp.sin(d[0]) + 0.5 * jnp.cos(g[-1] - d[-1])
        )

    return jf.UserObjective(fn, 2, 2), jf.UserObjective(fn, 1, 1)


def growth_with_angles(order, batch) -> list[dict]:
    rows = []
    for game in four_angle_game()[::-1]:
        series = jf.fourier_series(game, order, grid=2 * order + 2)
        y0 = starts(batch, game.n)
        run(series, y0)
        sol, seconds = timed(lambda s=series, y=y0: run(s, y))
        rows.append(
            {
                "angles": game.n,
                "order": order,
                "seconds": seconds,
                "per_second": batch / seconds,
                "mean_steps": float(np.mean(np.asarray(sol.num_steps))),
            }
        )
        log(f"  {game.n} angles: {batch / seconds:.0f} /s")
    return rows


# -- the exact objective, straightforward ----------------------------------------------


def exact_baseline(gan):
    """The exact objective as a user would write it: 80 Gauss-Laguerre nodes,
    log-sigmoids, autodiff, vmap over diffeqsolve (Exp(1) target, as the default)."""
    nodes, weights = np.polynomial.laguerre.laggauss(80)
    x, w = jnp.asarray(nodes), jnp.asarray(weights)
    kappa, r, c = (float(v) for v in (gan.gen_scale, gan.disc_scale, gan.disc_center))

    def objective(z):
        s = r * jnp.sin(z[1])
        fake = x / jnp.exp(kappa * jnp.sin(z[0]))
        real = jnp.dot(w, jax.nn.log_sigmoid(s * (x - c)))
        return real + jnp.dot(w, jax.nn.log_sigmoid(-s * (fake - c)))

    return straightforward_solve(objective)


def exact_comparison(gan, count) -> dict:
    y0 = starts(count)
    run(gan, y0)
    ours, ours_s = timed(lambda: run(gan, y0).final)
    baseline = exact_baseline(gan).lower(jnp.asarray(y0)).compile()
    theirs, theirs_s = timed(lambda: baseline(jnp.asarray(y0)))
    gap = jf.torus_distance(jnp.asarray(ours), theirs)
    log(f"exact: jaxfgan {count / ours_s:.0f} /s, baseline {count / theirs_s:.0f}")
    return {
        "batch": count,
        "jaxfgan_per_second": count / ours_s,
        "straightforward_per_second": count / theirs_s,
        "ratio": theirs_s / ours_s,
        "median_final_difference": float(jnp.median(gap)),
        "share_within_1e-4": float(jnp.mean(gap < 1e-4)),
    }


# -- the report -----------------------------------------------------------------------


def markdown(record: dict) -> str:
    return "\n".join(
        _machine_lines(record)
        + _throughput_lines(record)
        + _comparison_lines(record)
        + _rate_lines(record)
        + _growth_lines(record)
    )


def _machine_lines(record) -> list[str]:
    m = record["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    return [
        f"Machine: {m['processor']}, {m['cpus']} CPUs ({m['platform']}), "
        f"{record['device']}; Python {m['python']}; {versions}.",
        "",
        f"Settings: {json.dumps(record['settings'])}",
        "",
    ]


def _throughput_lines(record) -> list[str]:
    lines = [
        "**Throughput** (t1 = 50, rtol 1e-6, atol 1e-8):",
        "",
        "| objective | starts | chunk | trajectories/s | compile s | peak RSS MiB "
        "| succeeded |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rows in record["throughput"].items():
        for r in rows:
            compile_s = "" if r["compile_s"] is None else f"{r['compile_s']:.1f}"
            lines.append(
                f"| {name} | {r['batch']:,} | {r['chunk']:,} | {r['per_second']:,.0f} "
                f"| {compile_s} | {r['peak_rss_mib']:,.0f} | {r['succeeded']:.3f} |"
            )
    return lines + [""]


def _comparison_lines(record) -> list[str]:
    comp = record["comparison"]
    lines = [
        f"**Same problem, other tools** (order-8 series, {comp['batch']:,} starts; "
        f"errors are the largest per-angle difference from DOP853 at rtol 1e-12 on "
        f"{comp['sample']} sampled starts):",
        "",
        "| method | trajectories | trajectories/s | jaxfgan is x faster "
        "| max error | median error | share within 1e-4 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in comp["methods"].items():
        lines.append(
            f"| {name} | {r['trajectories']:,} | {r['per_second']:,.1f} "
            f"| {r['jaxfgan_ratio']:.1f} | {r['max_error']:.1e} "
            f"| {r['median_error']:.1e} | {r['within_1e-4']:.2f} |"
        )
    e = record["exact_comparison"]
    lines += [
        "",
        f"Exact objective, {e['batch']:,} starts: jaxfgan "
        f"{e['jaxfgan_per_second']:,.0f}/s, the straightforward version (80 nodes, "
        f"log-sigmoids, autodiff) {e['straightforward_per_second']:,.0f}/s: "
        f"{e['ratio']:.1f}x; their final states differ by "
        f"{e['median_final_difference']:.1e} (median), "
        f"{100 * e['share_within_1e-4']:.1f} % within 1e-4.",
        "",
    ]
    return lines


def _rate_lines(record) -> list[str]:
    f = record["flop_rate"]
    return [
        f"**Floating-point rate** (order 8, {f['batch']:,} starts): "
        f"{f['rate'] / 1e9:.2f} GFLOP/s achieved ({f['iterations']} steps x "
        f"{f['flops'] / f['iterations'] / 1e6:.1f} MFLOP per step by XLA's cost "
        f"analysis) against {f['peak'] / 1e9:.2f} GFLOP/s measured for a dense "
        f"1024 x 1024 matrix product: {100 * f['share_of_peak']:.1f} % of peak.",
        "",
        f"Where a chunk's time goes: {f['ns_per_row_iteration']:.0f} ns per row and "
        f"solver iteration, of which the flow's 6 evaluations "
        f"({f['ns_per_flow_evaluation']:.0f} ns each) are "
        f"{100 * f['flow_share']:.0f} % and diffrax's per-step bookkeeping the "
        f"rest; {100 * f['lockstep_share']:.0f} % of the row-iterations are "
        f"lockstep waiting (rows already at t1 riding along with the chunk's "
        f"slowest).",
        "",
    ]


def _growth_lines(record) -> list[str]:
    lines = [
        "**Cost against the order N** and **against the number of angles**:",
        "",
        "| order N | trajectories/s | mean steps |",
        "|---:|---:|---:|",
    ]
    for r in record["growth_order"]:
        lines.append(
            f"| {r['order']} | {r['per_second']:,.0f} | {r['mean_steps']:.0f} |"
        )
    lines += ["", "| angles | order | trajectories/s | mean steps |"]
    lines.append("|---:|---:|---:|---:|")
    for r in record["growth_angles"]:
        lines.append(
            f"| {r['angles']} | {r['order']} | {r['per_second']:,.0f} "
            f"| {r['mean_steps']:.0f} |"
        )
    return lines + [""]


def write(record: dict, update_readme: bool) -> None:
    name = "flow_throughput_quick" if record["settings"]["quick"] else "flow_throughput"
    table = markdown(record)
    save(name, record, table)
    if update_readme:
        readme = HERE / "README.md"
        begin, end = "<!-- flow_throughput:begin -->", "<!-- flow_throughput:end -->"
        head, _, rest = readme.read_text().partition(begin)
        _, _, tail = rest.partition(end)
        readme.write_text(f"{head}{begin}\n{table}{end}{tail}")
        log(f"updated {readme}")


FULL = {
    "sizes": [100, 1000, 10000, 65536, 1048576],
    "exact_sizes": [100, 1000, 10000, 65536],
    "compare": 65536,
    "exact_compare": 16384,
    "sample": 20,
    "orders": [1, 2, 4, 8, 16, 32],
    "growth_batch": 4096,
}
QUICK = {
    "sizes": [100, 1024],
    "exact_sizes": [100, 1024],
    "compare": 1024,
    "exact_compare": 1024,
    "sample": 5,
    "orders": [1, 8],
    "growth_batch": 256,
}


def positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return number


def positives(text: str) -> list[int]:
    return [positive(part) for part in text.split(",")]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small defaults: a one-minute run"
    )
    for name in ("sizes", "exact-sizes", "orders"):
        parser.add_argument(f"--{name}", type=positives, help="comma-separated")
    for name in ("compare", "exact-compare", "sample", "growth-batch"):
        parser.add_argument(f"--{name}", type=positive)
    parser.add_argument("--chunk", type=positive, help="default: jaxfgan's default")
    parser.add_argument(
        "--torch-count", type=positive, help="starts for torchdiffeq (<= --compare)"
    )
    parser.add_argument("--float32", action="store_true")
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:  # what was given explicitly stays
            setattr(args, name, value)
    args.chunk = args.chunk or jf.default_batch_size()
    args.torch_count = min(args.torch_count or args.compare, args.compare)
    return args


def main() -> None:
    args = arguments()
    dtype = jnp.float32 if args.float32 else jnp.float64
    gan = jf.exponential_gan()
    coefficients = jf.fourier_coefficients(gan, GRID)
    series = coefficients.truncate(ORDER)

    log("1. throughput")
    throughput = {
        "order-8 series": jaxfgan_sweep(series, args.sizes, args.chunk, dtype),
        "exact": jaxfgan_sweep(gan, args.exact_sizes, args.chunk, dtype),
    }
    log("2. comparison")
    coeffs = np.asarray(coefficients.modes_tensor(ORDER))
    compared = comparison(series, coeffs, args.compare, args.sample, args.torch_count)
    exact = exact_comparison(gan, args.exact_compare)
    log("3. flop rate")
    rate = flop_rate(series, args.chunk, dtype, matmul_peak(dtype))
    log("4. growth")
    record = {
        "question": __doc__.splitlines()[0],
        "machine": machine(),
        "device": str(jax.devices()[0].device_kind),
        "settings": {
            "quick": args.quick,
            "dtype": jnp.dtype(dtype).name,
            "t1": T1,
            "rtol": RTOL,
            "atol": ATOL,
            "order": ORDER,
            "chunk": args.chunk,
            "torch_count": args.torch_count,
        },
        "throughput": throughput,
        "comparison": compared,
        "exact_comparison": exact,
        "flop_rate": rate,
        "growth_order": growth_with_order(gan, args.orders, args.growth_batch),
        "growth_angles": growth_with_angles(4, args.growth_batch),
    }
    write(record, update_readme=not args.quick)


if __name__ == "__main__":
    main()
