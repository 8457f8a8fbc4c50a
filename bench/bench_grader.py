"""Benchmark: grade a generated class of N custom_layer notebooks and report the grader's speed.

    python bench/bench_grader.py [--n 100] [--jobs 2] [--repeat 3]
    python bench/bench_grader.py --curve 1,10,100,1000 [--repeat 3]

Prints, per run: wall-clock seconds for ``grader grade`` (start-up included), submissions per
second, and per submission the median sandbox time, the median time of the student's own code and
probes, and the difference: the grader's overhead, with run.json's breakdown of it. ``--curve``
grades classes of each size and prints T(N), the marginal cost of one more notebook
((T(N) - T(smallest)) / (N - smallest)) and, for the largest class, what its feedback pages cost
(graded once more with ``--no-feedback``). See bench/README.md.
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

import nbformat
import pandas as pd
from peer_class import CORRECT, DEMO  # the same solution as the peers' benchmark class

HEADER = "import torch\nfrom torch import nn\n"
VARIANTS = {
    "correct": CORRECT,
    "no_bias": CORRECT.replace("return out if self.bias is None else out + self.bias", "return out"),
    "misspelled": CORRECT.replace("def forward", "def forwrad"),
    "plain_tensor": CORRECT.replace("nn.Parameter(torch.randn(in_features, out_features))",
                                    "torch.randn(in_features, out_features, requires_grad=True)"),
    "raises": CORRECT + "\nraise RuntimeError('unfinished')\n",
}
MIX = ["correct"] * 6 + ["no_bias", "misspelled", "plain_tensor", "raises"]


def make_class(folder: Path, n: int) -> dict[str, str]:
    """Write ``n`` notebooks; returns student -> variant."""
    variants = {}
    for index in range(n):
        variant = MIX[index % len(MIX)]
        notebook = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_markdown_cell("# Custom layer"),
            nbformat.v4.new_code_cell("%matplotlib inline\n" + HEADER),
            nbformat.v4.new_code_cell(VARIANTS[variant]),
            nbformat.v4.new_code_cell(DEMO),
        ])
        student = f"student{index:04d}"
        nbformat.write(notebook, folder / f"{student}.ipynb")
        variants[student] = variant
    return variants


def grade_once(folder: Path, out: Path, jobs: int, extra: list[str]) -> tuple[float, pd.DataFrame]:
    grader = Path(sys.executable).with_name("grader")
    started = time.perf_counter()
    command = [str(grader), "grade", "custom_layer", str(folder), "-o", str(out), "-j", str(jobs), *extra]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, pd.read_csv(out / "scores.csv")


def per_submission(out: Path) -> str:
    """run.json's median milliseconds of each part of a submission's grading."""
    parts = json.loads((out / "run.json").read_text()).get("timings", {}).get("per_submission_ms", {})
    return ", ".join(f"{name} {ms}" for name, ms in parts.items()) or "(not in run.json)"


def curve(sizes: list[int], jobs: int, repeat: int, work: Path) -> None:
    """T(N) for each size, the marginal cost of a notebook, and the feedback pages' share."""
    walls: dict[int, float] = {}
    for n in sizes:
        folder = work / f"class{n}"
        folder.mkdir()
        variants = make_class(folder, n)
        runs = []
        for run in range(repeat):
            wall, scores = grade_once(folder, work / f"out{n}-{run}", jobs, [])
            _check_scores(scores, variants)
            runs.append(wall)
        walls[n] = statistics.median(runs)
        print(f"N = {n:>5}: {walls[n]:7.2f} s (runs {min(runs):.2f}-{max(runs):.2f})", file=sys.stderr)
    smallest, largest = min(sizes), max(sizes)
    bare = statistics.median(grade_once(work / f"class{largest}", work / f"bare{run}", jobs,
                                        ["--no-feedback"])[0] for run in range(repeat))
    print(f"\ncustom_layer notebooks, -j {jobs}, feedback on, median of {repeat} runs:")
    print("      N   T(N), s   per notebook, ms   marginal, ms")
    for n in sizes:
        extra = 1000 * (walls[n] - walls[smallest]) / (n - smallest) if n > smallest else None
        marginal = f"{extra:8.1f}" if extra is not None else "       -"
        print(f"  {n:>5}   {walls[n]:7.2f}   {1000 * walls[n] / n:16.1f}   {marginal}")
    print(f"  feedback pages, N = {largest}: {1000 * (walls[largest] - bare) / largest:.1f} ms a notebook "
          f"(T without them {bare:.2f} s)")
    print(f"  per submission, N = {largest} (run.json, ms): {per_submission(work / f'out{largest}-0')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="submissions in the class (default 100)")
    parser.add_argument("--jobs", type=int, default=2, help="grader -j (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians are reported")
    parser.add_argument("--no-feedback", action="store_true",
                        help="pass --no-feedback: leave out rendering feedback/ (nbconvert)")
    parser.add_argument("--curve", default=None, metavar="N,N,...",
                        help="grade classes of these sizes (e.g. 1,10,100,1000) and print T(N)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    if args.curve:
        try:
            curve(sorted({int(n) for n in args.curve.split(",")}), args.jobs, args.repeat, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    try:
        (work / "class").mkdir()
        variants = make_class(work / "class", args.n)
        walls, overheads, codes, sandboxes = [], [], [], []
        for run in range(args.repeat):
            extra = ["--no-feedback"] if args.no_feedback else []
            wall, scores = grade_once(work / "class", work / f"out{run}", args.jobs, extra)
            _check_scores(scores, variants)
            walls.append(wall)
            sandboxes.append(scores.seconds.median())
            codes.append(scores.code_seconds.median())
            overheads.append((scores.seconds - scores.code_seconds).median())
            print(f"run {run + 1}: {wall:.2f} s for {args.n} notebooks "
                  f"({args.n / wall:.1f} per second)")
        wall = statistics.median(walls)
        feedback = "without feedback/" if args.no_feedback else "with feedback/ (the default)"
        print(f"\ncustom_layer, N = {args.n}, -j {args.jobs}, {feedback}, median of {args.repeat} runs:")
        print(f"  wall clock, start-up included : {wall:.2f} s ({args.n / wall:.1f} notebooks/s, "
              f"{1000 * wall / args.n:.0f} ms each)")
        print(f"  sandbox per submission        : {1000 * statistics.median(sandboxes):.1f} ms (median)")
        print(f"  student's code and probes     : {1000 * statistics.median(codes):.1f} ms (median)")
        print(f"  grader overhead per submission: {1000 * statistics.median(overheads):.1f} ms "
              "(sandbox minus the student's code: fork, isolation, transfer)")
        print(f"  run.json, per submission (ms) : {per_submission(work / 'out0')}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check_scores(scores: pd.DataFrame, variants: dict[str, str]) -> None:
    """The benchmark is only worth something if the grades are right."""
    full = set(scores[scores.score == scores.max_score].student)
    expected = {student for student, variant in variants.items() if variant in ("correct", "raises")}
    if full != expected:
        raise SystemExit(f"wrong grades: {sorted(full ^ expected)[:5]}")


if __name__ == "__main__":
    main()
