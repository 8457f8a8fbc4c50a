"""Benchmark: what a student who floods the judge costs a batch (issue 20).

    python bench/bench_flood.py [--n 20] [--floods 1]

Grades ``n`` honest custom_layer students, then the same with ``floods`` copies of
``tests/data/trust2/floods_judge.py`` (30 frames of about 1 MB under made-up probe names), each
in a fresh ``grader grade`` process, and prints the wall-clock time and the judge's peak memory of
both. The first round's judge decoded every such frame (about 1 GB and a minute per 24 MB).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALICE = ROOT / "examples" / "custom_layer" / "alice.py"
FLOOD = ROOT / "tests" / "data" / "trust2" / "floods_judge.py"
MEASURE = """
import resource, sys
from grader.cli import main as cli
try:
    cli.main(sys.argv[2:])
except SystemExit:
    pass
finally:
    open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def grade(folder: Path, out: Path) -> tuple[float, int]:
    """Seconds and the judge's peak RSS (MB) of ``grader grade`` on ``folder``."""
    rss = out.with_suffix(".rss")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", MEASURE, str(rss), "grade", "custom_layer", str(folder),
                    "-o", str(out), "--no-feedback"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, int(rss.read_text()) >> 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="honest students (default 20)")
    parser.add_argument("--floods", type=int, default=1, help="flooding students (default 1)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grader-bench-flood-"))
    try:
        honest, flooded = work / "honest", work / "flooded"
        for folder in (honest, flooded):
            folder.mkdir()
            for index in range(args.n):
                shutil.copy(ALICE, folder / f"student{index:03d}.py")
        for index in range(args.floods):
            shutil.copy(FLOOD, flooded / f"flood{index:02d}.py")
        base_seconds, base_rss = grade(honest, work / "out-honest")
        seconds, rss = grade(flooded, work / "out-flooded")
        print(f"{args.n} honest students            : {base_seconds:.2f} s, judge peak {base_rss} MB")
        print(f"the same and {args.floods} flooding student(s): {seconds:.2f} s, judge peak {rss} MB")
        print(f"cost of the flood               : {seconds - base_seconds:+.2f} s, {rss - base_rss:+d} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
