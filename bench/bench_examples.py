"""Benchmark: grade each shipped example class (examples/NAME with NAME an assignment) and time it,
here and, side by side, in another checkout (an earlier commit: `git worktree add /tmp/old REV`).

    python bench/bench_examples.py [--repeat 3] [--against /tmp/old]

Prints per class the median wall-clock seconds of ``grader grade NAME examples/NAME`` (start-up and
reports included) in each checkout, and their ratio. Runs alternate between the checkouts, so a
busy machine slows both alike. Only classes present in both checkouts are compared.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def classes(checkout: Path) -> list[str]:
    """The example classes of ``checkout`` that are graded by an assignment of the same name."""
    return sorted(p.name for p in (checkout / "examples").iterdir()
                  if p.is_dir() and (checkout / "assignments" / p.name).is_dir())


def grade_once(checkout: Path, name: str, out: Path) -> float:
    """Seconds of one ``grader grade`` of ``examples/NAME`` with ``checkout``'s grader."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "grade", name, f"examples/{name}", "-o", str(out),
                    "-j", "2"], cwd=checkout, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per class and checkout (medians)")
    parser.add_argument("--against", type=Path, help="another checkout to time side by side")
    args = parser.parse_args()
    checkouts = {"here": ROOT, **({"against": args.against.resolve()} if args.against else {})}
    names = sorted(set.intersection(*(set(classes(c)) for c in checkouts.values())))
    work = Path(tempfile.mkdtemp(prefix="grader-bench-examples-"))
    seconds: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(args.repeat):
            for name in names:
                for label, checkout in checkouts.items():
                    out = work / f"{label}-{name}"
                    seconds.setdefault((label, name), []).append(grade_once(checkout, name, out))
                    shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    header = f"{'class':22} {'here (s)':>9}" + (f" {'against (s)':>12} {'ratio':>6}" if args.against else "")
    print(f"median of {args.repeat} runs, -j 2, start-up and reports included\n{header}")
    totals = dict.fromkeys(checkouts, 0.0)
    for name in names:
        medians = {label: statistics.median(seconds[(label, name)]) for label in checkouts}
        for label, value in medians.items():
            totals[label] += value
        line = f"{name:22} {medians['here']:9.2f}"
        if args.against:
            line += f" {medians['against']:12.2f} {medians['here'] / medians['against']:6.2f}"
        print(line)
    line = f"{'all':22} {totals['here']:9.2f}"
    if args.against:
        line += f" {totals['against']:12.2f} {totals['here'] / totals['against']:6.2f}"
    print(line)


if __name__ == "__main__":
    main()
