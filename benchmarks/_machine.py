"""What every benchmark records beside its numbers: machine, versions, settings."""

import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


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


def save(name: str, record: dict, table: str | None = None) -> None:
    """Write results/NAME.json (and NAME.md with a table), each whole or not at all:
    a run stopped while writing leaves the previous file in place."""
    RESULTS.mkdir(exist_ok=True)
    files = {".json": json.dumps(record, indent=2)}
    if table is not None:
        files[".md"] = table
    for suffix, text in files.items():
        part = RESULTS / f"{name}{suffix}.partial"
        part.write_text(text)
        part.replace(RESULTS / f"{name}{suffix}")
        print(f"wrote {RESULTS / name}{suffix}", file=sys.stderr)
