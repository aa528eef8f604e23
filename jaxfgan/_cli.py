"""The command line: ``jaxfgan portrait | equilibria | fourier | train | basins |
orbits | truncation``. The only module that prints."""

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from . import __version__
from ._basins import BASIN_STATUS
from ._equilibria import Equilibria, find_equilibria
from ._errors import InputError
from ._exponential import ExponentialGAN
from ._fourier import default_grid, fourier_coefficients
from ._model_options import add_model_options, build_objective
from ._objective import Objective
from ._portrait import same_flow
from ._regularizers import base_model
from ._report import describe_model, equilibria_json, learned_rate, run_metadata
from ._training import (
    METHODS,
    assess,
    converged_fraction,
    method,
    train,
    training_starts,
)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(_attach_box(sys.argv[1:] if argv is None else argv))
    try:
        return args.run(args)
    except InputError as error:
        message = str(error).removeprefix(f"{args.command}: ")
        print(f"jaxfgan {args.command}: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader (e.g. `| head`) left: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(
            f"jaxfgan {args.command}: interrupted; nothing was written", file=sys.stderr
        )
        sys.stderr.flush()
        os._exit(130)  # skip interpreter teardown, which can crash inside XLA here


def _attach_box(argv: list[str]) -> list[str]:
    """'--box -2,2' -> '--box=-2,2': argparse takes a value such as -2,2 for an
    option, since it is not a plain negative number."""
    joined = []
    for word in argv:
        if joined and joined[-1] == "--box" and word.startswith("-"):
            joined[-1] = f"--box={word}"
        else:
            joined.append(word)
    return joined


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jaxfgan",
        description="Training dynamics of torus GANs through their Fourier modes.",
    )
    parser.add_argument("--version", action="version", version=f"jaxfgan {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    _portrait_parser(commands)
    _equilibria_parser(commands)
    _fourier_parser(commands)
    _train_parser(commands)
    _basins_parser(commands)
    _orbits_parser(commands)
    _truncation_parser(commands)
    return parser


def _portrait_parser(commands) -> None:
    sub = commands.add_parser(
        "portrait",
        help="phase portraits of the exact objective and its series",
        description="Draw the flow of the exact objective and of each truncation "
        "order, with every equilibrium classified; write DIR/portrait.png "
        "and DIR/summary.json.",
    )
    add_model_options(sub)
    sub.add_argument(
        "--orders",
        type=_orders,
        metavar="N,N,...",
        help="truncation orders to draw beside the exact F (default "
        "1,2,4,8 on the torus, none on R^n; A..B for a range)",
    )
    sub.add_argument(
        "--out",
        default="portrait",
        metavar="DIR",
        help="output folder (default ./portrait)",
    )
    _fourier_grid_option(sub, "--fourier-grid")
    _starts_option(sub)
    sub.set_defaults(run=_run_portrait)


def _equilibria_parser(commands) -> None:
    sub = commands.add_parser(
        "equilibria",
        help="find and classify every equilibrium",
        description="Find every equilibrium of the flow by Newton's method from a grid "
        "of starts, classify it from its Jacobian spectrum, and check the "
        "Poincare-Hopf index sum.",
    )
    add_model_options(sub)
    sub.add_argument(
        "--order",
        type=_non_negative,
        metavar="N",
        help="use the order-N Fourier series (default: the exact F)",
    )
    sub.add_argument(
        "--grid",
        type=_positive,
        metavar="M",
        dest="starts",
        help="Newton starts per angle, used as given (default: 24 for two angles, "
        "doubled until the Poincare-Hopf index sum is 0)",
    )
    _fourier_grid_option(sub, "--fourier-grid")
    sub.add_argument("--json", action="store_true", help="print one JSON object")
    sub.set_defaults(run=_run_equilibria)


def _fourier_parser(commands) -> None:
    sub = commands.add_parser(
        "fourier",
        help="the kept Fourier coefficients of the order-N series",
        description="List the coefficients c_k of F = sum_k c_k exp(i k.theta) with "
        "max |k_j| <= N, from an FFT on a grid of M points per angle.",
    )
    add_model_options(sub)
    sub.add_argument(
        "--order",
        type=_non_negative,
        required=True,
        metavar="N",
        help="keep the modes with max |k_j| <= N",
    )
    _fourier_grid_option(sub, "--grid")
    sub.add_argument("--json", action="store_true", help="print one JSON object")
    sub.set_defaults(run=_run_fourier)


def _train_parser(commands) -> None:
    sub = commands.add_parser(
        "train",
        help="discrete training from a grid of starts, with its local verdicts",
        description="Run a discrete training method from a grid of starts; at each "
        "equilibrium give the update map's spectral radius, the verdict "
        "(converges/oscillates/diverges) and the largest stable learning "
        "rate; write DIR/training.png. Several methods, comma-separated, "
        "are drawn side by side.",
    )
    add_model_options(sub)
    sub.add_argument(
        "--method",
        required=True,
        type=_methods,
        metavar="M[,M...]",
        help=f"{', '.join(METHODS)}, or all",
    )
    sub.add_argument(
        "--lr", required=True, type=_positive_float, metavar="H", help="learning rate"
    )
    sub.add_argument(
        "--lr-d",
        type=_positive_float,
        metavar="H",
        help="the discriminator's learning rate (default --lr)",
    )
    sub.add_argument(
        "--steps",
        type=_positive,
        default=1000,
        metavar="K",
        help="steps (rounds for altgd) (default 1000)",
    )
    sub.add_argument(
        "--g-steps", type=_positive, default=1, metavar="N", help="altgd: default 1"
    )
    sub.add_argument(
        "--d-steps", type=_positive, default=1, metavar="N", help="altgd: default 1"
    )
    sub.add_argument(
        "--momentum",
        type=float,
        metavar="B",
        help="momentum: beta in (-1, 1), negative allowed (default 0.5)",
    )
    sub.add_argument(
        "--starts",
        type=_positive,
        default=5,
        metavar="N",
        help="an N x N grid of starts (default 5)",
    )
    sub.add_argument(
        "--out", default="training", metavar="DIR", help="output folder (./training)"
    )
    sub.add_argument(
        "--json", action="store_true", help="print one JSON object per method"
    )
    sub.set_defaults(run=_run_train)


def _run_train(args) -> int:
    from ._training_plot import plot_training  # matplotlib only when drawing

    begin = time.perf_counter()
    out = _check_out_dir(args.out)
    objective = build_objective(args)
    methods = [_method_from(args, name) for name in args.method]
    if objective.n != 2:
        raise InputError(
            f"the figure draws one parameter per player, but the model has "
            f"{objective.n_g} + {objective.n_d}"
        )
    if not args.json:
        _warn_nash(objective)
    found = find_equilibria(objective)
    starts = training_starts(objective, args.starts)
    results = []
    for chosen in methods:
        run = train(objective, chosen, starts, args.steps)
        results.append((chosen, run, assess(objective, chosen, found.points)))
    figure = plot_training(objective, found, results, describe_model(objective))
    png = io.BytesIO()
    figure.savefig(png, dpi=110)
    _write_atomically(out, {"training.png": png.getvalue()})
    for chosen, run, verdicts in results:
        record = {
            "method": chosen.name,
            "equilibria": [item.to_json() for item in verdicts],
            "converged_fraction": converged_fraction(objective, run, found.points),
        }
        print(json.dumps(record) if args.json else _training_text(chosen, record))
    if not args.json:
        print(f"wrote {out / 'training.png'} in {time.perf_counter() - begin:.1f} s")
    return 0


def _method_from(args, name: str):
    """The method ``name`` with the settings that apply to it."""
    if args.momentum is not None and "momentum" not in args.method:
        raise InputError("--momentum applies to --method momentum only")
    if (args.g_steps, args.d_steps) != (1, 1) and "altgd" not in args.method:
        raise InputError("--g-steps and --d-steps apply to --method altgd only")
    momentum = 0.5 if args.momentum is None else args.momentum
    try:
        return method(
            name,
            args.lr,
            lr_d=args.lr_d,
            momentum=momentum if name == "momentum" else 0.0,
            g_steps=args.g_steps if name == "altgd" else 1,
            d_steps=args.d_steps if name == "altgd" else 1,
        )
    except InputError as error:
        raise InputError(str(error).removeprefix("method: ")) from None


def _training_text(chosen, record) -> str:
    lines = [
        f"{chosen.name} (lr {float(chosen.lr):g}, lr-d {float(chosen.lr_d):g}): "
        f"{100 * record['converged_fraction']:.0f}% of the starts converged "
        f"(ended within 1e-3 of an equilibrium)"
    ]
    for item in record["equilibria"]:
        theta = ", ".join(f"{x:.4g}" for x in item["theta"])
        top = item["max_stable_lr"]
        top = "none" if top is None else f"{top:.4g}"
        lines.append(
            f"  ({theta}){' Nash' if item['nash'] else ''}: spectral radius "
            f"{item['spectral_radius']:.6g}, {item['verdict']}; stable for lr up to "
            f"{top}"
        )
    return "\n".join(lines)


def _basins_parser(commands) -> None:
    sub = commands.add_parser(
        "basins",
        help="basins of attraction on a grid of starts",
        description="Integrate the flow from every point of an M x M grid of starts, "
        "label each by the attractor it reaches (or why it settles nowhere), and "
        "write DIR/basins.png and DIR/basins.npz. Chunks are kept on disk as they "
        "finish, so a killed run continues with --resume.",
    )
    add_model_options(sub)
    _order_option(sub)
    sub.add_argument(
        "--grid",
        type=_positive,
        default=128,
        metavar="M",
        help="starts per angle (default 128)",
    )
    sub.add_argument(
        "--t1",
        type=_positive_float,
        default=150.0,
        metavar="T",
        help="integration time (default 150)",
    )
    sub.add_argument(
        "--epsilon",
        type=_positive_float,
        default=1e-3,
        metavar="E",
        help="settled means within E radians of an attractor (default 1e-3)",
    )
    sub.add_argument(
        "--chunk-size",
        type=_positive,
        default=16384,
        metavar="S",
        help="starts integrated and saved together (default 16384)",
    )
    sub.add_argument(
        "--out",
        default="basins",
        metavar="DIR",
        help="output folder (default ./basins)",
    )
    sub.add_argument(
        "--resume",
        action="store_true",
        help="reuse the chunks a killed run with the same settings left in DIR",
    )
    _fourier_grid_option(sub, "--fourier-grid", "grid_fourier")
    _starts_option(sub)
    sub.add_argument("--json", action="store_true", help="print one JSON object")
    sub.set_defaults(run=_run_basins)


def _orbits_parser(commands) -> None:
    sub = commands.add_parser(
        "orbits",
        help="periodic orbits: closed orbits, limit cycles, their periods",
        description="Find periodic orbits with a Poincare return map and Newton "
        "shooting; report period, amplitude and Floquet multipliers, and the "
        "period against amplitude for families of closed orbits around centres. "
        "With --through, follow the orbit through one point.",
    )
    add_model_options(sub)
    _order_option(sub)
    sub.add_argument(
        "--through",
        type=_point,
        metavar="TG,TD",
        help="follow the orbit through (theta_G, theta_D) and say if it closes",
    )
    sub.add_argument(
        "--tolerance",
        type=_positive_float,
        default=1e-6,
        metavar="TOL",
        help="an orbit is closed when its first return is within TOL radians of "
        "its start (default 1e-6)",
    )
    sub.add_argument(
        "--out",
        default="orbits",
        metavar="DIR",
        help="output folder (default ./orbits)",
    )
    _fourier_grid_option(sub, "--fourier-grid", "grid_fourier")
    _starts_option(sub)
    sub.add_argument("--json", action="store_true", help="print one JSON object")
    sub.set_defaults(run=_run_orbits)


def _order_option(sub) -> None:
    sub.add_argument(
        "--order",
        type=_non_negative,
        metavar="N",
        help="use the order-N Fourier series (default: the exact F)",
    )


def _fourier_grid_option(sub, flag: str, dest: str = "grid") -> None:
    sub.add_argument(
        flag,
        type=_positive,
        metavar="M",
        dest=dest,
        help="Fourier grid points per angle (default 128, 64 for four angles; "
        "needs M >= 2N+1)",
    )
    sub.set_defaults(grid_flag=flag)


def _starts_option(sub) -> None:
    sub.add_argument(
        "--starts",
        type=_positive,
        metavar="S",
        help="Newton starts per angle for the equilibria (default 24)",
    )


def _run_portrait(args) -> int:
    from ._plot import plot_portrait  # matplotlib only for the command that draws
    from ._portrait import portrait_panels

    begin = time.perf_counter()
    out = _check_out_dir(args.out)
    objective = build_objective(args)
    if args.orders is None:
        args.orders = (1, 2, 4, 8) if objective.box is None else ()
    if args.orders:
        _check_torus(objective, "--orders")
    _resolve_grid(args, objective)
    _check_orders(args.orders, args.grid, args.grid_flag, flow=True)
    _warn_nash(objective)
    panels = portrait_panels(objective, args.orders, grid=args.grid, starts=args.starts)
    figure = plot_portrait(panels, title=describe_model(objective))
    png = io.BytesIO()
    figure.savefig(png, dpi=120)
    summary = _portrait_summary(args, objective, panels, time.perf_counter() - begin)
    _write_atomically(
        out,
        {
            "portrait.png": png.getvalue(),
            "summary.json": json.dumps(summary, indent=2).encode(),
        },
    )
    print(_portrait_text(objective, panels))
    print(
        f"wrote {out / 'portrait.png'} and {out / 'summary.json'} "
        f"in {time.perf_counter() - begin:.1f} s"
    )
    return 0


def _run_equilibria(args) -> int:
    objective = build_objective(args)
    _resolve_grid(args, objective)
    model = objective
    sup_error = None
    if args.order is not None:
        _check_torus(objective, "--order")
        _check_orders((args.order,), args.grid, args.grid_flag, flow=True)
        coefficients = fourier_coefficients(objective, args.grid)
        sup_error = coefficients.sup_error(args.order)
        objective = same_flow(model, coefficients.truncate(args.order))
    if not args.json:
        _warn_nash(model)
    found = find_equilibria(objective, starts=args.starts)
    record = {
        "order": args.order,
        **equilibria_json(found),
        "learned_rate": learned_rate(model, found),
    }
    if args.json:
        print(json.dumps(record))
        return 0
    label = "exact F" if args.order is None else f"order {args.order}"
    print(describe_model(model))
    if sup_error is not None:
        label += f" (sup error {sup_error:.3g} on a {args.grid}-point grid)"
    print(_equilibria_text(label, found, record["learned_rate"]))
    print(_equilibria_table(found))
    return 0


def _run_fourier(args) -> int:
    objective = build_objective(args)
    _check_torus(objective, "fourier")
    _resolve_grid(args, objective)
    _check_orders((args.order,), args.grid, args.grid_flag)
    coefficients = fourier_coefficients(objective, args.grid)
    tensor = coefficients.modes_tensor(args.order)
    modes = _mode_list(args.order, objective.n)
    values = [complex(tensor[tuple(k + args.order for k in mode)]) for mode in modes]
    record = {
        "modes": modes,
        "coefficients": [[c.real, c.imag] for c in values],
        "sup_error": coefficients.sup_error(args.order),
    }
    if args.json:
        print(json.dumps(record))
        return 0
    print(describe_model(objective))
    print(
        f"order {args.order}: {len(modes)} modes, F = sum_k c_k exp(i k.theta); "
        f"sup error {record['sup_error']:.3g} on a {args.grid}-point grid"
    )
    print(f"{'k':>14}  {'Re c_k':>14}  {'Im c_k':>14}  {'|c_k|':>11}")
    for mode, c in zip(modes, values, strict=True):
        print(f"{str(tuple(mode)):>14}  {c.real:14.6e}  {c.imag:14.6e}  {abs(c):11.3e}")
    return 0


def _run_basins(args) -> int:
    from ._basins import basin_map
    from ._basins_plot import plot_basins  # matplotlib only for commands that draw
    from ._chunk_store import ChunkStore

    begin = time.perf_counter()
    out = _check_out_dir(args.out)
    model, objective, label = _game(args)
    if not args.json:
        _warn_nash(model)
    _check_two_angles("basins", objective)
    found = find_equilibria(objective, starts=args.starts)
    store = ChunkStore(
        out / ".basins-chunks", _basins_fingerprint(args, objective, found)
    )
    if not args.resume:
        store.clear()
    try:
        basins = basin_map(
            objective,
            grid=args.grid,
            t1=args.t1,
            epsilon=args.epsilon,
            equilibria=found,
            chunk_size=args.chunk_size,
            **_BASIN_INTEGRATION,
            store=store,
            progress=_progress_bar(),
        )
    except KeyboardInterrupt:
        print(
            f"jaxfgan basins: interrupted; finished chunks are kept in {store.folder}: "
            f"rerun with --resume",
            file=sys.stderr,
        )
        return 130
    figure = plot_basins(basins, title=f"{describe_model(model)}\n{label}")
    _write_atomically(out, _basins_files(basins, figure))
    store.clear()
    record = _basins_json(basins)
    if args.json:
        print(json.dumps(record))
        return 0
    print(describe_model(model))
    print(_basins_text(label, basins))
    print(
        f"wrote {out / 'basins.png'} and {out / 'basins.npz'} "
        f"in {time.perf_counter() - begin:.1f} s"
    )
    return 0


def _run_orbits(args) -> int:
    from ._orbits import find_orbits, follow_orbit

    model, objective, label = _game(args)
    _check_two_angles("orbits", objective)
    if args.through is not None:
        closed, back = follow_orbit(objective, args.through, tolerance=args.tolerance)
        record = {
            "closed": bool(closed),
            "period": back.time if closed else None,
            "drift": back.drift if back is not None else None,
            "tolerance": args.tolerance,
            "winding": None if back is None else [int(k) for k in back.winding],
        }
        print(json.dumps(record) if args.json else _through_text(args, record))
        return 0
    out = _check_out_dir(args.out)
    if not args.json:
        _warn_nash(model)
    found = find_equilibria(objective, starts=args.starts)
    orbits, families = find_orbits(objective, found, tolerance=args.tolerance)
    record = {
        "orbits": [orbit.to_json() for orbit in orbits],
        "families": [family.to_json() for family in families],
        "spirals": _rotations(objective, found),
        "tolerance": args.tolerance,
    }
    _write_orbits(out, model, objective, label, found, orbits, families)
    if args.json:
        print(json.dumps(record))
        return 0
    print(describe_model(model))
    print(_orbits_text(label, record))
    print(f"wrote {out / 'orbits.png'}")
    return 0


def _rotations(objective, found) -> list[dict]:
    from ._rotation import rotation_contraction

    spirals = [p for p in found.points if p.kind.startswith("spiral")]
    return [rotation_contraction(objective, p).to_json() for p in spirals]


def _write_orbits(out, model, objective, label, found, orbits, families) -> None:
    from ._orbits_plot import plot_orbits

    title = f"{describe_model(model)}\n{label}"
    figure = plot_orbits(objective, found, orbits, families, title=title)
    png = io.BytesIO()
    figure.savefig(png, dpi=110)
    _write_atomically(out, {"orbits.png": png.getvalue()})


def _through_text(args, record) -> str:
    point = ", ".join(f"{x:g}" for x in args.through)
    if record["drift"] is None:
        return f"orbit through ({point}): no return to its section (not closed)"
    verdict = (
        f"closed, period {record['period']:.10g}" if record["closed"] else "not closed"
    )
    return (
        f"orbit through ({point}): {verdict}; first return drifts by "
        f"{record['drift']:.3g} of its amplitude (closed when <= {args.tolerance:g})"
    )


def _orbits_text(label: str, record: dict) -> str:
    lines = [f"{label}: {len(record['orbits'])} periodic orbits"]
    for orbit in record["orbits"]:
        multipliers = ", ".join(
            f"{re:.6g}{im:+.2g}i" for re, im in orbit["multipliers"]
        )
        lines.append(
            f"  {orbit['kind']}: period {orbit['period']:.8g}, amplitude "
            f"{orbit['amplitude']:.4g}, multipliers {multipliers}"
        )
    for family in record["families"]:
        lines.append(
            f"  family around {tuple(round(x, 4) for x in family['center'])}: "
            f"periods {family['periods'][0]:.6g} .. {family['periods'][-1]:.6g}, "
            f"small-amplitude limit {family['small_amplitude_period']:.6g}"
        )
    for spiral in record["spirals"]:
        lines.append(
            f"  spiral at {tuple(round(x, 4) for x in spiral['theta'])}: "
            f"{spiral['measured_turns_per_efold']:.6g} turns per e-fold measured, "
            f"{spiral['predicted_turns_per_efold']:.6g} from the spectrum"
        )
    return "\n".join(lines)


def _game(args) -> tuple[Objective, Objective, str]:
    """The model, the objective to study (it or its order-N series), and a label."""
    model = build_objective(args)
    if model.box is not None:
        raise InputError(
            f"basins and orbits match angles modulo 2 pi, but this model lives on "
            f"R^{model.n}; use portrait, equilibria or train"
        )
    if args.order is None:
        return model, model, "exact F"
    grid = args.grid_fourier or default_grid(model.n)
    _check_orders((args.order,), grid, "--fourier-grid", flow=True)
    coefficients = fourier_coefficients(model, grid)
    series = same_flow(model, coefficients.truncate(args.order))
    sup_error = coefficients.sup_error(args.order)
    return model, series, f"order {args.order} (sup error {sup_error:.2g})"


def _check_two_angles(command: str, objective: Objective) -> None:
    if objective.n != 2:
        raise InputError(
            f"{command} works on one angle per player, but the objective has "
            f"{objective.n_g} + {objective.n_d} angles"
        )


_BASIN_INTEGRATION = {"samples": 257, "rtol": 1e-5, "atol": 1e-7, "max_steps": 16384}
"""The integrator's settings of ``jaxfgan basins``, part of each chunk's fingerprint."""


def _basins_fingerprint(args, objective, found) -> str:
    from importlib import metadata

    from ._chunk_store import fingerprint

    settings = {
        "command": "basins",
        "integration": _BASIN_INTEGRATION,
        # another release may round differently: chunks from it are redone
        "versions": [metadata.version(name) for name in ("jax", "jaxlib", "diffrax")],
        "grid": args.grid,
        "t1": float(args.t1).hex(),
        "epsilon": float(args.epsilon).hex(),
        "chunk_size": args.chunk_size,
        "equilibria": [[float(x).hex() for x in p.theta] for p in found.points],
        "kinds": [p.kind for p in found.points],
    }
    return fingerprint(objective, settings)


def _progress_bar():
    """A tqdm bar over the chunks on a terminal's stderr, else nothing."""
    if not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="basins", unit="chunk")
        bar.update(done - bar.n)
        if done == total:
            bar.close()

    return update


