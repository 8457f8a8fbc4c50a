"""The class roster: who should have handed something in, and how the LMS knows them.

A roster is a CSV file with a header line and one row per student:

- ``student``: the submission id (the file or folder name without its extension: ``alice`` for
  ``alice.ipynb``), required and unique;
- ``lms_id``: the student's id in the LMS (for Canvas, the numeric user ``ID`` of its gradebook
  export), required and unique;
- optional: ``name``, the student's name as the LMS shows it (Canvas: ``Last, First``; shown
  beside the id in the gradebook and feedback), ``section``, ``sis_user_id``, ``sis_login_id``
  (copied into the Canvas export).

Other columns are ignored. Column names are case-insensitive; values are kept as text, so ids
such as ``00123`` keep their leading zeros.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import GraderError

if TYPE_CHECKING:
    from grader.grading.batch import BatchResult
    from grader.intake.submissions import Submission

REQUIRED = ("student", "lms_id")
OPTIONAL = ("name", "section", "sis_user_id", "sis_login_id")
MISSING = "missing"  # the status of a roster student with no submission
MISSING_MESSAGE = "no submission: nothing was handed in under this student's id"


@dataclass(frozen=True)
class Student:
    student: str
    lms_id: str
    name: str = ""
    section: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""


def read_roster(path: Path) -> list[Student]:
    """The roster's students, in file order; a malformed roster is one clear :class:`GraderError`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GraderError(f"roster {path} does not exist: check the path") from None
    except IsADirectoryError:
        raise GraderError(f"roster {path} is a folder: give the roster's CSV file") from None
    except UnicodeDecodeError:
        raise GraderError(f"roster {path} is not UTF-8 text: save it as CSV (UTF-8)") from None
    except OSError as error:
        raise GraderError(f"cannot read the roster {path}: {error.strerror}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise GraderError(f"roster {path} is empty: write a header line {','.join(REQUIRED)} "
                          "and one line per student")
    header = [cell.strip().lower() for cell in rows[0]]
    absent = [column for column in REQUIRED if column not in header]
    if absent:
        raise GraderError(f"roster {path} lacks the column(s) {', '.join(absent)}: its first line "
                          f"must name the columns {','.join(REQUIRED)}")
    students: list[Student] = []
    seen: dict[str, dict[str, int]] = {"student": {}, "lms_id": {}}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {column: _cell(row, header, column) for column in (*REQUIRED, *OPTIONAL)}
        for column in ("student", "lms_id"):
            value = values[column]
            if not value:
                raise GraderError(f"roster {path}, line {line}: the {column} is empty")
            if value in seen[column]:
                raise GraderError(f"roster {path}, line {line}: {column} {value!r} already appears "
                                  f"on line {seen[column][value]}; each student needs one line")
            seen[column][value] = line
        if "/" in values["student"] or values["student"].startswith("."):
            raise GraderError(f"roster {path}, line {line}: {values['student']!r} cannot be a "
                              "submission id (it is a file name without its extension)")
        students.append(Student(**values))
    if not students:
        raise GraderError(f"roster {path} lists no students: add one line per student")
    return students


def _cell(row: list[str], header: list[str], column: str) -> str:
    if column not in header:
        return ""
    index = header.index(column)
    return row[index].strip() if index < len(row) else ""


def reconcile(roster: list[Student], found: list[Submission]) -> tuple[list[Submission], list[str]]:
    """``found`` plus a placeholder for each roster student without a submission, and the ids of
    submissions the roster does not list (they are still graded)."""
    from grader.intake.submissions import Submission

    ids = {s.student for s in found}
    listed = {s.student for s in roster}
    missing = [Submission(s.student, None, MISSING_MESSAGE) for s in roster if s.student not in ids]
    return [*found, *missing], sorted(ids - listed)


def mark_missing(batch: BatchResult) -> None:
    """Give the placeholders of :func:`reconcile` the status ``missing`` (they were never run)."""
    for run in batch.runs:
        if run.submission.path is None and run.submission.problem == MISSING_MESSAGE:
            run.status, run.message = MISSING, MISSING_MESSAGE
