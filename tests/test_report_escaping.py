"""Text from submissions, where it lands: the bytes the report writes, for hostile ids and messages.

The unit tests build a batch by hand (no sandbox): a formula as a file name, terminal escapes in
messages, a lone surrogate, a name that is not UTF-8, colliding feedback names, a spoofed grader
note with remote images, a render bomb. The last test grades a small class end to end.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from rich.console import Console

from conftest import EXAMPLES
from grader.cli import commands
from grader.course.canvas_export import export_canvas
from grader.grading.batch import BatchResult
from grader.grading.runs import Run
from grader.intake.assignment import find_assignment
from grader.intake.submissions import Submission
from grader.judge.plugin import TestOutcome as Outcome
from grader.model import CellError
from grader.report import escaping, feedback, notebook_page, pages, tables

FORMULA = "=cmd|' -C calc'!A0"  # Excel's DDE payload, as a file name: a legal student id
OSC8 = "\x1b]8;;https://evil.example/\x07click me\x1b]8;;\x07"
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"  # writes "rm -rf ~" into the clipboard
CURSOR = "\x1b[2J\x1b[1;1Hall tests passed\r\n10/10"
SURROGATE = "bad byte \udcff here"
NON_UTF8 = os.fsdecode(b"caf\xe9")  # 'caf\udce9': what a zip made on Windows gives
SPOOF = "**Grader: all tests passed, 10/10**"
REMOTE = ("![pixel](https://evil.example/pixel.png)\n\n<img src=\"http://evil.example/b.png\" alt=\"b\">\n\n"
          "[click](https://evil.example/phish)")
START = ("=", "+", "-", "@", "\t", "\r")


def notebook(path: Path, *markdown: str, code: str = "x = 1") -> Path:
    cells = [nbformat.v4.new_markdown_cell(text) for text in markdown] + [nbformat.v4.new_code_cell(code)]
    path.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=cells)))
    return path


def outcome(student: str, passed: bool, message: str = "", test: str = "test_forward",
            hidden: bool = False) -> Outcome:
    return Outcome(student, test, "forward(x) is right", 2.0, hidden, passed, "" if passed else message)


@pytest.fixture()
def hostile_batch(tmp_path) -> BatchResult:
    """A class of honest and hostile entries, as grading would hand it to the report."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    bob = notebook(folder / "bob.ipynb", "# Bob's work")
    spoof = notebook(folder / "mallory.ipynb", SPOOF, REMOTE)
    bomb = folder / "bomber.ipynb"
    bomb.write_text(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(str(i)) for i in range(18_000)])))
    entries = [  # (student, file, status, run message, test message)
        ("alice", folder / "alice.py", "graded", "", ""),
        (FORMULA, folder / f"{FORMULA}.py", "graded", "", "=HYPERLINK(\"http://evil.example\",\"x\")"),
        ("+1+1", folder / "+1+1.py", "error", "@SUM(1+1)*cmd|' /C calc'!A0", ""),
        ("-2+3", folder / "-2+3.py", "graded", "", "-1+2"),
        ("oscar", folder / "oscar.py", "error", OSC8 + OSC52 + CURSOR, ""),
        (CURSOR, folder / "cursor.py", "graded", "", OSC52),
        ("sue", folder / "sue.py", "error", SURROGATE, ""),
        (NON_UTF8, folder / f"{NON_UTF8}.py", "graded", "", SURROGATE),
        ("bob", bob, "graded", "", ""),
        ("bob.notebook", folder / "bob.notebook.py", "graded", "", ""),
        ("mallory", spoof, "graded", "", ""),
        ("bomber", bomb, "graded", "", ""),
    ]
    runs, outcomes = [], []
    for student, path, status, message, failure in entries:
        errors = [CellError(1, "X" * 100_000, OSC52 + SURROGATE, 1, "=1+1")] if student == "oscar" else []
        runs.append(Run(Submission(student, path), status, message, seconds=0.1, cell_errors=errors))
        outcomes.append(outcome(student, not failure and status == "graded", failure or "failed"))
    return BatchResult(find_assignment("custom_layer"), runs, outcomes, {"namespaces": True}, 6.0, "cpu", 1.0)


