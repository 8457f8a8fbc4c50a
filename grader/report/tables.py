"""The score report: pandas tables written to the output folder, and the run's header.

Every text from a submission enters the tables here, bounded (``escaping.bound``: a length cap per
field, lone surrogates as U+FFFD); the CSV files then get ``escaping.csv_table`` (no cell a
spreadsheet would read as a formula). ``scores.parquet`` and ``report.html`` keep the text as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from grader.files import atomic_write
from grader.grading.batch import BatchResult
from grader.model import TestOutcome, diagnosis, errors_summary, gist
from grader.report.escaping import bound, csv_table
from grader.report.html import write_extras
from grader.report.pages import student_ids
from grader.report.run_header import header

SCORE_COLUMNS = ["student", "score", "max_score", "percent", "status", "message", "seconds",
                 "code_seconds", "file"]
RESULT_COLUMNS = ["student", "test", "description", "score", "max_score", "status", "visibility",
                  "message"]
DIAGNOSIS_COLUMNS = ["headline", "likely_cause"]  # a failure's, for the pages (not in results.csv)


def results_table(batch: BatchResult) -> pd.DataFrame:
    """One row per student and test; ``headline`` and ``likely_cause`` of a failure besides the
    columns of results.csv (see :func:`grader.model.diagnosis`)."""
    ids = student_ids(batch)
    rows = [
        {
            "student": ids.get(o.student) or bound(o.student, "student"),
            "test": o.test,
            "description": o.description,
            "score": o.score if getattr(o, "score", None) is not None else (o.points if o.passed else 0.0),
            "max_score": o.points,
            "status": "passed" if o.passed else "failed",
            "visibility": "hidden" if o.hidden else "public",
            "message": bound(o.message),
            **_diagnosis(o),
        }
        for o in batch.outcomes
    ]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS + DIAGNOSIS_COLUMNS)


def _diagnosis(outcome: TestOutcome) -> dict[str, str]:
    if outcome.passed:
        return {"headline": "", "likely_cause": ""}
    headline, cause = diagnosis(getattr(outcome, "headline", ""), getattr(outcome, "likely_cause", ""),
                                outcome.message)
    return {"headline": bound(headline), "likely_cause": bound(cause)}


def scores_table(batch: BatchResult, results: pd.DataFrame) -> pd.DataFrame:
    """One row per student, always, whatever happened to their submission."""
    max_score = _max_score(results)
    by_student = results.groupby("student")["score"].sum() if len(results) else pd.Series(dtype=float)
    ids = student_ids(batch)
    rows = []
    for run in batch.runs:
        student = ids[run.submission.student]
        score = float(by_student.get(student, 0.0))
        message = bound(run.message)
        if run.status == "graded":  # what cost points first; the cells that raised after it
            failed = results[(results.student == student) & (results.status == "failed")]
            if not failed.empty:
                summary = errors_summary(run.cell_errors, run.submission.kind) if run.cell_errors else ""
                raised = f"; {summary} (see the feedback)" if summary else ""
                message = _first_failure(failed) + raised
            elif not message:
                message = "all tests passed"
        rows.append({
            "student": student,
            "score": score,
            "max_score": max_score,
            "percent": round(100 * score / max_score, 1) if max_score else 0.0,
            "status": run.status,
            "message": bound(" ".join(message.split()), "summary"),
            "seconds": round(run.seconds, 3),
            "code_seconds": round(run.code_seconds, 3),
            "file": bound(run.submission.label, "file"),
        })
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def _max_score(results: pd.DataFrame) -> float:
    if results.empty:
        return 0.0
    return float(results.drop_duplicates("test")["max_score"].sum())


def _first_failure(failed: pd.DataFrame) -> str:
    """The first failed test and its reason (for the instructor: hidden tests included)."""
    row = failed.iloc[0]
    text = f"{row.test}: {gist(row.headline, row.likely_cause)}"
    more = len(failed) - 1
    return text + (f" (and {more} more failed test{'s' if more > 1 else ''})" if more else "")


def write_report(batch: BatchResult, out_dir: Path, feedback: bool = True,
                 names: dict[str, str] | None = None) -> dict[str, Path]:
    """Write scores.csv, results.csv, run.json, changes.csv (when a report was there before: what
    changed) and the extras (scores.parquet, report.html and, unless ``feedback`` is off, feedback/)
    into ``out_dir``, each file atomically. ``names``: the roster's names by submission id."""
    from grader.grading import copies
    from grader.report import changes as changed

    out_dir.mkdir(parents=True, exist_ok=True)
    # every report folder keeps what it graded (grade() with an out_dir already did: kept as is),
    # so that grader similar, the pages and a regrade work once the submissions' folder is gone
    copies.keep(out_dir, [run.submission for run in batch.runs], refresh=False)
    results = results_table(batch)
    scores = scores_table(batch, results)
    paths = {
        "scores": out_dir / "scores.csv",
        "results": out_dir / "results.csv",
        "header": out_dir / "run.json",
    }
    safe_results = csv_table(results[RESULT_COLUMNS])
    changes = changed.compare(changed.previous_results(out_dir), safe_results)  # before overwriting
    atomic_write(paths["scores"], csv_table(scores).to_csv(index=False))
    atomic_write(paths["results"], safe_results.to_csv(index=False))
    if (written := changed.write_changes(out_dir, changes)) is not None:
        paths["changes"] = written
    from grader.report.statistics import class_statistics

    atomic_write(paths["header"], json.dumps(header(batch) | {"statistics": class_statistics(scores)},
                                             indent=2) + "\n")
    paths |= write_extras(batch, out_dir, scores, results, feedback=feedback, names=names,
                          changes=changes)
    return paths

