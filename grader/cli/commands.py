"""What each command does, and what it prints (rich tables on the terminal)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rich.console import Console
from rich.table import Table

from grader.errors import GraderError
from grader.grading.batch import BatchResult
from grader.grading.options import GradeOptions
from grader.intake.assignment import find_assignment
from grader.report.escaping import terminal, terminal_lines

console = Console(stderr=False, highlight=False)
STATUS_STYLE = {"graded": "green", "error": "red", "timeout": "yellow", "killed": "magenta",
                "missing": "red"}


def grade(assignment_name: str, submissions_dir: Path, out_dir: Path, options: GradeOptions,
          roster: Path | None = None, feedback: bool = True, overrides: Path | None = None,
          late_from_mtime: bool = False, similarity: bool = False) -> int:
    """Grade a folder; exit status 0 when the batch completed, whatever the students scored.
    Overrides and the late policy are applied before any report file is written."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from grader import report
    from grader.course import lms_archive
    from grader.course import roster as class_roster
    from grader.grading import batch as grading

    assignment = find_assignment(assignment_name)
    grading.check_environment(assignment)  # before anything is read or written
    found = lms_archive.discover(submissions_dir, roster, assignment.entry_rule)  # or an LMS archive
    names: dict[str, str] = {}
    if roster is not None:
        students = class_roster.read_roster(roster)
        names = {s.student: s.name for s in students if s.name}
        found, unlisted = class_roster.reconcile(students, found)
        if unlisted:
            console.print(f"[yellow]warning: not in the roster (graded anyway): "
                          f"{terminal(', '.join(unlisted))}[/]")
    _check_writable(out_dir)
    from grader.course import adjust

    adjust.check_inputs(assignment, out_dir, overrides)  # a bad row fails now, not after grading
    unknown = sorted(options.only - {s.student for s in found})
    if unknown:
        raise GraderError(f"--only: no submission {', '.join(unknown)} in {submissions_dir}")
    progress = Progress("[progress.description]{task.description}", BarColumn(),
                        MofNCompleteColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                        transient=True)
    with progress:
        task = progress.add_task(f"grading {assignment.name}", total=len(found))
        pages = feedback and any(s.kind == "ipynb" for s in found)  # notebook pages: nbconvert
        imports = REPORT_IMPORTS if pages else REPORT_IMPORTS[:-1]
        options = dataclasses.replace(options, background_imports=imports)
        batch = grading.grade(assignment, found, options, out_dir=out_dir,
                              on_progress=lambda run: progress.advance(task))
    if roster is not None:
        class_roster.mark_missing(batch)
    batch, adjusted = adjust.finalize(batch, out_dir, overrides, roster, late_from_mtime)
    paths = report.write_report(batch, out_dir, feedback=feedback, names=names)
    adjust.record_in_header(paths["header"], adjusted)
    _print_summary(batch, paths)
    _print_adjustments(adjusted)
    if similarity:
        from grader.course import similarity as similar

        console.print(terminal(similar.summary(similar.write_similarity(out_dir, assignment.starter))))
    status = _report_assignment_errors(batch)
    return _report_unrun(batch) or status


def _report_unrun(batch: BatchResult) -> int:
    """Work units the grading machinery could not run (the cluster, not the student): no row, no
    zero, nothing journaled; exit status 2, and the same command again grades only those."""
    if not batch.unrun:
        return 0
    names = ", ".join(run.submission.student for run in batch.unrun[:5])
    more = " ..." if len(batch.unrun) > 5 else ""
    console.print(f"[red]error: {len(batch.unrun)} submission(s) could not be run ({terminal(names)}"
                  f"{terminal(more)}): {terminal(batch.unrun[0].infrastructure)}; they are not graded "
                  "(no row, no zero): run the same command again to grade only those[/]")
    return 2


def _report_assignment_errors(batch: BatchResult) -> int:
    """Tests whose own code raised what no student causes: said in red, exit status 3 (the report
    is written and their rows say it is the assignment's fault; fix it and grade again)."""
    errors = batch.assignment_errors()
    for (test, where), students in sorted(errors.items()):
        console.print(f"[red]error: the assignment's own code raised {terminal(where)} in {terminal(test)} "
                      f"for {students} student(s); they lost that test's points: fix "
                      f"{terminal(str(batch.assignment.root))} and grade again[/]")
    return 3 if errors else 0


def _print_adjustments(adjusted: dict) -> None:
    for record in adjusted["adjustments"]:
        console.print(f"{record['kind']}: {terminal(record['student'])} {terminal(record['test'])} "
                      f"{record['original']:g} -> {record['new']:g} ({terminal(record['reason'])}, "
                      f"{terminal(record['who'])})")
    unknown = adjusted.get("late_policy", {}).get("no_submission_time", [])
    if unknown:
        console.print(f"[yellow]warning: no submission time for {len(unknown)} students (counted "
                      f"on time): {terminal(', '.join(unknown[:10]))}; give the roster a "
                      "submitted_at column, or --late-from-mtime[/]")


# The report's libraries, imported while the sandbox servers start (this process waits for them).
REPORT_IMPORTS = ("pyarrow.parquet", "grader.report.tables", "grader.report.pages:compile_templates",
                  "grader.report.notebook_page:shared_renderer")  # the last (nbconvert's) for feedback/