def csv_cells(path: Path) -> list[str]:
    raw = path.read_bytes()
    raw.decode("utf-8")  # valid UTF-8, whatever the names were
    return [cell for row in csv.reader(io.StringIO(raw.decode("utf-8"), newline="")) for cell in row]


def test_no_csv_cell_starts_a_formula(hostile_batch, tmp_path):
    out = tmp_path / "out"
    tables.write_report(hostile_batch, out, feedback=False)
    for name in ("scores.csv", "results.csv"):
        cells = csv_cells(out / name)
        assert not [cell for cell in cells if cell.startswith(START)], name
        assert f"'{FORMULA}" in cells and "'-2+3" in cells  # shown, neutralised: not dropped
    roster = tmp_path / "roster.csv"
    roster.write_text(f'student,lms_id,name\n"{FORMULA}",1,"=2+2"\nalice,2,Alice\n')
    export = export_canvas(out, tmp_path / "canvas.csv", roster)
    assert {row["student"] for row in export.rows} == {FORMULA, "alice"}  # read back as they were
    for path in (export.csv_path, export.status_path):
        assert not [cell for cell in csv_cells(path) if cell.startswith(START)], path.name


def test_every_submission_gets_a_row_and_no_encoder_fails(hostile_batch, tmp_path):
    import json

    import pandas as pd

    out = tmp_path / "out"
    paths = tables.write_report(hostile_batch, out)
    scores = pd.read_parquet(out / "scores.parquet")
    assert len(scores) == len(hostile_batch.runs) == len(pd.read_csv(out / "scores.csv"))
    assert "caf\ufffd" in set(scores.student) and SURROGATE.replace("\udcff", "\ufffd") in set(scores.message)
    json.loads((out / "run.json").read_text(encoding="utf-8"))
    for page in (out / "feedback").iterdir():
        page.read_bytes().decode("utf-8")
    assert (out / "report.html").read_bytes().decode("utf-8")
    assert paths["feedback"] == out / "feedback"
    assert (out / "scores.csv").stat().st_mode & 0o777 == 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_summary_table_prints_no_escape_byte(hostile_batch, tmp_path, monkeypatch):
    out = tmp_path / "out"
    paths = tables.write_report(hostile_batch, out, feedback=False)
    buffer = io.StringIO()
    monkeypatch.setattr(commands, "console", Console(file=buffer, force_terminal=False, width=300))
    commands._print_summary(hostile_batch, paths)
    printed = buffer.getvalue()
    assert "\x1b" not in printed and "\x07" not in printed and "\r" not in printed
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07" in printed  # shown, as a visible escape
    assert "\\x1b[2J" in printed and "caf\ufffd" in printed


def test_terminal_and_markdown_escapes():
    assert escaping.terminal("[bold red]x[/] \u202eevil") == "\\[bold red]x\\[/] \\u202eevil"
    assert escaping.visible("a\x9bb\x00c\nd") == "a\\x9bb\\x00c\\nd"
    markdown = escaping.markdown("[a](https://evil.example) **b** <i>c</i> `d` | @bob www.x.org")
    assert "](https://" not in markdown and "https://" not in markdown and "www." not in markdown
    assert "\\*\\*b\\*\\*" in markdown and "&lt;i&gt;" in markdown and "\\`d\\`" in markdown
    assert "\\|" in markdown and "@bob" not in markdown
    assert len(escaping.bound("x" * 10**7, "type")) < 300  # a 10 MB exception class name


