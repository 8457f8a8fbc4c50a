"""What a student reads of their grading, as Markdown: the summary, each test, the cells that
raised. Written by ``feedback`` into letters and by ``notebook_page`` into the annotated notebook."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from grader.model import ErrorGroup
from grader.report.escaping import bound, fence
from grader.report.escaping import markdown as md_text

if TYPE_CHECKING:
    from grader.model import CellError


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
