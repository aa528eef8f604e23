"""Building an objective from the command line's model options."""

import argparse
import importlib
import importlib.util
import os
import sys
from pathlib import Path

import jax
import jax.numpy as jnp

from ._data import DATASETS, read_waiting_times, resolve_data_path
from ._dirac import DIRAC_LOSSES, dirac_gan
from ._errors import InputError
from ._exponential import ExponentialGAN, exponential_gan
from ._objective import Objective, UserObjective, check_box, value
from ._regularizers import REGULARIZERS, regularize

_EXPONENTIAL_OPTIONS = (
    "rate",
    "data",
    "column",
    "unit",
    "gen_scale",
    "disc_scale",
    "disc_center",
)


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """The options that choose the game, shared by every command."""
    group = parser.add_argument_group("model (default: the exponential GAN, Exp(1))")
    group.add_argument(
        "--rate",
        type=float,
        metavar="R",
        help="target Exp(R), in data units (default 1)",
    )
    group.add_argument(
        "--data",
        metavar="FILE",
        help="CSV of waiting times with a header; or a shipped data set: "
        + ", ".join(sorted(DATASETS)),
    )
    group.add_argument(
        "--column", metavar="NAME", help="the --data column to read (default the first)"
    )
    group.add_argument(
        "--unit",
        type=float,
        metavar="U",
        help="divide data by U (default: the sample median for --data, else 1)",
    )
    group.add_argument(
        "--gen-scale",
        type=float,
        metavar="K",
        help="kappa_G in lambda_G = exp(K sin theta_G) (default 2)",
    )
    group.add_argument(
        "--disc-scale",
        type=float,
        metavar="R",
        help="r_D in D(x) = sigmoid(R sin(theta_D) (x - C)) (default 1)",
    )
    group.add_argument(
        "--disc-center",
        type=float,
        metavar="C",
        help="C in the discriminator (default 1)",
    )
    group.add_argument(
        "--objective",
        metavar="SPEC",
        help="a user objective instead: path/to/file.py:NAME or "
        "module:NAME, NAME(theta_g, theta_d) returning a scalar",
    )
    group.add_argument(
        "--dims",
        default="1,1",
        metavar="NG,ND",
        help="angles per player for --objective (default 1,1)",
    )
    group.add_argument(
        "--model",
        choices=("exponential", "dirac"),
        help="the built-in model: the exponential torus GAN (default) or the "
        "Dirac GAN of Mescheder et al. (2018) on R^2",
    )
    group.add_argument(
        "--dirac-loss",
        choices=DIRAC_LOSSES,
        help="f in the Dirac GAN: standard -log(1+e^-t) (default) or wgan t",
    )
    group.add_argument(
        "--box",
        metavar="LO,HI",
        help="search and plot box of an objective on R^n (--model dirac: default "
        "-2,2; --objective: without it, the torus)",
    )
    group.add_argument(
        "--regularizer",
        metavar="NAME:VALUE",
        help="transform the flow: consensus:GAMMA, sga:LAMBDA, r1:GAMMA, r2:GAMMA "
        "(exponential and Dirac GANs) or ttur:RATIO",
    )


def build_objective(args: argparse.Namespace) -> Objective:
    """The objective that the model options describe, regularised if asked."""
    objective = _model(args)
    if args.regularizer is None:
        return objective
    name, strength = parse_regularizer(args.regularizer)
    try:
        return regularize(objective, name, strength)
    except InputError as error:
        body = str(error).removeprefix("regularize: ")
        raise InputError(f"--regularizer {args.regularizer}: {body}") from None


def parse_regularizer(text: str) -> tuple[str, float]:
    """'NAME:VALUE' -> (NAME, VALUE), NAME one of the regularizers."""
    name, _, number = text.partition(":")
    if name not in REGULARIZERS:
        raise InputError(
            f"--regularizer: expected NAME:VALUE with NAME one of "
            f"{', '.join(REGULARIZERS)}, got {text!r}"
        )
    try:
        return name, float(number)
    except ValueError:
        raise InputError(
            f"--regularizer: expected a number after {name}:, got {number!r}"
        ) from None


def _model(args: argparse.Namespace) -> Objective:
    box = None if args.box is None else parse_box(args.box)
    if args.model == "dirac":
        return _dirac_from(args, box)
    if args.dirac_loss is not None:
        raise InputError("--dirac-loss applies to --model dirac")
    if args.objective is not None:
        given = [
            name for name in _EXPONENTIAL_OPTIONS if getattr(args, name) is not None
        ]
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise InputError(
                f"{flag} applies to the exponential GAN, not to --objective"
            )
        if args.model is not None:
            raise InputError("--model and --objective both choose the game; give one")
        n_g, n_d = parse_dims(args.dims)
        return load_objective(args.objective, n_g, n_d, box)
    if args.dims != "1,1":
        raise InputError("--dims applies to --objective; the exponential GAN has 1,1")
    if box is not None:
        raise InputError(
            "--box applies to --model dirac or --objective; the exponential GAN "
            "lives on the torus"
        )
    return _exponential_from(args)


