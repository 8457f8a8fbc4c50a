"""The judge's side of the boundary: what a submission writes into the result pipe, raises or reads
from inherited memory costs its own row, never the batch, the judge's memory or the hidden tests.

``tests/data/trusted/`` (a forged stream of frames written before the real ones, a 30 MB header
and a 200 MB one announced, a 20 MB exception class name, a spy that reads the judge's code from
the warm process's memory) is graded with ``grader grade`` beside honest students, in a process
whose peak memory is compared with the same run without the hostile files. Assertions are on the
bytes written: the rows, the journal's size, the feedback pages, the judge's peak RSS.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT
from grader.sandbox.pool import measure_sandbox

TRUSTED = ROOT / "tests" / "data" / "trusted"
HONEST = {"alice": EXAMPLES / "custom_layer" / "alice.py", "bob": EXAMPLES / "custom_layer" / "bob.ipynb"}
HIDDEN_TESTS = ("test_gradients", "test_to_moves_parameters", "test_forward_without_bias")
MEASURE = """
import resource, sys
from grader.cli import main as cli
try:
    cli.main(sys.argv[2:])
except SystemExit as exit:
    code = exit.code
finally:
    open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def grade_measured(folder: Path, out: Path) -> int:
    """``grader grade`` in a fresh process; its peak RSS in KB (the judge alone, not the sandboxes)."""
    rss = out.with_suffix(".rss")
    result = subprocess.run([sys.executable, "-c", MEASURE, str(rss), "grade", "custom_layer", str(folder),
                             "-o", str(out), "--timeout", "10"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return int(rss.read_text())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not measure_sandbox().namespaces:
        pytest.skip("no sandbox namespaces here: the hostile files would act on this machine")
    base = tmp_path_factory.mktemp("trusted")
    honest, hostile = base / "honest", base / "hostile"
    for folder in (honest, hostile):
        folder.mkdir()
        for student, path in HONEST.items():
            shutil.copy(path, folder / f"{student}{path.suffix}")
    for path in TRUSTED.glob("*.py"):
        shutil.copy(path, hostile)
    baseline = grade_measured(honest, base / "out-honest")
    peak = grade_measured(hostile, base / "out")
    with open(base / "out" / "scores.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    with open(base / "out" / "results.csv", newline="") as handle:
        results = list(csv.DictReader(handle))
    return rows, results, base / "out", baseline, peak


def test_honest_students_keep_full_marks(graded):
    rows = graded[0]
    for student in HONEST:
        assert (rows[student]["score"], rows[student]["status"]) == ("10.0", "graded"), rows[student]


def test_a_forged_stream_is_not_believed(graded):
    row = graded[0]["forged_stream"]
    assert (row["score"], row["status"]) == ("0.0", "error")
    assert "forged" in row["message"]


def test_an_oversized_frame_costs_its_row_not_the_judges_memory(graded):
    rows, _, _, baseline, peak = graded
    row = rows["oversized_frame"]
    assert (row["score"], row["status"]) == ("0.0", "error"), row
    assert "over 1 MB" in row["message"]
    assert peak - baseline < 200 * 1024, (baseline, peak)  # KB: the judge did not parse 30 MB of JSON


def test_a_huge_exception_name_is_cut_everywhere(graded):
    rows, results, out, _, _ = graded
    row = rows["huge_exception_name"]
    assert row["status"] == "graded" and len(row["message"]) < 2000
    assert (out / ".grader" / "journal.jsonl").stat().st_size < 1 << 20
    assert all(path.stat().st_size < 1 << 20 for path in (out / "feedback").iterdir())
    assert all(len(result["message"]) < 5000 for result in results)


def test_the_judges_code_is_not_in_the_sandboxes_memory(graded):
    """The warm process keeps the probes and the names they reach: no test function, no test name."""
    _, results, _, _, _ = graded
    leaks = [r["message"] for r in results if r["student"] == "judge_spy" and "LEAK" in r["message"]]
    assert leaks, "the spy's message did not arrive"
    for message in leaks:
        assert "test_" not in message, message
        for name in HIDDEN_TESTS:
            assert name not in message
