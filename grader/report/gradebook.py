"""The instructor's gradebook in ``report.html``: every student, hidden failures with their full
messages, cells that raised, the decisions to review (what grace decided, each with the
``overrides.csv`` lines that reverse it), the adjustments (overrides, late penalties) with their
reasons, an item analysis of each test, and the similar pairs of ``similarity.csv``.

This page is the instructor's: unlike feedback, it shows hidden tests' messages. Rates count the
students who handed something in (status ``missing`` is counted apart), and tests only: the rows an
adjustment adds (``late``, ``total``, worth 0 points) are no test. Every text is plain data here; the
template escapes it (Jinja2's autoescape), and student ids are escaped with
:func:`grader.report.escaping.html` where they are put together in Python.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from grader.model import group_errors
from grader.report.escaping import bound
from grader.report.escaping import html as html_text

if TYPE_CHECKING:
    import pandas as pd

    from grader.grading.batch import BatchResult

# A sign and a word: status is never told by colour alone, and every sign is in the fonts every
# system has (DejaVu, Liberation, Arial, Segoe UI): no clock or emoji that renders as an empty box.
STATUS_WORDS = {"graded": "✓ graded", "error": "✗ error", "timeout": "✗ timeout", "killed": "✗ killed",
                "missing": "– missing"}
MAX_LISTED = 500  # rows of the hidden-failures and cell-errors tables
MAX_NAMES = 12  # students named in one cell of the item analysis


@dataclass
class StudentRow:
    student: str
    score: float
    max_score: float
    percent: float
    status: str
    status_words: str
    seconds: float
    diagnosis: str
    feedback: str  # a link relative to report.html, or ""
    notebook: str  # the annotated notebook's link, or ""
    name: str = ""  # the roster's name, or ""
    note: str = ""  # why the score is unusual: above the maximum
SIMILARITY_CSV = "similarity.csv"  # written by grader.course.similarity, read here


def handed_in(scores: pd.DataFrame) -> pd.Series:
    """Which rows of ``scores`` handed something in (every status but ``missing``)."""
    return scores.status != "missing"


def student_rows(batch: BatchResult, scores: pd.DataFrame, feedback_dir: Path | None,
                 names: dict[str, str] | None = None) -> list[StudentRow]:
    """One row per submission, in the batch's order, with links to the feedback files that exist and
    the roster's name (``names``: by submission id) beside the id."""
    from grader.report.pages import file_name

    rows = []
    for run, score in zip(batch.runs, scores.itertuples(), strict=True):
        links = {"feedback": "", "notebook": ""}
        if feedback_dir is not None:
            stem = file_name(run.submission.student)
            for key, suffix in (("feedback", ".html"), ("notebook", ".notebook.html")):
                if (feedback_dir / f"{stem}{suffix}").is_file():
                    links[key] = f"{quote(feedback_dir.name)}/{quote(stem + suffix)}"
        rows.append(StudentRow(str(score.student), float(score.score), float(score.max_score),
                               float(score.percent), str(score.status),
                               STATUS_WORDS.get(score.status, str(score.status)), float(score.seconds),
                               str(score.message), **links,
                               name=bound((names or {}).get(run.submission.student, ""), "student"),
                               note=score_note(float(score.score), float(score.max_score))))
    return rows


def score_note(score: float, max_score: float) -> str:
    """A note for a score outside 0..max (an override or a bonus gave it): said, not left to be
    taken for a bug."""
    if score > max_score:
        return f"above the maximum ({score:g} of {max_score:g}): an adjustment gave it"
    if score < 0:
        return f"below zero ({score:g}): an adjustment gave it"
    return ""


def adjustment_rows(results: pd.DataFrame) -> pd.Series:
    """Which rows of ``results`` an adjustment added (a late penalty, a change of the total): tests
    named ``late`` or ``total`` worth 0 points (see :mod:`grader.course.adjust`), not tests of the code."""
    from grader.model import LATE, TOTAL

    return results.test.isin([LATE, TOTAL]) & (results.max_score == 0)


