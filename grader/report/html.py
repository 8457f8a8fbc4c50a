"""The instructor's extra outputs: ``scores.parquet`` and ``report.html``, and per-student feedback.

``report.html`` is one self-contained page (no network: inline CSS, the plot as inline SVG, a
Content-Security-Policy that allows nothing else) with the class summary, the gradebook (every
student, sortable, linking to their feedback; see ``gradebook``), hidden tests' failures with their
full messages (this page is the instructor's), the cells that raised, the adjustments (overrides,
late penalties) with their reasons, an item analysis of each test, the distribution of scores, the
most frequent diagnoses, the similar pairs of ``similarity.csv`` when it exists (``grader similar``
rewrites that section in place: :func:`refresh_similarity`), the submissions that failed or ran
slowest, and the run's header. Everything that comes from students is escaped (Jinja2's autoescape, pandas'
``to_html(escape=True)``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from grader.grading.batch import BatchResult

from grader.files import atomic_write
from grader.report.pages import CONTENT_SECURITY_POLICY, first_line, render

FAILED_STATUSES = ("error", "timeout", "killed", "missing")
DIAGNOSED_STATUSES = ("graded", "timeout")  # the others fail every test for one reason, shown apart
TOP_DIAGNOSES = 15
TOP_SLOWEST = 5
SIMILAR_LISTED = 50  # pairs of similarity.csv shown
SIMILARITY_START, SIMILARITY_END = "<!-- similarity: start -->", "<!-- similarity: end -->"


def write_extras(batch: BatchResult, out_dir: Path, scores: pd.DataFrame,
                 results: pd.DataFrame, feedback: bool = True, names: dict[str, str] | None = None,
                 changes: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write scores.parquet, report.html and (with ``feedback``) feedback/ beside the CSV report;
    return their paths. ``names``: the roster's names by submission id, shown beside the ids;
    ``changes``: what changed since the previous report (``grader.report.changes``)."""
    from grader.report.feedback import write_feedback

    scores = _by_row(scores)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"parquet": out_dir / "scores.parquet", "html": out_dir / "report.html"}
    atomic_write(paths["parquet"], scores.to_parquet(index=False))
    if feedback:  # first: the gradebook links the pages that were written
        paths.update(write_feedback(batch, out_dir / "feedback", scores, results, names))
    page = render_report(batch, scores, results, _header(batch, out_dir),
                         feedback_dir=out_dir / "feedback" if feedback else None, out_dir=out_dir,
                         names=names, changes=changes)
    atomic_write(paths["html"], page)
    return paths


def render_report(batch: BatchResult, scores: pd.DataFrame, results: pd.DataFrame, header: dict,
                  feedback_dir: Path | None = None, out_dir: Path | None = None,
                  names: dict[str, str] | None = None, changes: pd.DataFrame | None = None) -> str:
    """The class report as one HTML page (with ``out_dir``: its similarity.csv's pairs, if any)."""
    from markupsafe import Markup

    from grader.report import gradebook

    tables = {name: Markup(_table(frame)) if len(frame) else "" for name, frame in (
        ("tests", gradebook.item_analysis(scores, results)),
        ("diagnoses", frequent_diagnoses(scores, results)),
        ("failed", failed_submissions(scores)), ("slowest", slowest_submissions(scores)))}
    from grader.report.changes import change_rows

    book = {"students": gradebook.student_rows(batch, scores, feedback_dir, names),
            "changes": change_rows(changes),
            "hidden": gradebook.hidden_failures(results, scores),
            "cell_errors": gradebook.cell_errors(batch, scores),
            "adjustments": gradebook.adjustments(batch),
            "decisions": gradebook.decisions_to_review(batch),
            "script": Markup(gradebook.SORT_SCRIPT),
            "csp": f"{CONTENT_SECURITY_POLICY}; script-src {gradebook.script_hash()}"}
    facts = [(key.replace("_", " "), header[key]) for key in (
        "assignment", "assignment_fingerprint", "graded_at", "grader_version", "torch_version", "python",
        "device", "time_limit_seconds", "submissions", "seconds") if key in header]
    from grader.report.statistics import run_line

    return render("report.html.j2", title=batch.assignment.title, header=header, run_line=run_line(header),
                  summary=class_summary(scores), plot=distribution_svg(scores), tables=tables,
                  run_facts=facts, book=book, similar=gradebook.similar_pairs(out_dir, SIMILAR_LISTED))


def refresh_similarity(out_dir: Path) -> bool:
    """Rewrite the similarity section of ``out_dir/report.html`` from its similarity.csv (after
    ``grader similar``); False when there is no report with that section to rewrite. The markers
    cannot come from a student: every text of theirs on the page is escaped (``<`` is ``&lt;``)."""
    from grader.report import gradebook

    page = out_dir / "report.html"
    try:
        text = page.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    start = text.find(SIMILARITY_START)
    end = text.find(SIMILARITY_END, start)
    if start < 0 or end < 0:
        return False
    section = render("similarity.html.j2", similar=gradebook.similar_pairs(out_dir, SIMILAR_LISTED))
    atomic_write(page, text[:start] + section.strip() + text[end + len(SIMILARITY_END):])
    return True


def class_summary(scores: pd.DataFrame) -> dict[str, Any]:
    """:func:`grader.report.statistics.class_statistics`, as the page shows it (every status counted,
    ``missing`` too; scores and rates over the students who handed something in)."""
    from grader.report.statistics import class_statistics

    s = class_statistics(scores)
    return s | {"max_score": f"{s['max_score']:g}",
                "mean": "-" if s["mean"] is None else f"{s['mean']:.2f}",
                "median": "-" if s["median"] is None else f"{s['median']:g}",
                "pass_rate": f"{s['pass_rate']:.1f}", "statuses": list(s["statuses"].items())}


