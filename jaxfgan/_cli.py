"""The command line: ``jaxfgan portrait | equilibria | fourier``. The only module
that prints."""

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from . import __version__
from ._equilibria import Equilibria, find_equilibria
from ._errors import InputError
from ._exponential import ExponentialGAN
from ._fourier import default_grid, fourier_coefficients
from ._model_options import add_model_options, build_objective
from ._objective import Objective
from ._report import describe_model, equilibria_json, learned_rate, run_metadata


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
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
        default="1,2,4,8",
        type=_orders,
        metavar="N,N,...",
        help="truncation orders to draw beside the exact F (default "
        "1,2,4,8; A..B for a range)",
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


def _fourier_grid_option(sub, flag: str) -> None:
    sub.add_argument(
        flag,
        type=_positive,
        metavar="M",
        dest="grid",
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
    _resolve_grid(args, objective)
    _check_orders(args.orders, args, flow=True)
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
        _check_orders((args.order,), args, flow=True)
        coefficients = fourier_coefficients(objective, args.grid)
        sup_error = coefficients.sup_error(args.order)
        objective = coefficients.truncate(args.order)
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
    _resolve_grid(args, objective)
    _check_orders((args.order,), args)
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
    if isinstance(objective, ExponentialGAN):
        problem = objective.nash_problem()
        if problem:
            print(f"jaxfgan: warning: {problem}", file=sys.stderr)


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


def _check_orders(orders, args, flow: bool = False) -> None:
    for order in orders:
        if flow and order == 0:
            raise InputError(
                "order 0 keeps only the constant c_0, whose flow is zero everywhere; "
                "use an order >= 1"
            )
        if 2 * order + 1 > args.grid:
            raise InputError(
                f"order {order} needs a Fourier grid of at least {2 * order + 1} "
                f"points per angle (2N+1), got {args.grid}; raise {args.grid_flag} "
                f"or lower the order"
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


def _positive(text: str) -> int:
    number = _non_negative(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {number}")
    return number


if __name__ == "__main__":
    raise SystemExit(main())