def test_feedback_pages_are_the_graders(hostile_batch, tmp_path):
    out = tmp_path / "out"
    tables.write_report(hostile_batch, out)
    folder = out / "feedback"
    page = (folder / "mallory.notebook.html").read_text()
    assert "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; " in page.replace(
        "&#39;", "'")
    assert "https://" not in page and "http://" not in page and "evil.example" not in page
    assert "image from outside the notebook, not shown" in page
    frame = page.index("Your notebook&#39;s text (as you wrote it)")
    spoof = page.index("Grader: all tests passed, 10/10")
    assert frame < spoof  # the spoof sits inside the labelled frame of the student's text
    assert re.search(r'class="[^"]*student-text[^"]*"[^>]*>\s*<p class="student-label">', page)
    assert "The grader's note" in page  # our notes say whose they are
    for name in os.listdir(folder):
        if name.endswith(".html"):
            text = (folder / name).read_text()
            assert "Content-Security-Policy" in text and "<script" not in text, name
            assert not re.search(r'(?:src|href)="https?:', text), name


def test_feedback_names_never_collide(hostile_batch, tmp_path):
    out = tmp_path / "out"
    tables.write_report(hostile_batch, out)
    folder = out / "feedback"
    assert "Bob's work" in (folder / "bob.notebook.html").read_text()  # bob's page, not overwritten
    assert "bob.notebook" in (folder / f"{feedback.file_name('bob.notebook')}.html").read_text()
    stems = [feedback.file_name(run.submission.student) for run in hostile_batch.runs]
    assert len(set(stems)) == len(stems)
    assert all(len(stem.encode()) <= pages.MAX_NAME_BYTES for stem in stems)
    assert feedback.file_name("a" * 1000) != feedback.file_name("a" * 999)


def test_a_render_bomb_is_skipped_and_listed(hostile_batch, tmp_path):
    out = tmp_path / "out"
    tables.write_report(hostile_batch, out)
    skipped = (out / "feedback" / "skipped.txt").read_text()
    assert "bomber: bomber.ipynb not rendered" in skipped and "18000 cells" in skipped
    assert not (out / "feedback" / "bomber.notebook.html").exists()
    assert (out / "feedback" / "bomber.html").exists()  # the rest of its feedback is written


def test_a_slow_page_is_abandoned_and_listed(hostile_batch, tmp_path, monkeypatch):
    monkeypatch.setattr(notebook_page, "RENDER_SECONDS", 1e-4)
    out = tmp_path / "out"
    tables.write_report(hostile_batch, out)
    skipped = (out / "feedback" / "skipped.txt").read_text()
    assert "bob: bob.ipynb not rendered (RenderTimeout: rendering took more than" in skipped


def test_grade_end_to_end_with_hostile_names(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    honest = (EXAMPLES / "custom_layer" / "alice.py").read_bytes()
    for name in ("alice.py", f"{FORMULA}.py", "\x1b]52;c;cm0gLXJmIH4=\x07.py", "\x1b[2J\x1b[1;1H.py",
                 "bob.notebook.py"):
        (folder / name).write_bytes(honest)
    (folder / os.fsdecode(b"caf\xe9.py")).write_bytes(honest)  # not UTF-8
    (folder / "bob.ipynb").write_bytes((EXAMPLES / "custom_layer" / "bob.ipynb").read_bytes())
    result = subprocess.run([sys.executable, "-m", "grader", "grade", "custom_layer", str(folder), "-o",
                             str(tmp_path / "out"), "-j", "2"], capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    assert b"\x1b" not in result.stdout and b"\x07" not in result.stdout
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "scores.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 7
    assert not [cell for row in rows for cell in row.values() if cell.startswith(START)]
    by_student = {row["student"]: row for row in rows}
    assert by_student[f"'{FORMULA}"]["score"] == "10.0" and by_student["alice"]["score"] == "10.0"
    assert by_student["caf\ufffd"]["score"] == "10.0"
    pages = {path.name for path in (tmp_path / "out" / "feedback").iterdir()}
    assert {"bob.notebook.html", "bob%2Enotebook.html", "bob.html"} <= pages
