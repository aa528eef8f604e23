"""What every benchmark records beside its numbers: machine, versions, settings."""

import os
import platform
from importlib import metadata


def machine() -> dict:
    """The machine and the versions of the packages that matter."""
    versions = {}
    for name in (
        "jaxfgan",
        "jax",
        "jaxlib",
        "diffrax",
        "equinox",
        "optimistix",
        "numpy",
        "scipy",
        "torch",
        "torchdiffeq",
    ):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
    }
