"""Benchmark: what the "by hand" probes (grader.by_hand) add to each submission's sandbox time.

    python bench/bench_by_hand.py [--forks 20]

For custom_layer and logistic_regression, forks a process that has imported torch and the
assignment's tests (as the fork server does); the child runs the reference's cells and then every
probe of the assignment once, in name order, as a sandbox does: with the by-hand probe, and without
it. Prints the median seconds of all the probes over the forks, and the difference.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import runpy
import statistics
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
CASES = (("custom_layer", "forward_by_hand"), ("logistic_regression", "backward_by_hand"))


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _probes_seconds(assignment: str, tests, probes: list[str]) -> float:
    """In a forked child: the seconds of running ``probes`` once each on the reference."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        namespace = runpy.run_path(str(ROOT / "reference" / f"{assignment}.py"), run_name="submission")
        namespace["__name__"] = "submission"
        started = time.perf_counter()
        for name in probes:
            getattr(tests, name)(namespace, torch.device("cpu"))
        os.write(write, json.dumps(time.perf_counter() - started).encode())
        os._exit(0)
    os.close(write)
    data = os.read(read, 4096)
    os.close(read)
    os.waitpid(pid, 0)
    return json.loads(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forks", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from grader.probing import probes_of  # the fork server imports grader.api (the tests do) too

    for assignment, by_hand in CASES:
        path = ROOT / "assignments" / assignment / f"test_{assignment}.py"
        tests = _load(path, f"grader_probes_{assignment}")
        every = sorted(probes_of(tests))
        without = [name for name in every if name != by_hand]
        seconds: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(args.forks):  # alternating, so that a busy machine slows both alike
            seconds["with"].append(_probes_seconds(assignment, tests, every))
            seconds["without"].append(_probes_seconds(assignment, tests, without))
        with_, without_ = (statistics.median(seconds[k]) * 1e3 for k in ("with", "without"))
        print(f"{assignment}: all {len(every)} probes {with_:.2f} ms, without {by_hand} {without_:.2f} ms: "
              f"{with_ - without_:+.2f} ms a submission (medians of {args.forks} forks)")

if __name__ == "__main__":
    main()