def check(assignment_name: str, file: Path, options: GradeOptions) -> int:
    """Run the public tests on one file; exit status 0 only when all of them passed."""
    from grader.authoring.release import find_release
    from grader.selfcheck import runner as selfcheck
    from grader.selfcheck.platforms import sandbox_unavailable

    if find_release(assignment_name) is not None or sandbox_unavailable():  # a student's release
        return selfcheck.check_command(assignment_name, file, options)
    from grader import report
    from grader.grading import batch as grading
    from grader.intake import submissions

    assignment = find_assignment(assignment_name)
    submission = submissions.single(file, assignment.entry_rule)
    batch = grading.grade(assignment, [submission], options)
    results = report.results_table(batch)
    run = batch.runs[0]
    table = Table(title=f"{assignment.title}: public tests on {file.name}", show_lines=True)
    for column in ("test", "points", "passed", "why"):
        table.add_column(column, overflow="fold")
    for row in results.itertuples():
        mark = "[green]yes[/]" if row.status == "passed" else "[red]no[/]"
        points = f"{row.score:g} / {row.max_score:g}"
        table.add_row(terminal(row.description), points, mark, terminal_lines(row.message))
    console.print(table)
    if run.status != "graded" or run.message:
        console.print(f"[{STATUS_STYLE.get(run.status, 'red')}]{run.status}[/]: {terminal(run.message)}")
    for note in run.notes:
        console.print(f"[dim]note: {terminal(note)}[/]")
    _print_protection_warning(batch.protections)
    score, total = float(results.score.sum()), float(results.max_score.sum())
    console.print(f"Public tests: [bold]{score:g} / {total:g}[/] points. Hidden tests also count "
                  "towards your grade; they are run when your work is graded.")
    return 0 if len(results) and bool((results.status == "passed").all()) else 1


def list_assignments() -> int:
    """The bundled assignments (a checkout), or the bundled releases (an installed grader)."""
    rows = bundled_listing()
    releases_only = bool(rows) and all(row["what"] != "assignment" for row in rows)
    table = Table(title="Bundled releases (public tests only)" if releases_only else "Bundled assignments")
    for column in ("name", "title", "what", "starter notebook"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(terminal(row["name"]), terminal(row["title"]), row["what"], terminal(row["starter"]))
    console.print(table)
    if releases_only:
        console.print("This grader was installed with student releases only: `grader check NAME FILE` "
                      "runs a release's public tests; grading (hidden tests) happens on the "
                      "instructor's side, from a checkout or an assignment folder.")
    elif not rows:
        console.print("No bundled assignment or release found.")
    return 0


def bundled_listing() -> list[dict[str, str]]:
    """One row per bundled assignment (``what``: ``assignment``), and per bundled release that has
    no assignment of its name (``release``: what an installed grader carries), sorted by name."""
    from grader.authoring.release import is_release, load_release
    from grader.intake.assignment import bundled_releases
    from grader.intake.assignment import list_assignments as bundled

    rows = {a.name: {"name": a.name, "title": a.title, "what": "assignment",
                     "starter": str(a.starter) if a.starter else ""} for a in bundled()}
    folder = bundled_releases()
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if path.name in rows or not is_release(path):
            continue
        try:
            release = load_release(path)
        except GraderError as error:
            rows[path.name] = {"name": path.name, "title": str(error), "what": "unusable release",
                               "starter": ""}
            continue
        rows[path.name] = {"name": release.name, "title": release.title, "what": "release",
                           "starter": str(release.starter) if release.starter else ""}
    return [rows[name] for name in sorted(rows)]


def _check_writable(out_dir: Path) -> None:
    from grader.files import check_writable

    check_writable(out_dir)


def _print_protection_warning(protections: dict[str, bool]) -> None:
    """One yellow line when a protection was measured missing: what, and the fix for this machine."""
    from rich.markup import escape

    from grader.sandbox.advice import warning_line

    line = warning_line(protections)
    if line:
        console.print(f"[yellow]{escape(line)}[/]")


def out_dir_of(paths: dict[str, Path]) -> Path:
    return paths["scores"].parent


def _print_summary(batch, paths: dict[str, Path]) -> None:
    import pandas as pd

    from grader.report.escaping import terminal

    # The Parquet copy: typed, and free of the CSV's formula guards; every text escaped for the terminal.
    scores = pd.read_parquet(paths["parquet"])
    from grader.report.statistics import run_line
    from grader.report.tables import header

    table = Table(title=f"{batch.assignment.name}: {terminal(run_line(header(batch)))}")
    for column in ("student", "score", "status", "message"):
        table.add_column(column, overflow="fold")
    for row in scores.itertuples():
        style = STATUS_STYLE.get(row.status, "")
        message = "" if pd.isna(row.message) else row.message
        table.add_row(terminal(row.student, "student"), f"{row.score:g} / {row.max_score:g}",
                      f"[{style}]{terminal(row.status, 'student')}[/]", terminal(message, "summary"))
    console.print(table)
    from grader.report.statistics import class_statistics, summary_line

    statistics = class_statistics(scores)
    console.print("  ".join(f"{status}: {count}" for status, count in statistics["statuses"].items())
                  + f"   {summary_line(statistics)}")
    _print_protection_warning(batch.protections)
    if batch.reused:
        console.print(f"{len(batch.reused)} unchanged submissions were graded before and reused from "
                      f"{out_dir_of(paths)}/.grader/journal.jsonl; --regrade grades them again")
    console.print(f"Report: {paths['scores']} and {paths['results']}")
