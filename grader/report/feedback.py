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
import multiprocessing
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.files import atomic_write
from grader.model import group_errors
from grader.report.escaping import bound
from grader.report.feedback_text import (
    Feedback,
    TestLine,
    error_lines,
    feedback_markdown,
)
from grader.report.pages import CONTENT_SECURITY_POLICY, file_name, render

if TYPE_CHECKING:
    import pandas as pd

    from grader.grading.batch import BatchResult, Run
    from grader.report.notebook_page import NotebookRenderer


def write_feedback(batch: BatchResult, folder: Path, scores: pd.DataFrame,
                   results: pd.DataFrame, names: dict[str, str] | None = None) -> dict[str, Path]:
    """Write each student's feedback into ``folder``; a notebook that cannot be rendered is skipped
    and named in ``folder/skipped.txt``, never failing the batch."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = scores.reset_index() if "student" not in scores.columns else scores.reset_index(drop=True)
    tests_of = {student: rows for student, rows in results.groupby("student", sort=False)}
    outcomes_of: dict[str, list] = {}
    for outcome in batch.outcomes:  # once: a class of N would otherwise scan N x N outcomes
        outcomes_of.setdefault(outcome.student, []).append(outcome)
    letters: list[Letter] = []
    for run, (_, score) in zip(batch.runs, rows.iterrows(), strict=True):  # one row per run, in order
        student = run.submission.student
        feedback = student_feedback(batch.assignment.title, run, score,
                                    tests_of.get(score.student, results.iloc[:0]),
                                    definitions_graded(batch, student, outcomes_of.get(student, [])))
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


def definitions_graded(batch: BatchResult, student: str,
                       outcomes: list | None = None) -> list[str]:
    """Which of several definitions of a name was graded ("Net is defined twice (lines 107 and
    228); graded the one at line 107"), said to the student once each. ``outcomes``: the student's
    (else found among the batch's)."""
    from grader.model import Decision

    said: list[str] = []
    mine = outcomes if outcomes is not None else [o for o in batch.outcomes if o.student == student]
    for outcome in mine:
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


