"""How long does `jaxfgan basins --grid 512` take on the default model, compiling?

Runs the command once in a fresh process per grid size (so it compiles from
scratch), records the wall-clock time and the load average at the start and the
end (the machine may be shared), and writes benchmarks/results/basins_time.json
with the machine, the versions and the settings.

    python benchmarks/basins_time.py [--grids 128,512]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from _machine import machine, save


def time_once(grid: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "jaxfgan", "basins", "--grid", str(grid)]
        load_before = os.getloadavg()
        begin = time.perf_counter()
        subprocess.run(command + ["--out", folder], check=True, capture_output=True)
        seconds = time.perf_counter() - begin
    return {
        "seconds": seconds,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", default="128,512")
    args = parser.parse_args()
    results = {}
    for grid in (int(g) for g in args.grids.split(",")):
        results[str(grid)] = time_once(grid)
        print(f"grid {grid}: {results[str(grid)]['seconds']:.1f} s", file=sys.stderr)
    record = {
        "question": __doc__.splitlines()[0],
        "machine": machine(),
        "settings": {"grids": args.grids, "model": "default exponential GAN"},
        "results": results,
    }
    save("basins_time", record)


if __name__ == "__main__":
    main()
