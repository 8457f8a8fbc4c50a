"""Overrides and the late policy: final scores, their audit trail, and one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from conftest import EXAMPLES
from grader.course.adjust import adjust, awarded
from grader.course.late import LatePolicy, policy_of
from grader.course.overrides import read_overrides
from grader.errors import GraderError
from grader.judge.plugin import TestOutcome as Outcome

ZONE = timezone(timedelta(hours=1))
DEADLINE = datetime(2025, 3, 14, 23, 59, tzinfo=ZONE)


def outcomes(student: str, passed: tuple[bool, ...]) -> list[Outcome]:
    return [Outcome(student, f"test_{i}", f"test {i}", 2.0, False, ok, "" if ok else "wrong")
            for i, ok in enumerate(passed)]


def totals(rows: list[Outcome]) -> dict[str, float]:
    found: dict[str, float] = {}
    for row in rows:
        found[row.student] = found.get(row.student, 0.0) + awarded(row)
    return found


def overrides_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "overrides.csv"
    path.write_text("student,test,points,reason,who\n" + "\n".join(lines) + "\n")
    return path


def test_overrides_set_test_points_add_deltas_and_change_totals(tmp_path):
    rows = outcomes("ann", (True, False, False)) + outcomes("ben", (True, True, False))
    path = overrides_file(tmp_path, "ann,test_1,1.5,partial credit,prof",
                          "ann,test_2,+2,regrade request,TA Kim", "ben,total,-1,shared code,prof")
    final, records = adjust(rows, ["ann", "ben"], read_overrides(path))
    assert totals(final) == {"ann": 5.5, "ben": 3.0}
    ann_1 = next(o for o in final if o.student == "ann" and o.test == "test_1")
    assert "Override by prof: partial credit (0 -> 1.5 points)" in ann_1.message
    assert [(r.student, r.test, r.original, r.new, r.who) for r in records] == [
        ("ann", "test_1", 0.0, 1.5, "prof"), ("ann", "test_2", 0.0, 2.0, "TA Kim"),
        ("ben", "total", 4.0, 3.0, "prof")]
    # max points do not change: the total row is worth 0
    assert sum(o.points for o in final if o.student == "ben") == 6.0


@pytest.mark.parametrize("line, words", [
    ("zed,test_0,1,why,prof", "overrides.csv, line 2: there is no student 'zed'"),
    ("ann,test_9,1,why,prof", "overrides.csv, line 2: there is no test 'test_9'"),
])
def test_an_override_of_nobody_is_one_error(tmp_path, line, words):
    with pytest.raises(GraderError, match=words):
        adjust(outcomes("ann", (True,)), ["ann"], read_overrides(overrides_file(tmp_path, line)))


@pytest.mark.parametrize("line, words", [
    ("ann,test_0,lots,why,prof", "line 2: cannot read the points 'lots'"),
    ("ann,test_0,1,,prof", "line 2: the reason is empty"),
    ("ann,test_0,1,why,", "line 2: the who is empty"),
])
def test_a_bad_row_is_one_error(tmp_path, line, words):
    with pytest.raises(GraderError, match=words):
        read_overrides(overrides_file(tmp_path, line))


def test_a_file_without_the_columns_is_one_error(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("student,points\nann,3\n")
    with pytest.raises(GraderError, match="the column.s. test, reason, who are missing"):
        read_overrides(path)


def test_late_per_day_with_cap_and_grace():
    policy = LatePolicy(DEADLINE, per_day=10, cap=25, grace=timedelta(minutes=15))
    assert policy.lost(policy.days_late(DEADLINE + timedelta(minutes=10))) == 0
    assert policy.days_late(DEADLINE + timedelta(hours=1)) == 1
    assert policy.lost(2) == pytest.approx(0.2)
    assert policy.lost(5) == pytest.approx(0.25)  # capped


def test_late_curve_and_waiver(tmp_path):
    policy = policy_of({"late": {"deadline": "2025-03-14T23:59:00+01:00",
                                 "curve": [[1, 0.9], [3, 0.5], [7, 0.0]]}}, "assignment.toml")
    times = {"ann": DEADLINE + timedelta(days=2), "ben": DEADLINE + timedelta(days=2),
             "cy": DEADLINE - timedelta(hours=1)}
    rows = outcomes("ann", (True, True)) + outcomes("ben", (True, True)) + outcomes("cy", (True, True))
    waiver = read_overrides(overrides_file(tmp_path, "ben,late,0,doctor's note,prof"))
    final, records = adjust(rows, ["ann", "ben", "cy"], waiver, policy, times)
    assert totals(final) == {"ann": 2.0, "ben": 4.0, "cy": 4.0}
    late = next(o for o in final if o.student == "ann" and o.test == "late")
    assert "2 days after the deadline" in late.message and late.points == 0
    assert [(r.student, r.kind, r.original, r.new) for r in records] == [
        ("ann", "late", 4.0, 2.0), ("ben", "late", 4.0, 2.0), ("ben", "override", -2.0, 0.0)]


@pytest.mark.parametrize("late, words", [
    ({"per_day": 10}, "needs a deadline"),
    ({"deadline": "2025-03-14T23:59:00"}, "has no zone"),
    ({"deadline": "2025-03-14T23:59:00Z"}, "either per_day"),
    ({"deadline": "2025-03-14T23:59:00Z", "curve": [[3, 0.5], [1, 0.9]]}, "increasing order"),
    ({"deadline": "soon", "per_day": 5}, "cannot read the time 'soon'"),
])
def test_a_bad_late_policy_is_one_error(late, words):
    with pytest.raises(GraderError, match=words):
        policy_of({"late": late}, "assignment.toml")


def run_grader(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """custom_layer with a late policy, four students, a roster with submission times."""
    root = tmp_path_factory.mktemp("course")
    bundled = Path(__file__).resolve().parent.parent
    shutil.copytree(bundled / "assignments" / "custom_layer", root / "assignments" / "custom_layer")
    (root / "reference").mkdir()
    shutil.copy(bundled / "reference" / "custom_layer.py", root / "reference")
    toml = root / "assignments" / "custom_layer" / "assignment.toml"
    toml.write_text(toml.read_text() + '\n[late]\ndeadline = "2025-03-14T23:59:00+01:00"\n'
                    "per_day = 10\ncap = 50\n")
    subs = root / "subs"
    subs.mkdir()
    for name in ("alice.py", "rupert.py", "dave.py", "bob.ipynb"):
        shutil.copy(EXAMPLES / "custom_layer" / name, subs)
    (root / "roster.csv").write_text(
        "student,lms_id,name,submitted_at\nalice,1,A,2025-03-16T10:00:00+01:00\n"
        "rupert,2,R,2025-03-14T20:00:00+01:00\ndave,3,D,\nbob,4,B,2025-03-14T23:00:00\n")
    out = root / "out"
    out.mkdir()
    (out / "overrides.csv").write_text("student,test,points,reason,who\n"
                                       "dave,test_forward_values,+1,\"typo, logic right\",prof\n"
                                       "rupert,total,+0.5,regrade request,TA Kim\n")
    return root


def test_overrides_and_late_policy_reach_every_report_file(course):
    out = course / "out"
    result = run_grader("grade", str(course / "assignments" / "custom_layer"), str(course / "subs"),
                        "-o", str(out), "--roster", str(course / "roster.csv"), "--no-feedback")
    assert result.returncode == 0, result.stderr
    scores = pd.read_csv(out / "scores.csv").set_index("student").score.to_dict()
    # alice: 10, 2 days late, 20% off; dave: 4 + 1; rupert: 6 + 0.5; bob on time (the deadline's zone)
    assert scores == {"alice": 8.0, "bob": 10.0, "dave": 5.0, "rupert": 6.5}
    header = json.loads((out / "run.json").read_text())
    assert [(a["student"], a["test"], a["kind"]) for a in header["adjustments"]] == [
        ("alice", "late", "late"), ("dave", "test_forward_values", "override"),
        ("rupert", "total", "override")]
    assert header["late_policy"]["no_submission_time"] == ["dave"]
    assert "no submission time for 1 students" in result.stdout
    results = pd.read_csv(out / "results.csv")
    late = results[(results.student == "alice") & (results.test == "late")].iloc[0]
    assert late.score == -2.0 and "2 days after the deadline" in late.message

    # one student again: the others come from the journal, the overrides still hold
    again = run_grader("grade", str(course / "assignments" / "custom_layer"), str(course / "subs"),
                       "-o", str(out), "--roster", str(course / "roster.csv"), "--no-feedback",
                       "--only", "dave")
    assert again.returncode == 0, again.stderr
    assert "3 unchanged submissions were graded before" in again.stdout
    assert pd.read_csv(out / "scores.csv").set_index("student").score.to_dict() == scores


def test_only_unknown_student_and_bad_override_row_are_one_line(course, tmp_path):
    args = ["grade", str(course / "assignments" / "custom_layer"), str(course / "subs"), "-o",
            str(tmp_path / "o")]
    unknown = run_grader(*args, "--only", "zoe")
    assert unknown.returncode == 2 and "--only: no submission zoe" in unknown.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("student,test,points,reason,who\nalice,total,ten,why,prof\n")
    result = run_grader(*args, "--overrides", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == ("grader: error: bad.csv, line 2: cannot read the points 'ten': "
                                     "write the new points (8) or a change (+2, -1.5)")