def _dirac_from(args: argparse.Namespace, box) -> Objective:
    given = [name for name in _EXPONENTIAL_OPTIONS if getattr(args, name) is not None]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise InputError(f"{flag} applies to the exponential GAN, not to --model dirac")
    if args.objective is not None:
        raise InputError("--model and --objective both choose the game; give one")
    if args.dims != "1,1":
        raise InputError("--dims applies to --objective; the Dirac GAN has 1,1")
    return dirac_gan(args.dirac_loss or "standard", box or (-2.0, 2.0))


def parse_box(text: str) -> tuple[float, float]:
    """'LO,HI' -> (LO, HI), finite with LO < HI."""
    try:
        lo, hi = (float(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"--box: expected LO,HI (two numbers), got {text!r}") from None
    try:
        return check_box("--box", (lo, hi))
    except InputError:
        raise InputError(f"--box: expected finite LO < HI, got {text!r}") from None


def _exponential_from(args: argparse.Namespace) -> ExponentialGAN:
    options = {
        name: getattr(args, name)
        for name in ("rate", "unit", "gen_scale", "disc_scale", "disc_center")
    }
    options = {name: number for name, number in options.items() if number is not None}
    if args.column is not None and args.data is None:
        raise InputError("--column needs --data")
    if args.data is not None:
        if args.rate is not None:
            raise InputError("--rate and --data both set the target; give one")
        options["data"] = _read_data(args.data, args.column)
    try:
        return exponential_gan(**options)
    except InputError as error:
        raise InputError(_as_flag(str(error))) from None


def _read_data(spec: str, column: str | None):
    """Read --data; errors about a shipped data set name it, not its install path."""
    path = resolve_data_path(spec)
    try:
        return read_waiting_times(path, column)
    except InputError as error:
        if str(path) == spec:
            raise
        message = str(error).replace(str(path), f"{spec} (shipped data set)")
        raise InputError(message) from None


def _as_flag(message: str) -> str:
    """'exponential_gan: gen_scale must ...' -> '--gen-scale must ...'."""
    body = message.removeprefix("exponential_gan: ")
    name = body.split(" ", 1)[0]
    if name in _EXPONENTIAL_OPTIONS:
        return "--" + name.replace("_", "-") + body[len(name) :]
    return body


def parse_dims(text: str) -> tuple[int, int]:
    """'NG,ND' -> (NG, ND), both >= 1."""
    parts = text.split(",")
    try:
        n_g, n_d = (int(part) for part in parts)
    except ValueError:
        raise InputError(
            f"--dims: expected NG,ND (two integers), got {text!r}"
        ) from None
    if n_g < 1 or n_d < 1:
        raise InputError(f"--dims: each player needs at least one angle, got {text!r}")
    return n_g, n_d


def load_objective(spec: str, n_g: int, n_d: int, box=None) -> UserObjective:
    """Load ``path/to/file.py:NAME`` or ``module:NAME`` and check it (on the torus,
    or on R^n in ``box``)."""
    location, _, name = spec.rpartition(":")
    if not location or not name:
        raise InputError(
            f"--objective: expected path/to/file.py:NAME or module:NAME, got {spec!r}"
        )
    module = _load_module(location)
    fn = getattr(module, name, None)
    if fn is None:
        raise InputError(f"--objective: {location} has no attribute {name!r}")
    if not callable(fn):
        raise InputError(f"--objective: {location}:{name} is not a function")
    objective = UserObjective(fn, n_g, n_d, box)
    _check_objective(spec, objective)
    return objective


def _load_module(location: str):
    try:
        if location.endswith(".py") or "/" in location:
            return _load_file(Path(location))
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, "")  # as `python -m` does: modules of this folder
        return importlib.import_module(location)
    except InputError:
        raise
    except (Exception, SystemExit) as error:  # any failure inside the user's code
        raise InputError(
            f"--objective: cannot load {location}: {type(error).__name__}: {error}"
        ) from None


def _load_file(path: Path):
    if not path.is_file():
        raise InputError(f"--objective: {path}: no such file")
    spec = importlib.util.spec_from_file_location(f"_jaxfgan_user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _check_objective(spec: str, objective: UserObjective) -> None:
    """Call the objective as jaxfgan will: eagerly, and under jit, vmap and grad."""
    theta_g = jnp.full(objective.n_g, 0.1)
    theta_d = jnp.full(objective.n_d, 0.2)
    try:
        result = jnp.asarray(objective(theta_g, theta_d))
        if result.shape == ():
            batch = jnp.stack([jnp.concatenate([theta_g, theta_d])] * 2)
            jax.jit(jax.vmap(jax.grad(lambda z: value(objective, z))))(batch)
    except Exception as error:  # any failure inside the user's code
        raise InputError(
            f"--objective: {spec} failed on angles of shapes ({objective.n_g},), "
            f"({objective.n_d},) under jax.jit, vmap and grad: "
            f"{type(error).__name__}: {error}".splitlines()[0]
        ) from None
    if result.shape != ():
        raise InputError(
            f"--objective: {spec} must return a scalar, got shape {result.shape} "
            f"(check --dims)"
        )
    if not jnp.isfinite(result):
        raise InputError(f"--objective: {spec} returned {float(result)}, not finite")
