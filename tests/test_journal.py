"""Nothing graded is lost: kill the grader mid-batch, run it again, and the report is whole."""

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import EXAMPLES

N = 24


@pytest.fixture(scope="module")
def slow_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    for index in range(N):
        source = (EXAMPLES / "custom_layer" / ("alice.py" if index % 3 else "rupert.py")).read_text()
        (folder / f"s{index:02d}.py").write_text(source + "\nimport time\ntime.sleep(0.4)\n")
    return folder


def grade(folder, out, *extra):
    return [sys.executable, "-m", "grader", "grade", "custom_layer", str(folder), "-o", str(out),
            "-j", "2", "--timeout", "20", *extra]


def journal_lines(out) -> list[dict]:
    path = out / ".grader" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_sigkill_mid_batch_then_rerun_gives_a_whole_report(slow_class, tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen(grade(slow_class, out), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not journal_lines(out) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = len(journal_lines(out))
    assert 0 < before < N, "the kill should land mid-batch"

    result = subprocess.run(grade(slow_class, out), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    entries = journal_lines(out)
    assert len(entries) == N  # finished submissions were not graded twice
    assert len({e["student"] for e in entries}) == N
    scores = pd.read_csv(out / "scores.csv")
    assert sorted(scores.student) == [f"s{i:02d}" for i in range(N)]
    assert scores.set_index("student").score.to_dict() == {
        f"s{i:02d}": (10.0 if i % 3 else 5.0) for i in range(N)}
    assert f"{before} unchanged submissions were graded before" in " ".join(result.stdout.split())


def test_changed_submission_is_graded_again_and_regrade_redoes_all(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("alice.py", "rupert.py"):
        (folder / name).write_bytes((EXAMPLES / "custom_layer" / name).read_bytes())
    out = tmp_path / "out"
    subprocess.run(grade(folder, out), check=True, capture_output=True, timeout=300)
    (folder / "rupert.py").write_bytes((EXAMPLES / "custom_layer" / "alice.py").read_bytes())
    subprocess.run(grade(folder, out), check=True, capture_output=True, timeout=300)
    assert [e["student"] for e in journal_lines(out)] == ["alice", "rupert", "rupert"]
    assert pd.read_csv(out / "scores.csv").score.tolist() == [10.0, 10.0]
    subprocess.run(grade(folder, out, "--regrade"), check=True, capture_output=True, timeout=300)
    assert len(journal_lines(out)) == 5
