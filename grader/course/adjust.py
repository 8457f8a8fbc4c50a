"""Final scores: the judge's outcomes with the instructor's overrides and the late policy applied.

:func:`adjust` is a pure function of the outcomes: it returns new outcomes (the changed ones as
:class:`AdjustedOutcome`, with the points awarded in ``score``; a late penalty or a change of a
student's total as an extra row, worth 0 points, whose ``score`` is the change) and one
:class:`Adjustment` per change, the audit trail (who, why, points before and after). It runs on
every ``grader grade`` right after grading and before any report is written, so ``scores.csv``,
``results.csv``, the feedback and the LMS exports all see the final scores; the journal keeps the
judge's own outcomes, so an override never hardens into a grade.

Order, per student: test overrides, then the late penalty (a share of what the tests earned),
then an override of ``late`` (``0`` waives it), then overrides of ``total``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from grader.course.late import LatePolicy
from grader.course.overrides import Override
from grader.errors import GraderError
from grader.model import LATE, TOTAL, TestOutcome


@dataclass
class AdjustedOutcome(TestOutcome):
    """An outcome whose points were set by an adjustment, not all-or-nothing."""

    score: float = 0.0
    adjustment: str = ""  # "override" or "late"


@dataclass(frozen=True)
class Adjustment:
    student: str
    test: str  # a test's name, "late" or "total"
    kind: str  # "override" or "late"
    original: float
    new: float
    reason: str
    who: str


def awarded(outcome: TestOutcome) -> float:
    """The points an outcome gives: its ``score`` when adjusted, else all or nothing."""
    score = getattr(outcome, "score", None)
    if score is not None:
        return float(score)
    return outcome.points if outcome.passed else 0.0


def adjust(outcomes: list[TestOutcome], students: Iterable[str], overrides: list[Override] = (),
           late: LatePolicy | None = None, times: dict[str, datetime] | None = None,
           ) -> tuple[list[TestOutcome], list[Adjustment]]:
    """The outcomes with ``overrides`` and the ``late`` policy applied (``times``: when each
    student handed in), and the record of every change. An override naming a student or test
    that does not exist is a :class:`GraderError` naming its row."""
    students = list(students)
    by_student: dict[str, list[TestOutcome]] = {s: [] for s in students}
    for outcome in outcomes:
        by_student.setdefault(outcome.student, []).append(outcome)
    tests = list(dict.fromkeys(o.test for o in outcomes))
    for row in overrides:
        if row.student not in by_student:
            raise GraderError(f"{row.where}: there is no student {row.student!r} in this batch "
                              "(the id is the submission's file name without its extension)")
        if row.test not in (*tests, TOTAL, LATE):
            raise GraderError(f"{row.where}: there is no test {row.test!r}: write a test's name as "
                              f"in results.csv ({', '.join(tests[:8])}), late or total")
    records: list[Adjustment] = []
    final: list[TestOutcome] = []
    for student in by_student:
        mine = [row for row in overrides if row.student == student]
        rows = by_student[student]
        for row in (r for r in mine if r.test not in (TOTAL, LATE)):
            index = next((i for i, o in enumerate(rows) if o.test == row.test), None)
            if index is None:
                raise GraderError(f"{row.where}: {student} has no result for {row.test!r} "
                                  "(their submission was not graded on it)")
            rows[index], record = _override_test(rows[index], row)
            records.append(record)
        penalty = _late_row(student, rows, late, (times or {}).get(student), records)
        for row in (r for r in mine if r.test == LATE):
            base = penalty or AdjustedOutcome(student, LATE, "late penalty", 0.0, False, True, "",
                                              score=0.0, adjustment="late")
            penalty, record = _override_test(base, row)
            records.append(record)
        if penalty is not None:
            rows.append(penalty)
        for row in (r for r in mine if r.test == TOTAL):
            before = sum(awarded(o) for o in rows)
            after = row.applied_to(before)
            rows.append(AdjustedOutcome(
                student, "total", f"override of the total by {row.who}", 0.0, False, after >= before,
                f"{row.reason} ({row.who}: {before:g} -> {after:g} points)", score=after - before,
                adjustment="override"))
            records.append(Adjustment(student, TOTAL, "override", before, after, row.reason, row.who))
        final += rows
    return final, records


def _override_test(outcome: TestOutcome, row: Override) -> tuple[AdjustedOutcome, Adjustment]:
    before = awarded(outcome)
    after = row.applied_to(before)
    note = f"Override by {row.who}: {row.reason} ({before:g} -> {after:g} points)"
    fields = {f.name: getattr(outcome, f.name) for f in dataclasses.fields(TestOutcome)}
    fields["message"] = "\n".join(filter(None, [note, outcome.message]))
    fields["passed"] = after >= (0.0 if row.test == LATE else outcome.points)
    adjusted = AdjustedOutcome(**fields, score=after, adjustment="override")
    return adjusted, Adjustment(row.student, row.test, "override", before, after, row.reason, row.who)


def _late_row(student: str, rows: list[TestOutcome], policy: LatePolicy | None,
              submitted: datetime | None, records: list[Adjustment]) -> AdjustedOutcome | None:
    if policy is None or submitted is None:
        return None
    days = policy.days_late(submitted)
    lost = policy.lost(days)
    if not lost:
        return None
    earned = sum(awarded(o) for o in rows)
    deduction = round(earned * lost, 4)
    reason = (f"handed in {submitted.isoformat()}, {days} day{'s' * (days != 1)} after the deadline "
              f"{policy.deadline.isoformat()}: {100 * lost:g}% of {earned:g} points")
    records.append(Adjustment(student, LATE, "late", earned, earned - deduction, reason, "late policy"))
    return AdjustedOutcome(student, LATE, f"late penalty ({days} day{'s' * (days != 1)})", 0.0,
                           False, False, reason, score=-deduction, adjustment="late")


def adjust_batch(batch: Any, overrides: list[Override], late: LatePolicy | None,
                 times: dict[str, datetime]) -> tuple[Any, list[Adjustment]]:
    """:func:`adjust` applied to a :class:`grader.grading.batch.BatchResult` (a new one is returned)."""
    students = [run.submission.student for run in batch.runs]
    outcomes, records = adjust(batch.outcomes, students, overrides, late, times)
    return dataclasses.replace(batch, outcomes=outcomes), records


def check_inputs(assignment: Any, out_dir: Path, overrides_path: Path | None) -> None:
    """Read the overrides file and the late policy before grading: their mistakes fail at once."""
    from grader.course.late import policy_for
    from grader.course.overrides import DEFAULT_NAME, read_overrides

    if overrides_path is None and (out_dir / DEFAULT_NAME).is_file():
        overrides_path = out_dir / DEFAULT_NAME
    if overrides_path is not None:
        read_overrides(overrides_path)
    policy_for(assignment)


def finalize(batch: Any, out_dir: Path, overrides_path: Path | None = None,
             roster: Path | None = None, late_from_mtime: bool = False) -> tuple[Any, dict[str, Any]]:
    """The batch with every adjustment applied, and what ``run.json`` records about them: the
    overrides of ``overrides_path`` (else ``OUT_DIR/overrides.csv`` when it exists) and the
    assignment's late policy, with each student's time from the LMS archive, else the roster's
    ``submitted_at`` column, else (only with ``late_from_mtime``) the file's modification time."""
    from grader.course.late import policy_for, roster_times, submission_time
    from grader.course.overrides import DEFAULT_NAME, read_overrides

    if overrides_path is None and (out_dir / DEFAULT_NAME).is_file():
        overrides_path = out_dir / DEFAULT_NAME
    overrides = read_overrides(overrides_path) if overrides_path is not None else []
    late = policy_for(batch.assignment)
    times: dict[str, datetime] = {}
    if late is not None:
        listed = roster_times(roster, late) if roster is not None else {}
        for run in batch.runs:
            student = run.submission.student
            found = submission_time(run.submission, late, False) or listed.get(student)
            if found is None and late_from_mtime:
                found = submission_time(run.submission, late, True)
            if found is not None:
                times[student] = found
    final, records = adjust_batch(batch, overrides, late, times)
    missing = [r.submission.student for r in batch.runs
               if r.submission.path is not None and r.submission.student not in times]
    return final, header_fields(records, overrides_path, late, missing if late else [])


def header_fields(records: list[Adjustment], overrides_path: Path | None,
                  late: LatePolicy | None, missing_times: list[str]) -> dict[str, Any]:
    """What ``run.json`` records about the adjustments."""
    from grader.course.overrides import fingerprint

    fields: dict[str, Any] = {"adjustments": [dataclasses.asdict(r) for r in records]}
    if overrides_path is not None:
        fields["overrides"] = {"file": str(overrides_path), "sha256": fingerprint(overrides_path)}
    if late is not None:
        fields["late_policy"] = late.describe() | {"no_submission_time": missing_times}
    return fields


def record_in_header(header: Path, fields: dict[str, Any]) -> None:
    """Add ``fields`` to ``run.json`` (rewritten atomically)."""
    from grader.files import atomic_write

    data = json.loads(header.read_text(encoding="utf-8"))
    data.update(fields)
    atomic_write(header, json.dumps(data, indent=2) + "\n")