def _basins_files(basins, figure) -> dict[str, bytes]:
    import numpy as np

    png = io.BytesIO()
    figure.savefig(png, dpi=110)
    arrays = io.BytesIO()
    np.savez_compressed(
        arrays,
        axis=basins.axis,
        labels=basins.labels,
        status=basins.status,
        times=basins.times,
        winding=basins.winding,
        attractors=np.array([p.theta for p in basins.attractors]).reshape(-1, 2),
        kinds=np.array([p.kind for p in basins.attractors], dtype=str),
        reasons=np.array(BASIN_STATUS, dtype=str),
        t1=basins.t1,
        epsilon=basins.epsilon,
    )
    return {"basins.png": png.getvalue(), "basins.npz": arrays.getvalue()}


def _basins_json(basins) -> dict:
    return {
        "attractors": [
            {
                "theta": [float(x) for x in point.theta],
                "kind": point.kind,
                "nash": bool(point.nash),
                "fraction": float(share),
            }
            for point, share in zip(basins.attractors, basins.fractions, strict=True)
        ],
        "unsettled_fraction": basins.unsettled_fraction,
        "unsettled_reasons": basins.reasons(),
        "grid": int(basins.axis.size),
        "t1": basins.t1,
        "epsilon": basins.epsilon,
    }


