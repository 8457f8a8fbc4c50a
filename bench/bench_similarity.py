"""Time ``grader similar`` against ``grader grade`` on a class of N custom_layer notebooks.

Each student writes the layer in their own way (names, comments, helper code, order); a few pairs
copy each other (renamed variables, a comment added) and one pair shares a rare bug. Prints both
times and whether the planted pairs are ranked first.

    python bench/bench_similarity.py --n 300
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd

TEMPLATE = '''import torch
from torch import nn

class MyLinear(nn.Module):
    """{doc}"""
    def __init__(self, {a}, {b}, bias=True):
        super().__init__()
        {pre}
        self.weights = nn.Parameter(torch.{init}({a}, {b}))
        self.bias = nn.Parameter(torch.zeros({b})) if bias else None

    def forward(self, {x}):
        {y} = {x} @ self.weights
        {extra}
        return {y} if self.bias is None else {y} + self.bias{bug}

def {helper}({x}):
    {body}
'''
WORDS = ["alpha", "beta", "gamma", "delta", "value", "item", "count", "total", "temp", "acc",
         "result", "node", "size", "width", "depth", "scale", "factor", "offset", "shift", "step"]


def student_code(rng: random.Random, bug: str = "") -> str:
    pick = lambda: rng.choice(WORDS) + str(rng.randint(0, 99))  # noqa: E731
    return TEMPLATE.format(
        doc=" ".join(rng.sample(WORDS, 6)), a=pick(), b=pick(), x=pick(), y=pick(),
        pre=f"self.{pick()} = {rng.randint(0, 9)}", init=rng.choice(["randn", "rand", "ones"]),
        extra=f"{pick()} = {rng.random():.3f}", bug=bug, helper=pick(),
        body="\n    ".join(f"{pick()} = {rng.randint(0, 999)} * {rng.random():.2f}"
                           for _ in range(rng.randint(2, 8))) + "\n    return None")


def make_class(folder: Path, n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    codes = {f"s{i:04d}": student_code(rng) for i in range(n)}
    planted = []
    for i in range(0, min(n - 1, 50), 10):  # copies: a renamed variable and a comment
        a, b = f"s{i:04d}", f"s{i + 1:04d}"
        codes[b] = "# my own work\n" + codes[a].replace("self.weights", "self.weights ")
        planted.append((a, b))
    a, b = f"s{n - 2:04d}", f"s{n - 1:04d}"  # a rare bug, shared to the last digit
    codes[a] = student_code(rng, bug=" * 1.5")
    codes[b] = student_code(rng, bug=" * 1.5")
    for student, code in codes.items():
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        nbformat.write(notebook, folder / f"{student}.ipynb")
    return planted + [(a, b)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder, out = Path(temporary) / "class", Path(temporary) / "out"
        folder.mkdir()
        planted = make_class(folder, args.n)
        grader = [sys.executable, "-m", "grader"]
        started = time.perf_counter()
        subprocess.run([*grader, "grade", "custom_layer", str(folder), "-o", str(out), "-j",
                        str(args.jobs), "--no-feedback"], check=True, stdout=subprocess.DEVNULL)
        graded = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([*grader, "similar", str(out)], check=True, stdout=subprocess.DEVNULL)
        similar = time.perf_counter() - started
        table = pd.read_csv(out / "similarity.csv", dtype=str)
        flagged = table[table.flagged == "True"]
        found = {tuple(sorted(p)) for p in zip(flagged.student_a, flagged.student_b, strict=True)}
        top = {tuple(sorted(p)) for p in zip(table.student_a[:len(planted)],
                                             table.student_b[:len(planted)], strict=True)}
        print(f"{args.n} notebooks: grade {graded:.1f} s (--no-feedback), similar {similar:.1f} s "
              f"({similar / graded:.0%} of grading); {len(flagged)} pairs flagged; planted pairs "
              f"flagged {sum(p in found for p in planted)}/{len(planted)}, ranked first "
              f"{sum(p in top for p in planted)}/{len(planted)}")


if __name__ == "__main__":
    main()
