"""Benchmark: grading one submission, start-up included, against importing torch (the floor).

    python bench/bench_startup.py [--repeat 7] [--before CHECKOUT] [--breakdown]

Runs, round after round (so that the machine's load falls on all of them alike), and reports the
median of each:

- the floor: ``python -c "import torch"`` with the grader's Python;
- ``grader grade custom_layer ONE -o OUT``, a new OUT each time (the reference runs);
- ``grader grade ... --regrade`` into the OUT of the round before (the reference's observations
  are kept there: a second batch does not run it again);
- ``grader ci custom_layer ONE/ann.py --format junit`` (the CI door: every push is a class of one).

ONE is a folder with one correct ``.py`` submission. Each is shown against the floor, beside the
goals of issue 24 (grade at most 1.5 times the floor, ci 1.3 times). ``--before CHECKOUT`` runs
another checkout's grader (``CHECKOUT/.venv/bin/grader``) in the same rounds: before and after, on
the same machine at the same time. ``--breakdown`` prints where one grade's start-up went, from
its run.json (``timings``: each step's end in seconds from the batch's start, the sandbox server's
own steps included, and per submission the median milliseconds of each part).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peer_class import CORRECT, DEMO

GOALS = {"grade": 1.5, "ci": 1.3}


def commands(grader: Path, one: Path, out: Path, round_: int) -> dict[str, list[str]]:
    """What one round runs for one checkout (its grader and its venv's Python)."""
    python = grader.with_name("python")
    return {
        "import torch (floor)": [str(python), "-c", "import torch"],
        "grade": [str(grader), "grade", "custom_layer", str(one), "-o", str(out / f"new{round_}")],
        "grade, reference kept": [str(grader), "grade", "custom_layer", str(one), "-o",
                                  str(out / "kept"), "--regrade"],
        "ci": [str(grader), "ci", "custom_layer", str(one / "ann.py"), "--format", "junit",
               "-o", str(out / "report.xml")],
    }


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds; medians are reported (default 7)")
    parser.add_argument("--before", type=Path, default=None, metavar="CHECKOUT",
                        help="another checkout whose .venv/bin/grader runs in the same rounds")
    parser.add_argument("--breakdown", action="store_true", help="print where one grade's time went")
    args = parser.parse_args()
    graders = {"this checkout": Path(sys.executable).with_name("grader")}
    if args.before is not None:
        graders["--before"] = (args.before / ".venv" / "bin" / "grader").absolute()
        if not graders["--before"].exists():
            raise SystemExit(f"no grader at {graders['--before']}: build that checkout's .venv first")
    work = Path(tempfile.mkdtemp(prefix="grader-bench-startup-"))
    try:
        one = work / "one"
        one.mkdir()
        (one / "ann.py").write_text("import torch\nfrom torch import nn\n\n" + CORRECT + "\n" + DEMO)
        seconds: dict[tuple[str, str], list[float]] = {}
        for label, grader in graders.items():  # warm: the page cache, the matplotlib font cache
            (work / label).mkdir()
            for command in commands(grader, one, work / label, 0).values():
                timed(command, work)
        for round_ in range(1, args.repeat + 1):
            for label, grader in graders.items():
                for name, command in commands(grader, one, work / label, round_).items():
                    seconds.setdefault((label, name), []).append(timed(command, work))
            print(f"round {round_} of {args.repeat} done", file=sys.stderr)
        report(seconds, graders, args.repeat)
        if args.breakdown:
            breakdown(json.loads((work / "this checkout" / "new1" / "run.json").read_text()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(seconds: dict[tuple[str, str], list[float]], graders: dict[str, Path], repeat: int) -> None:
    print(f"\none correct custom_layer .py, median of {repeat} rounds (seconds; x the floor):")
    for label in graders:
        floor = statistics.median(seconds[(label, "import torch (floor)")])
        print(f"  {label} ({graders[label]}):")
        for (which, name), values in seconds.items():
            if which != label:
                continue
            median = statistics.median(values)
            goal = f"  (goal <= {GOALS[name]}x)" if name in GOALS else ""
            print(f"    {name:<24} {median:6.2f} s  {median / floor:4.2f}x{goal}   "
                  f"runs {min(values):.2f}-{max(values):.2f}")


def breakdown(header: dict) -> None:
    timings = header.get("timings", {})
    print("\nwhere one `grader grade` of it went (run.json timings; seconds from the batch's start):")
    previous = 0.0
    for step, at in timings.get("steps", {}).items():
        print(f"    {step:<26} ends {at:6.3f} s  (+{max(0.0, at - previous):.3f})")
        previous = max(previous, at)
    print("  per submission (ms, median):",
          ", ".join(f"{name} {ms}" for name, ms in timings.get("per_submission_ms", {}).items()))


if __name__ == "__main__":
    main()