def _basins_text(label: str, basins) -> str:
    import numpy as np

    lines = [f"{label}: {basins.size} attractors, {basins.axis.size}^2 starts"]
    for label_index, point in enumerate(basins.attractors):
        share = basins.fractions[label_index]
        inside = basins.labels == label_index
        median = float(np.median(basins.times[inside])) if np.any(inside) else np.nan
        wrapped = float(np.mean(np.any(basins.winding[inside] != 0, axis=-1)))
        theta = ", ".join(f"{x:.4f}" for x in point.theta)
        lines.append(
            f"  {point.kind} ({theta}){' Nash' if point.nash else ''}: "
            f"{100 * share:.2f}% of starts, median time to within "
            f"{basins.epsilon:g}: {median:.3g}, wrapped: {100 * wrapped:.1f}%"
        )
    lines.append(f"  unsettled: {100 * basins.unsettled_fraction:.2f}%")
    for reason, share in basins.reasons().items():
        lines.append(f"    {100 * share:.2f}%: {reason}")
    return "\n".join(lines)


def _mode_list(order: int, n: int) -> list[list[int]]:
    import itertools

    axis = range(-order, order + 1)
    return [list(mode) for mode in itertools.product(axis, repeat=n)]


def _portrait_summary(args, objective, panels, seconds) -> dict:
    records = []
    for panel in panels:
        records.append(
            {
                "label": panel.label,
                "order": panel.order,
                "sup_error": panel.sup_error,
                "energy_captured": panel.energy_captured,
                **equilibria_json(panel.equilibria),
                "learned_rate": learned_rate(objective, panel.equilibria),
                "seconds": round(panel.seconds, 3),
            }
        )
    settings = {
        key: value for key, value in vars(args).items() if key not in ("run", "command")
    }
    settings["orders"] = list(args.orders)
    return {**run_metadata(objective, settings, seconds), "panels": records}


