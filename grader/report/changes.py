"""What changed on a regrade: ``changes.csv`` and a section of ``report.html``.

Before a report folder's ``results.csv`` is overwritten, its rows are compared with the new ones:
every student whose outcome of a test changed (passed to failed, points, a test added or gone, an
override) is listed with the test, its old and new status and points, and the student's old and new
total. A folder graded for the first time has no ``changes.csv``; a regrade that changed nothing
writes one with its header only, and the page says so.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.report.escaping import bound, from_csv_cell

if TYPE_CHECKING:
    import pandas as pd

CHANGES_CSV = "changes.csv"
COLUMNS = ["student", "test", "old_status", "old_score", "new_status", "new_score", "old_total",
           "new_total"]
MAX_SHOWN = 500  # rows of the page's section (the CSV has them all)
ABSENT = "absent"  # the status of a test a report did not have


def previous_results(out_dir: Path) -> dict[tuple[str, str], tuple[str, float]] | None:
    """The outcomes of the report in ``out_dir`` before it is overwritten: (student, test) ->
    (status, score), as ``results.csv`` wrote them; None when there is none (or it is unreadable)."""
    try:
        with open(out_dir / "results.csv", encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    found = {}
    for row in rows:
        try:
            found[(row["student"], row["test"])] = (row["status"], float(row["score"]))
        except (KeyError, TypeError, ValueError):
            return None  # not a results.csv of ours
    return found


def compare(previous: dict[tuple[str, str], tuple[str, float]] | None,
            results: pd.DataFrame) -> pd.DataFrame | None:
    """The changed outcomes between ``previous`` and ``results`` (the CSV-safe table written to
    results.csv), one row per student and test, with :data:`COLUMNS`; None without a previous report."""
    import pandas as pd

    if previous is None:
        return None
    current = {(str(r.student), str(r.test)): (str(r.status), float(r.score)) for r in results.itertuples()}
    totals: dict[str, list[float]] = {}
    for (student, _), (_, score) in previous.items():
        totals.setdefault(student, [0.0, 0.0])[0] += score
    for (student, _), (_, score) in current.items():
        totals.setdefault(student, [0.0, 0.0])[1] += score
    rows = []
    for key in [*current, *(k for k in previous if k not in current)]:
        old, new = previous.get(key, (ABSENT, 0.0)), current.get(key, (ABSENT, 0.0))
        if old == new:
            continue
        student, test = key
        rows.append([student, test, old[0], old[1], new[0], new[1], *totals[student]])
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values("student", kind="stable").reset_index(drop=True)


def write_changes(out_dir: Path, changes: pd.DataFrame | None) -> Path | None:
    """Write ``changes.csv`` (its text is CSV-safe already: it comes from results.csv's)."""
    from grader.files import atomic_write

    if changes is None:
        return None
    path = out_dir / CHANGES_CSV
    atomic_write(path, changes.to_csv(index=False))
    return path


def change_rows(changes: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    """The page's section: one row per changed student (old and new total, each changed test with
    its old and new outcome); None without a previous report."""
    if changes is None:
        return None
    rows: list[dict[str, Any]] = []
    for student, group in changes.head(MAX_SHOWN).groupby("student", sort=False):
        first = group.iloc[0]
        rows.append({
            "student": bound(from_csv_cell(str(student)), "student"),
            "old_total": f"{first.old_total:g}", "new_total": f"{first.new_total:g}",
            "tests": [f"{bound(from_csv_cell(str(r.test)), 'summary')}: {r.old_status} {r.old_score:g} "
                      f"-> {r.new_status} {r.new_score:g}" for r in group.itertuples()]})
    return rows
