"""Classroom 50's ``result.json`` (contract ``classroom50/result/v1``), for ``grader ci --format classroom50``.

Classroom 50 (CS50's successor of GitHub Classroom) runs the classroom's autograder (kept in its
configuration repository, not the student's) on a checkout of the student's repository and reads
``./result.json`` (https://github.com/foundation50/classroom50/wiki/Advanced-Autograding,
"The result.json contract")::

    schema       "classroom50/result/v1"
    classroom    the classroom's short name          ($CLASSROOM)
    assignment   the assignment's slug               ($ASSIGNMENT; else the grader's assignment name)
    submission   the submit tag                      ($SUBMISSION_TAG)
    commit       URL of the graded commit            ($COMMIT_URL; else built from $GITHUB_*)
    release      URL of the submission's Release     ($RELEASE_URL)
    review       URL of the diff from the starter    ($REVIEW_URL; else the commit's URL)
    datetime     the graded commit's committer date, UTC ISO 8601 (from git; else now)
    graded_at    when this grading ran (optional)
    score, max-score   sums over the tests
    tests        [{"test-name", "passed", "score", "max-score", ...}]

``owner`` and ``assignment_type`` are stamped by Classroom 50's runner, so they are not written.
Extra fields of a test are kept by Classroom 50: each test also carries ``test`` (the function's
name), ``visibility`` and ``message`` (a hidden test's message is never shown). Scores are
integers, as the contract says: an assignment with a fractional ``@points`` is refused for this
format before anything is graded (:func:`check_whole_points`), with one line naming its tests.

Classroom 50 fetches the autograder from the classroom's configuration repository without
authentication: anything placed there (hidden tests included) is public. Grade hidden tests on the
instructor's side; see ``docs/classroom50.md`` and ``examples/classroom50/``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from grader.ci.results import SubmissionResult, student_message
from grader.errors import GraderError

SCHEMA = "classroom50/result/v1"


def classroom50_result(result: SubmissionResult, env: Mapping[str, str] | None = None,
                       committed: str | None = None) -> dict:
    """The result.json of one graded submission; ``committed``: the commit's date (else from git)."""
    env = os.environ if env is None else env
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository, sha = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_SHA", "")
    commit = env.get("COMMIT_URL") or (f"{server}/{repository}/commit/{sha}" if repository and sha else "")
    now = _utc(datetime.now(UTC))
    tests = [{
        "test-name": test.description or test.test,
        "passed": test.passed,
        "score": _number(test.score),
        "max-score": _number(test.max_score),
        "test": test.test,
        "visibility": "hidden" if test.hidden else "public",
        "message": student_message(test),
    } for test in result.tests]
    return {
        "schema": SCHEMA,
        "classroom": env.get("CLASSROOM", ""),
        "assignment": env.get("ASSIGNMENT") or result.assignment,
        "submission": env.get("SUBMISSION_TAG", ""),
        "commit": commit,
        "release": env.get("RELEASE_URL", ""),
        "review": env.get("REVIEW_URL") or commit,
        "datetime": committed or commit_date(Path(result.file).parent) or now,
        "graded_at": now,
        "score": _number(result.score),
        "max-score": _number(result.max_score),
        "tests": tests,
        "environment": result.environment,
    }


def commit_date(folder: Path) -> str | None:
    """The committer date of HEAD in the repository holding ``folder``, in UTC, or None."""
    try:
        done = subprocess.run(["git", "-C", str(folder if folder.is_dir() else Path.cwd()), "log", "-1",
                               "--format=%cI"], capture_output=True, text=True, timeout=10)
        return _utc(datetime.fromisoformat(done.stdout.strip())) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: float) -> int:
    return int(round(float(value)))


def check_whole_points(assignment) -> None:
    """Refuse, in one line naming them, an assignment whose tests have fractional points: Classroom
    50's result.json holds integers."""
    from grader.authoring.release import split_public

    fractional = []
    for path in assignment.test_files:
        part = split_public(path)
        for name, points in {**part.public_points, **part.hidden_points}.items():
            if not float(points).is_integer():
                fractional.append(f"{name} ({points:g})")
    if fractional:
        raise GraderError(f"--format classroom50 needs whole points (its result.json holds integers): "
                          f"{', '.join(fractional)} in {assignment.name}; give them whole @points, or "
                          "use another format")


def write_classroom50(result: SubmissionResult, target: Path) -> None:
    import json

    from grader.files import atomic_write

    atomic_write(target, json.dumps(classroom50_result(result), indent=2, ensure_ascii=False) + "\n")