def _portrait_text(objective: Objective, panels) -> str:
    lines = [describe_model(objective)]
    for panel in panels:
        label = panel.label
        if panel.order is not None:
            label += f" (sup error {panel.sup_error:.2g})"
        lines.append(
            _equilibria_text(
                label, panel.equilibria, learned_rate(objective, panel.equilibria)
            )
        )
    return "\n".join(lines)


def _equilibria_text(label: str, found: Equilibria, rate: float | None) -> str:
    from ._equilibria import KINDS

    counts = []
    for kind in KINDS:
        count = found.count(kind)
        nash = sum(p.kind == kind and p.nash for p in found.points)
        if count:
            name = "degenerate point" if kind == "degenerate" else kind
            name += "" if count == 1 else "s"
            counts.append(f"{count} {name}" + (f" ({nash} Nash)" if nash else ""))
    check = found.poincare_hopf_message()
    text = f"{label}: {len(found.points)} equilibria: {', '.join(counts)}; {check}"
    if rate is not None:
        text += f"; learned rate {rate:.6g} (data units)"
    return text


def _equilibria_table(found: Equilibria) -> str:
    """One row per equilibrium: angles, kind, Nash flag, index, eigenvalues."""
    rows = [
        f"{'theta (rad)':>26}  {'kind':<16}  {'Nash':<4}  {'index':>5}  eigenvalues"
    ]
    for point in found.points:
        theta = ", ".join(f"{x:+.6f}" for x in point.theta)
        spectrum = ", ".join(_complex_text(e) for e in point.eigenvalues)
        nash = "yes" if point.nash else "no"
        rows.append(
            f"{theta:>26}  {point.kind:<16}  {nash:<4}  {point.index:>+5d}  {spectrum}"
        )
    return "\n".join(rows)