def tests_only(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` without the rows adjustments added."""
    return results[~adjustment_rows(results)] if len(results) else results


def adjustments(batch: BatchResult) -> list[dict[str, str]]:
    """Every score an override or the late policy changed, with its reason: the outcomes with
    ``adjustment`` set (an overridden test, a late penalty, a change of the total)."""
    from grader.model import LATE
    from grader.report.pages import student_ids

    ids = student_ids(batch)
    rows = []
    for outcome in batch.outcomes:
        kind = getattr(outcome, "adjustment", "")
        if not kind or len(rows) >= MAX_LISTED:
            continue
        score = float(getattr(outcome, "score", 0.0) or 0.0)
        if outcome.points:  # an overridden test: the points it now gives
            points, sort = f"{score:g} of {outcome.points:g}", score
        elif outcome.test == LATE and kind == "override" and score == 0:  # "late,0" in overrides.csv
            points, sort = "late penalty waived", score
        else:  # a row of its own: the change of the student's score
            points, sort = f"{score:+g}", score
        lines = [line.strip() for line in (outcome.message or "").splitlines() if line.strip()]
        rows.append({"student": html_text(ids.get(outcome.student) or outcome.student, "student"),
                     "test": bound(outcome.description or outcome.test, "summary"), "kind": kind,
                     "points": points, "sort": f"{sort:g}", "reason": bound(lines[0] if lines else "", "note")})
    return rows


def decisions_to_review(batch: BatchResult) -> list[dict[str, Any]]:
    """Every decision a heuristic made for a student (a graced name, a chosen definition,
    candidate or attribute, an error blamed on the student's code), once per student, with the
    tests it changed and the ``overrides.csv`` lines that reverse it, ready to paste: a granted
    decision's passed tests set to 0, a blamed error's failed test given its points."""
    from grader.model import GRANTED, Decision

    found: dict[tuple[str, Decision], dict[str, Any]] = {}
    for outcome in batch.outcomes:
        for value in getattr(outcome, "decisions", None) or []:
            decision = Decision.of_value(value)
            if decision is None:
                continue
            row = found.setdefault((outcome.student, decision), {"tests": [], "lines": []})
            changes = outcome.passed if decision.kind in GRANTED else not outcome.passed
            if changes and outcome.points:
                row["tests"].append(outcome.test)
                row["lines"].append(decision.override_line(outcome.student, outcome.test, outcome.points))
    rows = []
    for (student, decision), row in found.items():
        if len(rows) >= MAX_LISTED:
            break
        rows.append({"student": html_text(student, "student"), "kind": decision.kind,
                     "decision": bound(decision.text, "note"), "tests": ", ".join(row["tests"]) or "none",
                     "lines": [bound(line, "note") for line in row["lines"]]})
    return rows


def ranked_rows(out_dir: Path, limit: int = 50) -> list[dict[str, Any]]:
    """The report's table: the highest-ranked pairs of ``similarity.csv`` (empty when there is
    none), each a dict of :data:`COLUMNS`; ``page`` is relative to ``out_dir``. Student ids are
    raw text: escape them where they land."""
    import csv

    from grader.report.escaping import from_csv_cell

    path = out_dir / SIMILARITY_CSV
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("student_b")][:limit]  # pairs only
    for row in rows:  # as written by csv_table: an id starting with "=" got a leading quote
        for column in ("student_a", "student_b", "shared_tests"):
            row[column] = from_csv_cell(row.get(column) or "")
    return rows


def similar_pairs(out_dir: Path | None, limit: int = 50) -> list[dict[str, Any]]:
    """The highest-ranked pairs of ``out_dir/similarity.csv`` (none when it does not exist), with
    each student id escaped and a link to the pair's side-by-side page when the grader wrote one."""
    if out_dir is None:
        return []
    try:
        ranked = ranked_rows(out_dir, limit=limit)
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    rows = []
    for row in ranked:
        page = str(row.get("page") or "")
        link = page if PAIR_PAGE.fullmatch(page) and (out_dir / page).is_file() else ""
        shared = [t for t in str(row.get("shared_tests") or "").split() if t][:MAX_NAMES]
        rows.append({
            "rank": f"{_number(row.get('rank')):g}",
            "student_a": html_text(row.get("student_a", ""), "student"),
            "student_b": html_text(row.get("student_b", ""), "student"),
            "code": _percent(row.get("code_similarity")), "code_sort": _number(row.get("code_similarity")),
            "shared_wrong": bound(row.get("shared_wrong", "0"), "summary"),
            "shared_tests": bound(" ".join(shared), "summary"),
            "flagged": str(row.get("flagged", "")).strip().lower() == "true",
            "page": quote(link) if link else ""})
    return rows


PAIR_PAGE = re.compile(r"similarity/pair-[0-9]{1,6}\.html")  # what course.similarity writes, only that


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _percent(value: Any) -> str:
    return f"{100 * _number(value):.0f} %"


def hidden_failures(results: pd.DataFrame, scores: pd.DataFrame) -> list[dict[str, str]]:
    """Every failed hidden test with its full message (the judge's; students never see it), of the
    students who handed something in (the others' failures say only that nothing was run)."""
    results = tests_only(results)
    results = results[results.student.isin(set(scores.student[handed_in(scores)]))]
    failed = results[(results.visibility == "hidden") & (results.status == "failed")]
    return [{"student": row.student, "test": row.description or row.test, "message": bound(row.message)}
            for row in failed.head(MAX_LISTED).itertuples()]


def cell_errors(batch: BatchResult, scores: pd.DataFrame) -> list[dict[str, str]]:
    """The submissions whose cells raised while graded, full marks or not."""
    rows = []
    for run, score in zip(batch.runs, scores.itertuples(), strict=True):
        errors = group_errors(run.cell_errors)  # a cause once, with the errors that follow from it
        if errors and len(rows) < MAX_LISTED:
            rows.append({"student": str(score.student), "score": f"{score.score:g} / {score.max_score:g}",
                         "status": str(score.status),
                         "errors": [bound(error.text_for(run.submission.kind)) for error in errors[:20]]
                         + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])})
    return rows


def item_analysis(scores: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """One row per test, in the assignment's order, over the students who handed something in: how
    many passed, the most common diagnosis of those who failed (hidden tests' too), and who."""
    import pandas as pd

    from grader.report.pages import first_line

    present = set(scores.student[handed_in(scores)])
    results = tests_only(results)
    results = results[results.student.isin(present)]
    columns = ["test", "name", "visibility", "points", "passed", "pass rate", "most common diagnosis",
               "failed by"]
    rows = []
    for test, group in results.groupby("test", sort=False):
        passed = int((group.status == "passed").sum())
        failed = group[group.status == "failed"]
        common = Counter(map(first_line, failed.headline, failed.likely_cause)).most_common(1)
        who = list(failed.student)
        more = f" and {len(who) - MAX_NAMES} more" if len(who) > MAX_NAMES else ""
        names = ", ".join(who[:MAX_NAMES]) + more
        rows.append({"test": group.description.iloc[0] or test, "name": test,
                     "visibility": group.visibility.iloc[0], "points": f"{group.max_score.iloc[0]:g}",
                     "passed": f"{passed} / {len(group)}", "pass rate": f"{100 * passed / len(group):.0f} %",
                     "most common diagnosis": (f"{common[0][0]} ({common[0][1]} of {len(failed)})"
                                               if common else ""),
                     "failed by": names})
    return pd.DataFrame(rows, columns=columns)


# Sorting the gradebook: a click on a column's header sorts by it (again: the other way). The page's
# Content-Security-Policy allows this script only, by its hash.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th button").forEach(function (button, column) {
    button.addEventListener("click", function () {
      var th = button.parentNode, up = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      function key(row) {
        var cell = row.cells[column], value = cell.getAttribute("data-sort");
        return value === null ? cell.textContent.trim().toLowerCase() : parseFloat(value);
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), order = x < y ? -1 : x > y ? 1 : 0;
        return up ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def script_hash(script: str = SORT_SCRIPT) -> str:
    """The CSP source that allows exactly this inline script."""
    import base64
    import hashlib

    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
