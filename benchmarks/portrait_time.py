"""How long does `jaxfgan portrait` with no options take, compile time included?

Runs the command in fresh processes (so every run compiles from scratch), records
the wall-clock time of each, and writes benchmarks/results/portrait_time.json with
the machine, the versions and the settings.

    python benchmarks/portrait_time.py [--repeats 3]
"""

import argparse
import subprocess
import sys
import tempfile
import time

from _machine import machine, save


def time_once(arguments: list[str]) -> float:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "jaxfgan", "portrait", "--out", folder]
        begin = time.perf_counter()
        subprocess.run(command + arguments, check=True, capture_output=True)
        return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cases = {"default (Exp(1), orders 1,2,4,8)": [], "--data coal": ["--data", "coal"]}
    results = {}
    for label, arguments in cases.items():
        seconds = [time_once(arguments) for _ in range(args.repeats)]
        results[label] = {"seconds": seconds, "best": min(seconds)}
        print(
            f"{label}: best {min(seconds):.1f} s of {args.repeats} "
            f"({', '.join(f'{s:.1f}' for s in seconds)})",
            file=sys.stderr,
        )
    record = {
        "question": __doc__.splitlines()[0],
        "machine": machine(),
        "settings": {"repeats": args.repeats, "cases": cases},
        "results": results,
    }
    save("portrait_time", record)


if __name__ == "__main__":
    main()