def _complex_text(number: complex) -> str:
    if number.imag == 0:
        return f"{number.real:.6g}"
    return f"{number.real:.6g}{number.imag:+.6g}i"


def _warn_nash(objective: Objective) -> None:
    objective = base_model(objective)
    if isinstance(objective, ExponentialGAN):
        problem = objective.nash_problem()
        if problem:
            print(f"jaxfgan: warning: {problem}", file=sys.stderr)


def _check_torus(objective: Objective, what: str) -> None:
    if objective.box is not None:
        raise InputError(
            f"{what}: the Fourier series needs the torus, but this model lives on "
            f"R^{objective.n} (it has a box); drop {what}"
            if what != "fourier"
            else "the Fourier series needs the torus, but this model lives on "
            f"R^{objective.n}; use portrait or equilibria"
        )


def _check_out_dir(text: str) -> Path:
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {text}: exists and is not a folder")
    ancestor = out
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"--out {text}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK):
        raise InputError(f"--out {text}: {ancestor} is not writable")
    return out


def _write_atomically(out: Path, files: dict[str, bytes]) -> None:
    """Write every file under a temporary name first, then rename them all."""
    staged = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        umask = os.umask(0)
        os.umask(umask)
        for name, content in files.items():
            handle, temporary = tempfile.mkstemp(
                dir=out, prefix=f".{name}.", suffix=".tmp"
            )
            staged.append((temporary, out / name))
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would hide it
        for temporary, final in staged:
            os.replace(temporary, final)
    except OSError as error:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
        raise InputError(f"--out {out}: cannot write: {error.strerror}") from None


