"""The roster, and ``grader export-canvas``: a CSV that Canvas's gradebook import accepts."""

import csv
import subprocess
import sys
from dataclasses import replace

import pytest
from test_html_report import OPTIONS

from conftest import EXAMPLES
from grader import report
from grader.course import roster
from grader.grading.batch import Run
from grader.intake import submissions
from grader.report.html import write_extras

EXPORT = ("export", "canvas")
TITLE = "A custom linear layer from nn.Module and nn.Parameter"
ROSTER = """student,lms_id,name,section,sis_user_id,sis_login_id
alice,00123,"Liddell, Alice",Group A,S-1,aliddell
dave,456,"Jones, Dave",Group B,,
zoe,789,"Zhang, Zoe",Group A,,
"""


def grader(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=120)


def read_csv(path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


@pytest.fixture(scope="module")
def graded_with_roster(grade, tmp_path_factory):
    """The example class graded with a roster listing zoe, who handed nothing in; the report written."""
    folder = tmp_path_factory.mktemp("canvas")
    (folder / "roster.csv").write_text(ROSTER)
    students = roster.read_roster(folder / "roster.csv")
    found, unlisted = roster.reconcile(students, submissions.discover(EXAMPLES / "custom_layer"))
    assert [s.student for s in found if s.path is None] == ["zoe"] and "bob" in unlisted
    graded = grade("custom_layer", EXAMPLES / "custom_layer", **OPTIONS)
    # What grading does with a placeholder: no sandbox, status error, its problem as the message.
    zoe = next(s for s in found if s.student == "zoe")
    batch = replace(graded.batch, runs=[*graded.batch.runs, Run(zoe, "error", zoe.problem)])
    roster.mark_missing(batch)
    report.write_report(batch, folder / "out")
    results = report.results_table(batch)
    write_extras(batch, folder / "out", report.scores_table(batch, results), results)
    return folder


def test_roster_student_without_submission_is_missing_in_scores(graded_with_roster):
    rows = {row[0]: row for row in read_csv(graded_with_roster / "out" / "scores.csv")[1:]}
    assert rows["zoe"][1:3] == ["0.0", "10.0"] and rows["zoe"][4] == "missing"
    feedback = (graded_with_roster / "out" / "feedback" / "zoe.md").read_text()
    assert "**Score: 0 / 10**" in feedback and "missing" in feedback and "no submission" in feedback


def test_export_canvas_writes_what_canvas_imports(graded_with_roster):
    folder = graded_with_roster
    result = grader(*EXPORT, str(folder / "out"), "-o", str(folder / "canvas.csv"),
                    "--roster", str(folder / "roster.csv"))
    assert result.returncode == 0, result.stderr
    assert "missing (no submission): zoe" in result.stdout and "not in the roster" in result.stdout
    rows = read_csv(folder / "canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", TITLE]
    assert rows[1] == ["    Points Possible", "", "", "", "", "10"]
    assert rows[2:] == [["Liddell, Alice", "00123", "S-1", "aliddell", "Group A", "10"],
                        ["Jones, Dave", "456", "", "", "Group B", "4"],
                        ["Zhang, Zoe", "789", "", "", "Group A", "0"]]
    status = {row[0]: row for row in read_csv(folder / "canvas.status.csv")}
    assert status["student"][5] == "status" and status["zoe"][5] == "missing"
    assert status["dave"][5] == "graded" and status["alice"][3] == "10"


def test_export_canvas_title_and_blank_for_missing(graded_with_roster):
    folder = graded_with_roster
    result = grader(*EXPORT, str(folder / "out"), "-o", str(folder / "blank.csv"),
                    "--roster", str(folder / "roster.csv"), "--missing", "blank", "--title", "Lab 1 (MyLinear)")
    assert result.returncode == 0, result.stderr
    rows = read_csv(folder / "blank.csv")
    assert rows[0][-1] == "Lab 1 (MyLinear)" and rows[-1] == ["Zhang, Zoe", "789", "", "", "Group A", ""]


@pytest.mark.parametrize("text, words", [
    ("student,name\nalice,Alice\n", "lacks the column(s) lms_id"),
    ("lms_id,name\n1,Alice\n", "lacks the column(s) student"),
    ("student,lms_id,name\nalice,1,A\nalice,2,B\n", "line 3: student 'alice' already appears on line 2"),
    ("student,lms_id,name\nalice,,A\n", "line 2: the lms_id is empty"),
    ("", "is empty"),
])
def test_a_malformed_roster_is_one_line(graded_with_roster, tmp_path, text, words):
    (tmp_path / "roster.csv").write_text(text)
    result = grader(*EXPORT, str(graded_with_roster / "out"), "-o", str(tmp_path / "c.csv"),
                    "--roster", str(tmp_path / "roster.csv"))
    assert result.returncode == 2 and not (tmp_path / "c.csv").exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: error: ") and words in lines[0], result.stderr


def test_a_roster_without_names_is_enough(graded_with_roster, tmp_path):
    """``student,lms_id`` is a roster: the name is optional, and Canvas's column shows the id."""
    (tmp_path / "roster.csv").write_text("student,lms_id\nalice,00123\nzoe,789\n")
    assert [(s.student, s.lms_id, s.name) for s in roster.read_roster(tmp_path / "roster.csv")] == [
        ("alice", "00123", ""), ("zoe", "789", "")]
    result = grader(*EXPORT, str(graded_with_roster / "out"), "-o", str(tmp_path / "c.csv"),
                    "--roster", str(tmp_path / "roster.csv"))
    assert result.returncode == 0, result.stderr
    rows = read_csv(tmp_path / "c.csv")
    assert rows[-1][:2] == ["zoe", "789"] and any(row[:2] == ["alice", "00123"] for row in rows)


def test_export_canvas_needs_a_graded_folder(tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER)
    result = grader(*EXPORT, str(tmp_path), "-o", str(tmp_path / "c.csv"),
                    "--roster", str(tmp_path / "roster.csv"))
    assert result.returncode == 2 and "holds no scores.csv: grade first" in result.stderr
