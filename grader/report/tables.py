"""The score report: pandas tables written to the output folder, and the run's header.

Every text from a submission enters the tables here, bounded (``escaping.bound``: a length cap per
field, lone surrogates as U+FFFD); the CSV files then get ``escaping.csv_table`` (no cell a
spreadsheet would read as a formula). ``scores.parquet`` and ``report.html`` keep the text as it is.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from grader.grading import copies
from grader.grading.batch import BatchResult
from grader.model import TestOutcome, diagnosis, failing_cells, gist
from grader.report.escaping import bound, csv_table
from grader.report.files import atomic_write
from grader.report.html import write_extras
from grader.sandbox.selftest import PROTECTIONS
from grader.version import __version__, environment

SCORE_COLUMNS = ["student", "score", "max_score", "percent", "status", "message", "seconds",
                 "code_seconds", "file"]
RESULT_COLUMNS = ["student", "test", "description", "score", "max_score", "status", "visibility",
                  "message"]
DIAGNOSIS_COLUMNS = ["headline", "likely_cause"]  # a failure's, for the pages (not in results.csv)


def student_ids(batch: BatchResult) -> dict[str, str]:
    """Each submission's id as the report shows it: bounded, and unique (two names that differ only
    in bytes that are not UTF-8 would otherwise be shown alike)."""
    shown: dict[str, str] = {}
    taken: set[str] = set()
    for run in batch.runs:
        student = run.submission.student
        name, number = bound(student, "student"), 1
        while name in taken:
            number += 1
            name = f"{bound(student, 'student')} ({number})"
        shown[student] = name
        taken.add(name)
    return shown


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
                count = len(run.cell_errors)
                raised = f"; {failing_cells(count, run.submission.kind)} (see the feedback)" if count else ""
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


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"



def header(batch: BatchResult) -> dict:
    """What a reader of the report needs to trust it: which protections were active, and more."""
    missing = [PROTECTIONS[name] for name, active in batch.protections.items() if not active]
    return {
        "assignment": batch.assignment.name,
        "assignment_title": batch.assignment.title,
        "assignment_fingerprint": batch.assignment.fingerprint,
        "graded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "grader_version": __version__,
        "torch_version": _version("torch"),
        "python": platform.python_version(),
        "device": batch.device,
        "time_limit_seconds": round(batch.timeout, 1),
        "submissions": len(batch.runs),
        "seconds": round(batch.seconds, 2),
        "protections": {PROTECTIONS[name]: active for name, active in batch.protections.items()},
        "missing_protections": missing,
        "environment": batch.environment or environment(batch.device),
    }


def write_report(batch: BatchResult, out_dir: Path, feedback: bool = True) -> dict[str, Path]:
    """Write scores.csv, results.csv, run.json and the extras (scores.parquet, report.html and,
    unless ``feedback`` is off, feedback/) into ``out_dir``, each file atomically. The submissions
    it reports on are kept in ``out_dir`` (:mod:`grader.grading.copies`) when they are not yet."""
    out_dir.mkdir(parents=True, exist_ok=True)
    copies.keep(out_dir, [run.submission for run in batch.runs], refresh=False)
    results = results_table(batch)
    scores = scores_table(batch, results)
    paths = {
        "scores": out_dir / "scores.csv",
        "results": out_dir / "results.csv",
        "header": out_dir / "run.json",
    }
    atomic_write(paths["scores"], csv_table(scores).to_csv(index=False))
    atomic_write(paths["results"], csv_table(results[RESULT_COLUMNS]).to_csv(index=False))
    atomic_write(paths["header"], json.dumps(header(batch), indent=2) + "\n")
    paths |= write_extras(batch, out_dir, scores, results, feedback=feedback)
    return paths

