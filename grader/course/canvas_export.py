"""``grader export canvas``: the scores of a graded folder as a CSV for Canvas's gradebook import.

Canvas imports a CSV shaped like its own gradebook export: the columns ``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment named as in Canvas,
and a second line ``Points Possible`` giving the assignment's points. Canvas finds each student by
``ID``, ``SIS User ID`` or ``SIS Login ID`` (the roster's ``lms_id``, ``sis_user_id``,
``sis_login_id``). Any other column would become a new assignment, so the status of each student
(``missing`` included) goes into a second file beside the export, ``NAME.status.csv``. Both are
written by ``grader.files`` with every cell through ``escaping.csv_cell`` (no formulas).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
STATUS_COLUMNS = ["student", "lms_id", "name", "score", "max_score", "status", "message"]


def register(verbs: argparse._SubParsersAction) -> None:
    """Add ``grader export canvas`` (beside ``grader export gradescope``)."""
    from grader.grading.options import export_targets

    parser = export_targets(verbs).add_parser(
        "canvas", help="write the scores as a CSV for Canvas's gradebook import",
        description="Write the scores of OUT_DIR (a folder `grader grade` wrote) as a CSV that "
        "Canvas's gradebook import accepts, one row per student of the roster.")
    add_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the Canvas export, for whichever subparser holds it."""
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the folder `grader grade` wrote")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the CSV to write (canvas.csv)")
    parser.add_argument("--roster", type=Path, required=True,
                        help="CSV with the columns student,lms_id,name (optional: section, "
                        "sis_user_id, sis_login_id); lms_id is the Canvas user ID")
    parser.add_argument("--title", default=None,
                        help="the assignment's name in Canvas (default: the assignment's title); "
                        "a name Canvas does not know creates a new assignment")
    parser.add_argument("--missing", choices=("zero", "blank"), default="zero",
                        help="the score of roster students who handed nothing in: 0 (default), or "
                        "blank (Canvas leaves them ungraded)")
    parser.set_defaults(command=run_export)


def run_export(args: argparse.Namespace) -> int:
    from grader.report.escaping import visible

    export = export_canvas(args.out_dir, args.output, args.roster, title=args.title, missing=args.missing)
    print(f"Wrote {export.csv_path} ({len(export.rows)} students, column {visible(repr(export.title))}, "
          f"{export.points:g} points) and {export.status_path}")
    if export.missing:
        print(f"missing (no submission): {visible(', '.join(export.missing))}")
    if export.unlisted:  # ids from scores.csv: file names the students chose, shown with escapes visible
        print(f"warning: not in the roster, so left out: {visible(', '.join(export.unlisted))}")
    return 0


@dataclass
class CanvasExport:
    csv_path: Path
    status_path: Path
    title: str
    points: float
    rows: list[dict[str, str]]  # one per roster student, with STATUS_COLUMNS
    missing: list[str]
    unlisted: list[str]  # graded submissions the roster does not list


def export_canvas(out_dir: Path, output: Path, roster_path: Path, title: str | None = None,
                  missing: str = "zero") -> CanvasExport:
    """Write ``output`` (Canvas's import format) and ``output.status.csv``; return what was written."""
    from grader.course.roster import MISSING, MISSING_MESSAGE, read_roster

    scores = _read_scores(out_dir)
    roster = read_roster(roster_path)
    title = title or _title(out_dir)
    points = max((_number(row.get("max_score")) for row in scores.values()), default=0.0)
    rows: list[dict[str, str]] = []
    canvas = [[*CANVAS_COLUMNS, title], ["    Points Possible", "", "", "", "", f"{points:g}"]]
    for student in roster:
        graded = scores.get(student.student)
        if graded is None or graded.get("status") == MISSING:
            score = "0" if missing == "zero" else ""
            status, message = MISSING, MISSING_MESSAGE
        else:
            score, status, message = f"{_number(graded.get('score')):g}", graded["status"], graded["message"]
        rows.append({"student": student.student, "lms_id": student.lms_id, "name": student.name,
                     "score": score, "max_score": f"{points:g}", "status": status, "message": message})
        canvas.append([student.name or student.student, student.lms_id, student.sis_user_id,
                       student.sis_login_id, student.section, score])
    status_path = output.with_name(f"{output.stem}.status.csv")
    _write_csv(output, canvas)
    _write_csv(status_path, [STATUS_COLUMNS, *([row[c] for c in STATUS_COLUMNS] for row in rows)])
    listed = {s.student for s in roster}
    return CanvasExport(output, status_path, title, points, rows,
                        [r["student"] for r in rows if r["status"] == MISSING],
                        sorted(s for s in scores if s not in listed and scores[s].get("status") != MISSING))


def _read_scores(out_dir: Path) -> dict[str, dict[str, str]]:
    path = out_dir / "scores.csv"
    if not out_dir.is_dir():
        raise GraderError(f"{out_dir} is not a folder: give the -o folder of `grader grade`")
    if not path.is_file():
        raise GraderError(f"{out_dir} holds no scores.csv: grade first (grader grade ... -o {out_dir})")
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            rows = list(csv.DictReader(stream))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise GraderError(f"cannot read {path}: {error}; grade again to rewrite it") from None
    if rows and not {"student", "score", "max_score", "status"} <= set(rows[0]):
        raise GraderError(f"{path} is not a grader scores.csv (columns student, score, max_score, status)")
    from grader.report.escaping import from_csv_cell

    rows = [{key: from_csv_cell(value) if isinstance(value, str) else value for key, value in row.items()}
            for row in rows]
    return {row["student"]: row for row in rows}


def _title(out_dir: Path) -> str:
    """The assignment's title: from run.json, else the assignment's own, else its name."""
    try:
        header = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise GraderError(f"{out_dir} holds no readable run.json: give --title, the assignment's "
                          "name in Canvas") from None
    if header.get("assignment_title"):
        return str(header["assignment_title"])
    name = str(header.get("assignment", ""))
    try:
        from grader.intake.assignment import find_assignment

        return find_assignment(name).title
    except GraderError:
        return name or "Assignment"


def _number(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    from grader.files import atomic_write, check_writable
    from grader.report.escaping import csv_cell

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([csv_cell(cell) for cell in row] for row in rows)
    check_writable(path.parent, what=path.name, option="-o")
    try:
        atomic_write(path, buffer.getvalue())
    except OSError as error:
        raise GraderError(f"cannot write {path}: {error.strerror}; choose another -o") from None