def _resolve_grid(args, objective: Objective) -> None:
    if args.grid is None:
        args.grid = default_grid(objective.n)


def _check_orders(orders, grid: int, flag: str, flow: bool = False) -> None:
    for order in orders:
        if flow and order == 0:
            raise InputError(
                "order 0 keeps only the constant c_0, whose flow is zero everywhere; "
                "use an order >= 1"
            )
        if 2 * order + 1 > grid:
            raise InputError(
                f"order {order} needs a Fourier grid of at least {2 * order + 1} "
                f"points per angle (2N+1), got {grid}; raise {flag} or lower the "
                f"order"
            )


def _orders(text: str) -> tuple[int, ...]:
    try:
        if ".." in text:
            low, high = (int(part) for part in text.split(".."))
            orders = tuple(range(low, high + 1))
        else:
            orders = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected orders like 1,2,4,8 or 1..8, got {text!r}"
        ) from None
    if not orders:
        raise argparse.ArgumentTypeError(
            f"no orders in {text!r} (a range A..B needs A <= B)"
        )
    if any(order < 0 for order in orders):
        raise argparse.ArgumentTypeError(f"orders must be >= 0, got {text!r}")
    return orders


def _non_negative(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {number}")
    return number


def _methods(text: str) -> list[str]:
    names = list(METHODS) if text == "all" else text.split(",")
    unknown = [name for name in names if name not in METHODS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"expected one or more of {', '.join(METHODS)} (or all), got {text!r}"
        )
    return names


def _positive_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (number > 0 and number < float("inf")):
        raise argparse.ArgumentTypeError(f"must be finite and > 0, got {text}")
    return number


def _point(text: str) -> tuple[float, float]:
    import math

    try:
        point = tuple(float(part) for part in text.split(","))
    except ValueError:
        point = ()
    if len(point) != 2 or not all(math.isfinite(x) for x in point):
        raise argparse.ArgumentTypeError(
            f"expected two finite angles THETA_G,THETA_D, got {text!r}"
        )
    return point


def _positive(text: str) -> int:
    number = _non_negative(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {number}")
    return number


def _truncation_parser(commands) -> None:
    sub = commands.add_parser(
        "truncation",
        help="how the accuracy of the series grows with the order N",
        description="Compare each order-N series with the exact objective: errors of "
        "F and of the flow, energy kept, equilibria paired, trajectories, run times; "
        "write DIR/truncation.md, DIR/truncation.json and DIR/truncation.png.",
    )
    add_model_options(sub)
    sub.add_argument(
        "--orders",
        default="1..32",
        type=_orders,
        metavar="N,N,...",
        help="truncation orders, each >= 1 (default 1..32; A..B for a range)",
    )
    _fourier_grid_option(sub, "--grid")
    sub.add_argument(
        "--out",
        default="truncation",
        metavar="DIR",
        help="output folder (default ./truncation)",
    )
    sub.add_argument(
        "--target-error",
        type=_positive_float,
        metavar="X",
        help="print the smallest order whose sup error of F is at most X",
    )
    sub.add_argument(
        "--t1",
        type=_positive_float,
        default=20.0,
        metavar="T",
        help="compare trajectories at time T (default 20)",
    )
    _starts_option(sub)
    sub.add_argument("--json", action="store_true", help="print one JSON object")
    sub.add_argument(
        "--basin-grid",
        type=_non_negative,
        default=0,
        metavar="M",
        help="also compare basin maps on an M x M grid of starts and report the "
        "share of starts reaching the same attractor (default 0: skip)",
    )
    sub.set_defaults(run=_run_truncation)


def _run_truncation(args) -> int:
    import warnings

    from ._truncation import truncation_study
    from ._truncation_plot import plot_truncation

    begin = time.perf_counter()
    out = _check_out_dir(args.out)
    objective = build_objective(args)
    _check_torus(objective, "fourier")
    if not args.orders or min(args.orders) < 1:
        raise InputError(f"--orders must be >= 1, got {list(args.orders)}")
    _resolve_grid(args, objective)
    _check_orders(args.orders, args.grid, args.grid_flag, flow=True)
    _warn_nash(objective)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = truncation_study(
            objective,
            args.orders,
            grid=args.grid,
            t1=args.t1,
            starts=args.starts,
            basin_grid=args.basin_grid,
        )
    for warning in caught:
        print(f"jaxfgan truncation: warning: {warning.message}", file=sys.stderr)
    record = study.to_json(args.target_error)
    figure = plot_truncation(study, args.target_error, describe_model(objective))
    png = io.BytesIO()
    figure.savefig(png, dpi=120)
    seconds = time.perf_counter() - begin
    settings = {key: v for key, v in vars(args).items() if key not in ("run",)}
    settings["orders"] = list(args.orders)
    summary = {**record, **run_metadata(objective, settings, seconds)}
    _write_atomically(
        out,
        {
            "truncation.md": (study.markdown() + "\n").encode(),
            "truncation.json": json.dumps(summary, indent=2).encode(),
            "truncation.png": png.getvalue(),
        },
    )
    if args.json:
        print(json.dumps(record))
        return 0
    print(describe_model(objective))
    print(study.markdown())
    if args.target_error is not None:
        print(_smallest_text(record["smallest_order"], args.target_error))
    print(f"wrote {out}/truncation.md, .json and .png in {seconds:.1f} s")
    return 0


def _smallest_text(order: int | None, target: float) -> str:
    if order is None:
        return (
            f"no order studied meets the target sup error {target:g}; "
            f"try higher orders (and a larger --grid)"
        )
    return f"smallest order with sup error <= {target:g}: {order}"


if __name__ == "__main__":
    raise SystemExit(main())
