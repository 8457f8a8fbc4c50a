"""``run.json``'s header: what was graded, where, with what, and, after a partial regrade, whom."""

from __future__ import annotations

import importlib.metadata
import platform
from datetime import UTC, datetime

from grader.grading.batch import BatchResult
from grader.report.pages import student_ids
from grader.sandbox.selftest import PROTECTIONS
from grader.version import __version__, environment


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
        **regraded(batch),
        "seconds": round(batch.seconds, 2),
        "protections": {PROTECTIONS[name]: active for name, active in batch.protections.items()},
        "missing_protections": missing,
        "environment": batch.environment or environment(batch.device),
        "timings": batch.timings,
    }


REGRADED_NAMED = 20  # students named in the header of a partial regrade


def regraded(batch: BatchResult) -> dict:
    """What this run graded: ``graded_now`` submissions (named in ``regraded`` when the others were
    reused from the journal, as after ``--only``) and ``reused`` ones graded before."""
    ids = student_ids(batch)
    now = [ids[run.submission.student] for run in batch.runs if run.submission.student not in batch.reused]
    fields = {"graded_now": len(now), "reused": len(batch.runs) - len(now)}
    if fields["reused"]:
        fields["regraded"] = now[:REGRADED_NAMED]
    return fields
