"""Nothing graded is lost: kill the grader mid-batch, run it again, and the report is whole."""

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

import grader.version
from conftest import EXAMPLES
from grader.grading import batch as grading
from grader.grading.journal import Journal, valid_entry
from grader.intake import submissions
from grader.intake.assignment import find_assignment

N = 24


@pytest.fixture(scope="module")
def slow_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    for index in range(N):
        name = "alice.py" if index % 3 else "rupert.py"  # 10 and 6 points
        source = (EXAMPLES / "custom_layer" / name).read_text()
        (folder / f"s{index:02d}.py").write_text(source + "\nimport time\ntime.sleep(0.4)\n")
    return folder


def grade(folder, out, *extra):
    return [sys.executable, "-m", "grader", "grade", "custom_layer", str(folder), "-o", str(out),
            "-j", "2", "--timeout", "20", *extra]


def journal_lines(out) -> list[dict]:
    """The journal's whole entries (a line torn by a kill is not one)."""
    path = out / ".grader" / "journal.jsonl"
    lines = path.read_bytes().splitlines() if path.exists() else []
    return [entry for entry in map(valid_entry, lines) if entry is not None]


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
    with open(out / ".grader" / "journal.jsonl", "ab") as journal:  # as if killed mid-write
        journal.write(b'{"format": 2, "student": "s00", "hash": "')

    result = subprocess.run(grade(slow_class, out), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    entries = journal_lines(out)
    assert len(entries) == N  # finished submissions were not graded twice
    assert len({e["student"] for e in entries}) == N
    scores = pd.read_csv(out / "scores.csv")
    assert sorted(scores.student) == [f"s{i:02d}" for i in range(N)]  # each once
    results = pd.read_csv(out / "results.csv")
    assert not results.duplicated(["student", "test"]).any()
    assert scores.set_index("student").score.to_dict() == {
        f"s{i:02d}": (10.0 if i % 3 else 6.0) for i in range(N)}
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


def test_journal_reads_what_an_older_grader_or_a_crash_left_without_stopping(tmp_path, caplog):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text("x = 1\n")
    (folder / "bob.py").write_text("y = 2\n")
    found = submissions.discover(folder)
    key = {"grader": "9.9", "assignment": "abc"}
    journal = Journal(tmp_path / "out", key)
    journal.append(found[0], {"status": "graded", "message": "", "timeout": 12.5}, [], {})
    good = journal.path.read_bytes()
    outcome = {"student": "bob", "test": "t", "description": "d", "points": 1, "hidden": False,
               "passed": True, "message": ""}
    bad = [
        b'{"student": "bob", "hash": "',  # torn by a kill
        b"\xff\xfe not utf-8 \x80",
        b"[1, 2, 3]",
        b"[" * 100_000,  # deeper than json can read
        json.dumps({"student": "bob", "hash": "x", "key": key, "run": [], "outcomes": []}).encode(),
        json.dumps({"student": "bob", "hash": "x", "key": key, "run": {},
                    "outcomes": [{**outcome, "extra": 1}]}).encode(),  # another grader's outcome
        json.dumps({"student": "bob", "hash": "x", "key": key, "run": {"seconds": "slow"}}).encode(),
    ]
    older = {"student": "alice", "hash": json.loads(good)["hash"], "key": {"assignment": "abc"},
             "run": {"status": "graded"}, "outcomes": []}  # written before keys held a version
    journal.path.write_bytes(good + b"\n".join([*bad, json.dumps(older).encode()]) + b"\n")
    with caplog.at_level("WARNING"):
        done = journal.completed(found)
    assert list(done) == ["alice"] and done["alice"]["run"]["timeout"] == 12.5
    assert f"{len(bad)} unreadable line(s)" in caplog.text
    journal.path.write_bytes(journal.path.read_bytes() + b'{"student": "torn')  # no newline
    journal.append(found[1], {"status": "graded"}, [], {})
    assert set(Journal(tmp_path / "out", key).completed(found)) == {"alice", "bob"}
    assert Journal(tmp_path / "out", {**key, "grader": "10.0"}).completed(found) == {}


def test_a_new_grader_version_grades_again(tmp_path, monkeypatch):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_bytes((EXAMPLES / "custom_layer" / "alice.py").read_bytes())
    assignment, found = find_assignment("custom_layer"), submissions.discover(folder)
    options = grading.GradeOptions(jobs=1, timeout=20)
    first = grading.grade(assignment, found, options, out_dir=tmp_path / "out")
    again = grading.grade(assignment, found, options, out_dir=tmp_path / "out")
    monkeypatch.setattr(grader.version, "__version__", grader.version.__version__ + ".post1")
    upgraded = grading.grade(assignment, found, options, out_dir=tmp_path / "out")
    assert (first.reused, again.reused, upgraded.reused) == (frozenset(), {"alice"}, frozenset())
    assert [e["key"]["grader"] for e in journal_lines(tmp_path / "out")] == [
        grader.version.__version__.removesuffix(".post1")] * 1 + [grader.version.__version__]


def test_a_changed_helper_module_or_data_file_grades_a_folder_submission_again(tmp_path):
    from grader.grading.journal import content_hash

    folder = tmp_path / "ann"
    folder.mkdir()
    (folder / "work.ipynb").write_text("{}")
    (folder / "layers.py").write_text("X = 1\n")
    (folder / "offset.txt").write_text("3\n")
    before = content_hash(submissions.single(folder))
    (folder / "offset.txt").write_text("4\n")
    after_data = content_hash(submissions.single(folder))
    (folder / "layers.py").write_text("X = 2\n")
    assert len({before, after_data, content_hash(submissions.single(folder))}) == 3
