"""Turning results into the records that the command line prints and writes."""

import platform
from importlib import metadata

import jax.numpy as jnp
import numpy as np

from ._dirac import DiracGAN
from ._equilibria import Equilibria
from ._exponential import ExponentialGAN
from ._objective import Objective, UserObjective, torus_distance
from ._regularizers import Regularized, base_model


def equilibria_json(found: Equilibria) -> dict:
    """The contract's keys for a list of equilibria, with the Poincare-Hopf check."""
    return {
        "equilibria": [point.to_json() for point in found.points],
        "index_sum": found.index_sum,
        "poincare_hopf_ok": found.poincare_hopf_ok,
    }


def learned_rate(model: Objective, found: Equilibria) -> float | None:
    """The exponential GAN's learned rate, in data units: lambda_g / u at the found
    equilibrium nearest the model's Nash equilibria.

    For the exact objective that equilibrium is a Nash point and the rate is
    1 / (target mean); for a truncated series it is the series' equilibrium that
    takes the Nash point's place (within 0.5 rad), whatever its kind. None for other
    models, when no Nash equilibrium learns the target
    (:meth:`ExponentialGAN.nash_problem`), or when no equilibrium is that close.
    """
    model = base_model(model)
    if not isinstance(model, ExponentialGAN) or not found.points:
        return None
    targets = model.nash_points()
    if targets.shape[0] == 0:
        return None

    def gap(point):
        return float(jnp.min(torus_distance(targets, point.theta[None, :])))

    nearest = min(found.points, key=gap)
    if gap(nearest) > 0.5:
        return None
    return float(model.learned_rate(nearest.theta[0]))


def describe_model(objective: Objective) -> str:
    """One line naming the game and its settings."""
    if isinstance(objective, Regularized):
        return f"{describe_model(objective.base)}; flow with {objective.describe()}"
    if isinstance(objective, DiracGAN):
        f = "-log(1 + e^-t)" if objective.loss == "standard" else "t"
        lo, hi = objective.box
        return (
            f"Dirac GAN (Mescheder et al. 2018), {objective.loss} loss f(t) = {f}, "
            f"on R^2 in the box [{lo:g}, {hi:g}]^2"
        )
    if isinstance(objective, ExponentialGAN):
        unit = float(objective.unit)
        return (
            f"exponential GAN: target mean {objective.target_mean * unit:.6g} in data "
            f"units (unit u = {unit:.6g}), gen-scale {float(objective.gen_scale):g}, "
            f"disc-scale {float(objective.disc_scale):g}, "
            f"disc-center {float(objective.disc_center):g}"
        )
    if isinstance(objective, UserObjective):
        name = getattr(objective.fn, "__name__", "F")
        text = f"user objective {name} with {objective.n_g} + {objective.n_d} angles"
        if objective.box is not None:
            lo, hi = objective.box
            text += f" on R^{objective.n} in the box [{lo:g}, {hi:g}]^{objective.n}"
        return text
    return f"{type(objective).__name__} with {objective.n_g} + {objective.n_d} angles"


def run_metadata(objective: Objective, settings: dict, seconds: float) -> dict:
    """Settings, versions and timing of a run, for the files a command writes."""
    model = {"description": describe_model(objective)}
    objective = base_model(objective)
    if isinstance(objective, ExponentialGAN):
        model.update(
            gen_scale=float(objective.gen_scale),
            disc_scale=float(objective.disc_scale),
            disc_center=float(objective.disc_center),
            unit=float(objective.unit),
            target_mean_scaled=objective.target_mean,
            nash_problem=objective.nash_problem(),
        )
    return {
        "settings": settings,
        "model": model,
        "versions": _versions(),
        "machine": {"platform": platform.platform(), "processor": platform.machine()},
        "seconds": round(seconds, 3),
    }


def _versions() -> dict:
    names = [
        "jaxfgan",
        "jax",
        "jaxlib",
        "diffrax",
        "optimistix",
        "equinox",
        "numpy",
        "matplotlib",
    ]
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def as_float_list(values) -> list[float]:
    return [float(x) for x in np.ravel(values)]
