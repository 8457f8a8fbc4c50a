"""Feedback for each student, ready to send: ``feedback/FILE.md`` and ``feedback/FILE.html``, and for
notebooks ``feedback/FILE.notebook.html``, the student's own notebook with the grader's notes
(``notebook_page``). ``FILE`` is the student's id as a file name (:func:`file_name`): letters, digits,
``_`` and ``-`` as they are, anything else (``.`` too) percent-encoded, so no two ids share a file.

Students see the score, the status and why, each test with its points, and the diagnosis of each
failed public test. Of a hidden test they see only its description and points, never its message.
The notebook is rendered, never run (this is the trusted process), with its saved outputs left out.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.model import ErrorGroup, group_errors
from grader.report.escaping import bound, fence
from grader.report.escaping import markdown as md_text
from grader.report.files import atomic_write
from grader.report.html import CONTENT_SECURITY_POLICY, render

if TYPE_CHECKING:
    import pandas as pd

    from grader.grading.batch import BatchResult, Run
    from grader.model import CellError
    from grader.report.notebook_page import NotebookRenderer


@dataclass
class TestLine:
    description: str
    hidden: bool
    score: str
    max_score: str
    result: str  # passed or failed; for an adjustment's row: adjustment or waived
    diagnosis: str = ""  # failed public tests only
    points: str = ""  # what the points column shows: "2 / 2", or an adjustment's change ("+0.5")


@dataclass
class Feedback:
    title: str
    student: str
    score: str
    max_score: str
    percent: str
    status: str
    status_text: str
    tests: list[TestLine]
    cell_errors: list[str] = field(default_factory=list)
    cells_went_on: bool = True  # every cell after an error ran (no time limit stopped the run)
    notes: list[str] = field(default_factory=list)
    hidden_score: str = ""
    hidden_total: str = ""
    name: str = ""  # the roster's name, or ""
    score_note: str = ""  # why the score is outside 0..max


def write_feedback(batch: BatchResult, folder: Path, scores: pd.DataFrame,
                   results: pd.DataFrame, names: dict[str, str] | None = None) -> dict[str, Path]:
    """Write each student's feedback into ``folder``; a notebook that cannot be rendered is skipped
    and named in ``folder/skipped.txt``, never failing the batch."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = scores.reset_index() if "student" not in scores.columns else scores.reset_index(drop=True)
    tests_of = {student: rows for student, rows in results.groupby("student", sort=False)}
    letters: list[Letter] = []
    for run, (_, score) in zip(batch.runs, rows.iterrows(), strict=True):  # one row per run, in order
        student = run.submission.student
        feedback = student_feedback(batch.assignment.title, run, score,
                                    tests_of.get(score.student, results.iloc[:0]),
                                    definitions_graded(batch, student))
        feedback.name = bound((names or {}).get(student, ""), "student")
        letter = Letter(run, feedback, folder / file_name(student), page=False)
        letter.page = run.submission.kind == "ipynb" and run.submission.path is not None and not (
            student in batch.reused and letter.path(".notebook.html").exists())
        letters.append(letter)
    skipped = [problem for problem in write_letters(letters) if problem]
    skipped_path = folder / "skipped.txt"
    if skipped:
        atomic_write(skipped_path, "\n".join(skipped) + "\n")
    else:
        skipped_path.unlink(missing_ok=True)
    return {"feedback": folder}


@dataclass
class Letter:
    """One student's feedback files: ``STEM.md``, ``STEM.html`` and, with ``page``, the notebook page
    ``STEM.notebook.html`` (kept from the last run for an unchanged notebook: nbconvert is slow)."""

    run: Run
    feedback: Feedback
    stem: Path
    page: bool

    def path(self, suffix: str) -> Path:
        return self.stem.with_name(self.stem.name + suffix)


LETTERS_PER_PROCESS = 16  # fewer than this a process: write them here
_work: tuple[NotebookRenderer | None, list[Letter]] | None = None  # what forked writers inherit


