"""``overrides.csv``: the instructor's changes to scores, kept across every regrade.

One row per change, with a header line ``student,test,points,reason,who``:

- ``student``: the submission id, as in ``scores.csv``;
- ``test``: a test's name as in ``results.csv`` (``test_forward``), ``late`` (the late penalty's
  row: ``0`` waives it) or ``total`` (the student's whole score);
- ``points``: the new points (``8``), or a change (``+2``, ``-1.5``);
- ``reason`` and ``who``: required, shown in the report and the feedback, kept in ``run.json``.

Rows apply in file order (a delta after an absolute value adds to it). The file is read on every
``grader grade``, so an override survives any regrade; a bad row is one :class:`GraderError` naming
the file and line.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError

COLUMNS = ("student", "test", "points", "reason", "who")

DEFAULT_NAME = "overrides.csv"  # looked for in OUT_DIR when --overrides is not given


@dataclass(frozen=True)
class Override:
    student: str
    test: str
    value: float
    delta: bool  # ``value`` is added to the points (``+2``, ``-1``), not put in their place
    reason: str
    who: str
    where: str  # "overrides.csv, line 3": for error messages

    def applied_to(self, points: float) -> float:
        return points + self.value if self.delta else self.value


def read_overrides(path: Path) -> list[Override]:
    """The overrides in ``path``, in file order; a malformed file or row is one clear error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GraderError(f"overrides file {path} does not exist: check the path") from None
    except IsADirectoryError:
        raise GraderError(f"overrides file {path} is a folder: give the CSV file") from None
    except UnicodeDecodeError:
        raise GraderError(f"overrides file {path} is not UTF-8 text: save it as CSV (UTF-8)") from None
    except OSError as error:
        raise GraderError(f"cannot read the overrides file {path}: {error.strerror}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    absent = [column for column in COLUMNS if column not in header]
    if absent:
        raise GraderError(f"{path}, line 1: the column(s) {', '.join(absent)} are missing: the "
                          f"first line must be {','.join(COLUMNS)}")
    found = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {c: row[header.index(c)].strip() if header.index(c) < len(row) else "" for c in COLUMNS}
        where = f"{path.name}, line {line}"
        for column in ("student", "test", "points", "reason", "who"):
            if not cells[column]:
                raise GraderError(f"{where}: the {column} is empty; every override needs a student, "
                                  "a test (or total), points, a reason and who decided it")
        found.append(Override(cells["student"], cells["test"], *_points(cells["points"], where),
                              cells["reason"], cells["who"], where))
    return found


def _points(text: str, where: str) -> tuple[float, bool]:
    delta = text[0] in "+-"
    try:
        value = float(text)
    except ValueError:
        raise GraderError(f"{where}: cannot read the points {text!r}: write the new points (8) or "
                          "a change (+2, -1.5)") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise GraderError(f"{where}: the points {text!r} must be a finite number")
    return value, delta


def fingerprint(path: Path) -> str:
    """The file's hash, recorded in ``run.json`` (an export can tell the report is out of date)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