def frequent_diagnoses(scores: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """The first lines of failures, counted (hidden tests' too: this page is the instructor's)."""
    import pandas as pd

    from grader.report.gradebook import tests_only

    diagnosed = set(scores.student[scores.status.isin(DIAGNOSED_STATUSES)])
    results = tests_only(results)
    failed = results[(results.status == "failed") & results.student.isin(diagnosed)]
    columns = ["diagnosis", "students", "tests", "who"]
    if failed.empty:
        return pd.DataFrame(columns=columns)
    hidden = failed.visibility == "hidden"
    diagnosis = [("(hidden) " if h else "") + first_line(headline, cause)
                 for h, headline, cause in zip(hidden, failed.headline, failed.likely_cause, strict=True)]
    failed = failed.assign(diagnosis=diagnosis, key=diagnosis)  # one row a diagnosis, whichever tests
    table = failed.groupby("key", sort=False).agg(
        diagnosis=("diagnosis", "first"), students=("student", "nunique"),
        tests=("description", lambda tests: "; ".join(dict.fromkeys(tests))),
        who=("student", lambda who: _names(list(dict.fromkeys(who)))))
    table = table.sort_values("students", ascending=False, kind="stable")
    return table[columns].head(TOP_DIAGNOSES).reset_index(drop=True)


def failed_submissions(scores: pd.DataFrame) -> pd.DataFrame:
    """Submissions whose status is error, timeout, killed or missing, with their message."""
    failed = scores[scores.status.isin(FAILED_STATUSES)]
    return failed[["student", "status", "score", "message"]].assign(score=failed.score.map("{:g}".format))


def slowest_submissions(scores: pd.DataFrame) -> pd.DataFrame:
    """The submissions that took longest in their sandbox."""
    slowest = scores.sort_values("seconds", ascending=False, kind="stable").head(TOP_SLOWEST)
    return slowest[["student", "seconds", "code_seconds", "status"]]


def distribution_svg(scores: pd.DataFrame) -> str:
    """A histogram of the scores of the students who handed something in (those who did not are
    counted apart, as in the summary), as an inline SVG: bars, integer counts, labelled axes. Only
    numbers go into it (no student's text); no plotting library is imported (matplotlib cost
    0.15-0.3 s of every run)."""
    import numpy as np

    from grader.report.statistics import handed_in

    max_score = float(scores.max_score.max()) if len(scores) else 0.0
    missing = len(scores) - len(handed_in(scores))
    values = handed_in(scores).score.astype(float).to_numpy()
    if 0 < max_score <= 40:  # one bar a whole score
        edges = np.arange(-0.5, np.ceil(max_score) + 1.5, 1.0)
    else:
        edges = np.linspace(0.0, max(max_score, 1.0), 21)
    counts, edges = np.histogram(values, bins=edges)
    width, height, left, right, top, bottom = 700, 300, 56, 16, 12, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(int(counts.max()) if len(counts) else 0, 1)
    step = max(1, int(np.ceil(peak / 5)))
    y_max = step * int(np.ceil(peak / step))

    def x(value: float) -> float:
        return left + plot_w * (value - edges[0]) / (edges[-1] - edges[0])

    def y(count: float) -> float:
        return top + plot_h * (1 - count / y_max)

    parts = [f'<svg id="distribution" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
             'aria-label="histogram of the students\' scores" font-family="sans-serif" font-size="12">']
    for count, low, high in zip(counts, edges[:-1], edges[1:], strict=True):
        if count:
            parts.append(f'<rect x="{x(low):.1f}" y="{y(count):.1f}" width="{x(high) - x(low):.1f}" '
                         f'height="{y(0) - y(count):.1f}" fill="#4c72b0" stroke="white"/>')
    for tick in range(0, y_max + 1, step):
        parts.append(f'<line x1="{left - 4}" x2="{left}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#333"/>'
                     f'<text x="{left - 7}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    centres = (edges[:-1] + edges[1:]) / 2 if 0 < max_score <= 40 else edges
    every = max(1, int(np.ceil(len(centres) / 21)))
    for value in centres[::every]:
        parts.append(f'<line x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{y(0)}" y2="{y(0) + 4}" '
                     'stroke="#333"/>'
                     f'<text x="{x(value):.1f}" y="{y(0) + 17}" text-anchor="middle">{value:g}</text>')
    label = f"score (out of {max_score:g})" + (
        f"; {missing} who handed nothing in not shown" if missing else "")
    parts += [f'<line x1="{left}" x2="{left + plot_w}" y1="{y(0)}" y2="{y(0)}" stroke="#333"/>',
              f'<line x1="{left}" x2="{left}" y1="{top}" y2="{y(0)}" stroke="#333"/>',
              f'<text x="{left + plot_w / 2:.1f}" y="{height - 10}" text-anchor="middle">{label}</text>',
              f'<text transform="translate(16 {top + plot_h / 2:.1f}) rotate(-90)" '
              'text-anchor="middle">students</text>', "</svg>"]
    return "\n".join(parts)  # shown as it is (| safe): numbers and our own words only


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, escape=True, na_rep="", classes="data")


def _names(students: list[str], most: int = 8) -> str:
    shown = ", ".join(students[:most])
    return shown + (f" and {len(students) - most} more" if len(students) > most else "")


def _by_row(scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` with ``student`` as a column (tests index it by student)."""
    return scores.reset_index() if "student" not in scores.columns else scores.reset_index(drop=True)


def _header(batch: BatchResult, out_dir: Path) -> dict:
    """The run.json just written beside us, or a fresh header."""
    try:
        return json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        from grader.report.run_header import header

        return header(batch)