def write_letters(letters: list[Letter]) -> list[str | None]:
    """Write every letter; for each, ``None`` or why its notebook page was skipped.

    A notebook page takes nbconvert ~40 ms, all of it Python: with many letters they are shared
    among processes forked from this one (one a core), which inherit the renderer and the letters."""
    global _work
    from grader.report.notebook_page import shared_renderer

    _work = (shared_renderer() if any(letter.page for letter in letters) else None, letters)
    try:
        processes = min(len(os.sched_getaffinity(0)), len(letters) // LETTERS_PER_PROCESS)
        # Forking while another thread may hold an import lock could hang the children.
        if processes < 2 or threading.active_count() > 1:
            return [_write_letter(index) for index in range(len(letters))]
        gc.freeze()  # the children's collections then leave this heap, shared with them, alone
        try:
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                return pool.map(_write_letter, range(len(letters)), chunksize=4)
        finally:
            gc.unfreeze()
    finally:
        _work = None


def _write_letter(index: int) -> str | None:
    renderer, letters = _work
    letter = letters[index]
    run, feedback = letter.run, letter.feedback
    atomic_write(letter.path(".md"), feedback_markdown(feedback))
    atomic_write(letter.path(".html"), render("feedback.html.j2", f=feedback,
                                              csp=CONTENT_SECURITY_POLICY))
    if not letter.page:
        return None
    from grader.report.notebook_page import notebook_html

    try:
        page = notebook_html(renderer, run, feedback)
    except Exception as error:  # a weird notebook must not cost the others their feedback
        from grader.report.escaping import visible

        return (f"{visible(feedback.student, 'student')}: {visible(run.submission.path.name, 'file')} not "
                f"rendered ({type(error).__name__}: {visible(' '.join(str(error).split()), 'summary')})")
    atomic_write(letter.path(".notebook.html"), page)
    return None


def definitions_graded(batch: BatchResult, student: str) -> list[str]:
    """Which of several definitions of a name was graded ("Net is defined twice (lines 107 and
    228); graded the one at line 107"), said to the student once each."""
    from grader.model import Decision

    said: list[str] = []
    for outcome in batch.outcomes:
        if outcome.student != student:
            continue
        for value in getattr(outcome, "decisions", None) or []:
            decision = Decision.of_value(value)
            if decision is not None and decision.kind == "definition" and decision.text not in said:
                said.append(decision.text)
    return said


def student_feedback(title: str, run: Run, score: pd.Series, results: pd.DataFrame,
                     definitions: list[str] | None = None) -> Feedback:
    """What one student may see of their grading; ``definitions``: which of several definitions
    of a name was graded (see :func:`definitions_graded`)."""
    from grader.model import LATE, TOTAL
    from grader.report.gradebook import score_note

    tests = []
    for row in results.itertuples():
        hidden = row.visibility == "hidden"
        diagnosis = "" if hidden or row.status == "passed" else bound(row.message or "failed")
        line = TestLine(row.description or row.test, hidden, f"{row.score:g}", f"{row.max_score:g}",
                        row.status, diagnosis, f"{row.score:g} / {row.max_score:g}")
        if row.test in (LATE, TOTAL) and not row.max_score:  # an adjustment's row, not a test
            waived = row.test == LATE and not row.score
            line.result, line.points = ("waived", "0") if waived else ("adjustment", f"{row.score:+g}")
        tests.append(line)
    hidden = results[results.visibility == "hidden"]
    failed = sum(t.result == "failed" for t in tests)
    status_text = bound(run.message) if run.status != "graded" else (
        f"{failed} of {len(tests)} tests failed" if failed else "all tests passed")
    errors = [bound(error_lines(group, run.submission.kind)) for group in group_errors(run.cell_errors)]
    return Feedback(
        title=title, student=str(score.student), score=f"{score.score:g}",
        max_score=f"{score.max_score:g}", percent=f"{score.percent:g}", status=run.status,
        status_text=status_text, tests=tests,
        cell_errors=[error for error in errors if error not in status_text],
        cells_went_on=not any(e.type == "SoftTimeout" for e in run.cell_errors),
        notes=[bound(note, "note") for note in [*(definitions or []), *run.notes]],
        hidden_score=f"{hidden.score.sum():g}" if len(hidden) else "",
        hidden_total=f"{hidden.max_score.sum():g}" if len(hidden) else "",
        score_note=score_note(float(score.score), float(score.max_score)),
    )


def feedback_markdown(feedback: Feedback) -> str:
    """The whole feedback as Markdown."""
    return summary_markdown(feedback) + "\n" + tests_markdown(feedback)


def summary_markdown(f: Feedback) -> str:
    """Title, score, status and why, errors in the student's cells, notes."""
    who = md_text(f.student) + (f" ({md_text(f.name, 'student')})" if f.name else "")
    parts = [f"# {md_text(f.title)}: feedback for {who}",
             f"**Score: {f.score} / {f.max_score}** ({f.percent} %)"
             + (f" *Note: {md_text(f.score_note, 'note')}.*" if f.score_note else ""),
             f"**Status: {md_text(f.status)}**: {md_text(f.status_text)}" if f.status == "graded"
             else f"**Status: {md_text(f.status)}**\n\n{fence(f.status_text)}"]
    if f.cell_errors:
        after = ("the cells after an error still ran" if f.cells_went_on else
                 "the cells after an error still ran, until the time limit stopped the run")
        parts.append(f"**Errors while running your code** ({after}):\n\n"
                     + "\n\n".join(fence(error) for error in f.cell_errors))
    if f.notes:
        parts.append("**Notes:**\n\n" + "\n".join(f"- {md_text(note)}" for note in f.notes))
    return "\n\n".join(parts) + "\n"


def tests_markdown(f: Feedback) -> str:
    """The table of tests, then the diagnosis of each failed public test."""
    lines = ["## Tests", "", "| test | points | result |", "| --- | --- | --- |"]
    for test in f.tests:
        hidden = " *(hidden test)*" if test.hidden else ""
        points = test.points or f"{test.score} / {test.max_score}"
        lines.append(f"| {md_text(test.description)}{hidden} | {points} | {test.result} |")
    if f.hidden_total:
        lines += ["", f"Hidden tests: {f.hidden_score} / {f.hidden_total} points. Their details are not shown."]
    for test in f.tests:
        if test.diagnosis:
            lines += ["", f"### {md_text(test.description)}: {test.score} / {test.max_score}", "",
                      fence(test.diagnosis)]
    return "\n".join(lines) + "\n"


def error_lines(group: ErrorGroup, kind: str) -> str:
    """A cause and, below it, the later errors that follow from it (a few, then how many more)."""
    details = group.details_for(kind)
    return group.text_for(kind) + ("\n" + details if details else "")


def error_markdown(error: CellError, number: object, cause: CellError | None = None) -> str:
    """The note after a cell that raised while it was graded; ``cause``: the earlier failed cell
    this error follows from (:func:`grader.model.group_errors`), named instead of a new cause."""
    if cause is not None:
        head = (f"**Grader: cell {md_text(number, 'type')} raised {md_text(error.type, 'type')}, which follows "
                f"from the error in cell {md_text(cause.cell, 'type')}** (fix that one first).")
        return f"{head}\n\n{fence(bound(error.text_for('ipynb')))}\n"
    if error.type == "SoftTimeout":
        head = f"**Grader: cell {md_text(number, 'type')} ran too long and was stopped** (an endless loop?)."
    else:
        kind = md_text(error.type, "type")
        head = (f"**Grader: cell {md_text(number, 'type')} raised {kind} "
                "while it was graded.** The cells after it still ran.")
    return f"{head}\n\n{fence(bound(error.text_for('ipynb')))}\n"


_NAME_KEEP = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
MAX_NAME_BYTES = 200  # of the 255 a file name may have, leaving room for ".notebook.html"


def file_name(student: str) -> str:
    """The stem of a student's feedback files: ASCII letters, digits, ``_`` and ``-`` as they are,
    every other character (``.``, ``%``, ``/``, non-ASCII, a lone surrogate) as %XX of its UTF-8
    bytes. Two ids never share a stem, and no id's stem ends in another's ``.notebook``; a stem
    over ``MAX_NAME_BYTES`` is cut and ends in a hash of the whole id."""
    name = "".join(c if c in _NAME_KEEP else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
                   for c in student) or "%"
    if len(name) > MAX_NAME_BYTES:
        digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        name = f"{name[:MAX_NAME_BYTES - 17]}~{digest}"
    return name
