"""``grader audit ASSIGNMENT``: would the assignment's tests catch a student's mistakes?

The reference must get full marks first. Then each mutant of the reference (the reference with one
typical mistake, :mod:`grader.authoring.mutants`) is graded like a student, all in one batch through the
sandbox pool. A mutant that loses points is *killed*; one that keeps full marks *survives*: a wrong
implementation the tests would accept, so a weakness to look at (some survivors change nothing a
test could ever see, e.g. a ``.detach()`` where no gradient flows; only a person can tell).

Only the solution is mutated: in a reference made by ``grader assign``, the code between its
``# BEGIN SOLUTION`` and ``# END SOLUTION`` lines (kept there as comments), and each mutant is named
by the solution notebook's cell and line (``cell 3, line 5``, counting code cells as a notebook's
errors do); in a plain reference, everything but its top-level demo code (see
:func:`grader.authoring.mutants.generate`), named by the reference's line.

Prints the mutation score (killed / mutants), how many mutants each test kills, and the survivors
with their changed line; ``--csv FILE`` writes one row per mutant.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import GraderError

MUTANT_COLUMNS = ["mutant", "kind", "cell", "line", "description", "score", "max_score", "status", "survived",
                  "killed_by", "original", "mutated"]
TEST_COLUMNS = ["test", "description", "points", "visibility", "kills", "only_killer"]
DEFAULT_MAX_MUTANTS = 200


@dataclass(frozen=True)
class SolutionMap:
    """Where a reference's solution is, and which notebook cell each of its lines came from."""

    regions: tuple[tuple[int, int], ...] | None  # (first, last) lines inside the markers; None: no markers
    cells: tuple[tuple[int, int], ...]  # (the reference's line of a "# %% cell N" header, N)

    def where(self, line: int) -> tuple[int | None, int]:
        """(cell, line in that cell) of a reference line; (None, line) outside any cell."""
        for header, number in reversed(self.cells):
            if header < line:
                return number, line - header
        return None, line


def solution_map(source: str) -> SolutionMap:
    """The solution regions and the cell headers of a reference (see :mod:`grader.authoring.assign`)."""
    from grader.authoring.assign import BEGIN, CELL_HEADER, END

    regions: list[tuple[int, int]] = []
    cells: list[tuple[int, int]] = []
    opened: int | None = None
    for number, line in enumerate(source.splitlines(), 1):
        if header := CELL_HEADER.match(line):
            cells.append((number, int(header["number"])))
        if BEGIN.match(line):
            if opened is not None:
                raise GraderError(f"line {number} of the reference: BEGIN SOLUTION inside another one "
                                  f"(opened at line {opened}): add the missing # END SOLUTION")
            opened = number
        elif END.match(line):
            if opened is None:
                raise GraderError(f"line {number} of the reference: END SOLUTION without a BEGIN "
                                  "SOLUTION: remove it or add the BEGIN SOLUTION line")
            regions.append((opened + 1, number - 1))
            opened = None
    if opened is not None:
        raise GraderError(f"line {opened} of the reference: BEGIN SOLUTION is never closed: add "
                          "# END SOLUTION")
    return SolutionMap(tuple(regions) if regions else None, tuple(cells))


@dataclass
class AuditResult:
    assignment: Any  # grader.intake.assignment.Assignment
    mutants: Any  # pandas DataFrame, MUTANT_COLUMNS: one row per mutant
    tests: Any  # pandas DataFrame, TEST_COLUMNS: one row per test
    seconds: float
    scope: str = "the reference"  # what was mutated, in words

    @property
    def killed(self) -> int:
        return int((~self.mutants.survived).sum()) if len(self.mutants) else 0

    @property
    def survived(self) -> int:
        return len(self.mutants) - self.killed

    @property
    def score(self) -> float:
        """Killed / mutants (1.0 when there are no mutants)."""
        return self.killed / len(self.mutants) if len(self.mutants) else 1.0

    @property
    def survivors(self) -> Any:
        return self.mutants[self.mutants.survived]


def audit(assignment_name: str, options: Any, max_mutants: int = DEFAULT_MAX_MUTANTS) -> AuditResult:
    """Grade the reference and its mutants in one batch; fail unless the reference gets full marks."""
    from grader import report
    from grader.authoring.mutants import generate
    from grader.grading import batch as grading
    from grader.intake.assignment import find_assignment
    from grader.intake.submissions import Submission

    started = time.monotonic()
    assignment = find_assignment(assignment_name)
    source = assignment.reference.read_text(encoding="utf-8")
    where = solution_map(source)
    try:
        mutants = generate(source, max_mutants, where.regions)
    except SyntaxError as error:
        raise GraderError(f"cannot parse the reference {assignment.reference}: {error}") from None
    work = Path(tempfile.mkdtemp(prefix="grader-audit-"))
    try:
        submissions = [Submission("reference", work / "reference.py")]
        (work / "reference.py").write_text(source, encoding="utf-8")
        for mutant in mutants:
            path = work / f"{mutant.id}.py"
            path.write_text(mutant.source, encoding="utf-8")
            submissions.append(Submission(mutant.id, path))
        batch = grading.grade(assignment, submissions, options)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = report.results_table(batch)
    scores = report.scores_table(batch, results).set_index("student")
    _require_full_marks(assignment, scores.loc["reference"], results[results.student == "reference"])
    table = _mutant_table(mutants, scores, results, where)
    scope = (f"the {len(where.regions)} solution regions (BEGIN SOLUTION ... END SOLUTION)" if where.regions
             else "the reference's definitions (top-level demo code left alone)")
    return AuditResult(assignment, table, _test_table(results, table), time.monotonic() - started, scope)


def _require_full_marks(assignment: Any, row: Any, results: Any) -> None:
    if row.status == "graded" and row.score >= row.max_score > 0:
        return
    failed = results[results.status == "failed"]
    if len(failed):
        first = failed.iloc[0]
        why = f"{first.test} fails: {' '.join(str(first.message).split())[:300]}"
    else:
        why = f"{row.status}: {row.message}"
    raise GraderError(f"the reference of {assignment.name} gets {row.score:g} / {row.max_score:g}, not full "
                      f"marks ({why}); fix the reference or the tests before auditing them")


def _mutant_table(mutants: list, scores: Any, results: Any, where: SolutionMap) -> Any:
    import pandas as pd

    failed = results[results.status == "failed"].groupby("student")["test"].apply(list).to_dict()
    rows = []
    for mutant in mutants:
        row = scores.loc[mutant.id]
        cell, line = where.where(mutant.line)
        rows.append({
            "mutant": mutant.id, "kind": mutant.kind, "cell": cell, "line": line,
            "description": mutant.description, "score": float(row.score),
            "max_score": float(row.max_score), "status": row.status,
            "survived": bool(row.status == "graded" and row.score >= row.max_score),
            "killed_by": " ".join(failed.get(mutant.id, [])), "original": mutant.original,
            "mutated": mutant.mutated,
        })
    table = pd.DataFrame(rows, columns=MUTANT_COLUMNS)
    table["cell"] = table["cell"].astype("Int64")  # empty for a plain reference
    return table


def _test_table(results: Any, mutants: Any) -> Any:
    import pandas as pd

    tests = results[results.student == "reference"].drop_duplicates("test")
    killers = [set(k.split()) for k in mutants.killed_by] if len(mutants) else []
    rows = []
    for test in tests.itertuples():
        rows.append({
            "test": test.test, "description": test.description, "points": test.max_score,
            "visibility": test.visibility, "kills": sum(test.test in k for k in killers),
            "only_killer": sum(k == {test.test} for k in killers),
        })
    return pd.DataFrame(rows, columns=TEST_COLUMNS)


def print_audit(result: AuditResult) -> None:
    """The per-test kills, the kinds of mutants, the survivors, and the mutation score."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    name, count = result.assignment.name, len(result.mutants)
    tests = Table(title=f"{name}: mutants each test kills (of {count})")
    for column in ("test", "points", "visibility", "kills", "only killer"):
        tests.add_column(column, overflow="fold")
    for row in result.tests.itertuples():
        kills = f"[red]{row.kills}[/]" if row.kills == 0 else str(row.kills)
        tests.add_row(escape(row.test), f"{row.points:g}", row.visibility, kills, str(row.only_killer))
    console.print(tests)
    kinds = Table(title=f"{name}: mutants by kind")
    for column in ("kind", "mutants", "killed", "survived"):
        kinds.add_column(column)
    for kind, group in result.mutants.groupby("kind", sort=False):
        alive = int(group.survived.sum())
        kinds.add_row(kind, str(len(group)), str(len(group) - alive), f"[red]{alive}[/]" if alive else "0")
    console.print(kinds)
    if result.survived:
        survivors = Table(title=f"{name}: surviving mutants (wrong code the tests give full marks)",
                          show_lines=True)
        for column in ("mutant", "where", "kind", "change"):
            survivors.add_column(column, overflow="fold")
        for row in result.survivors.itertuples():
            change = f"[red]- {escape(row.original)}[/]\n[green]+ {escape(row.mutated)}[/]"
            survivors.add_row(row.mutant, _where(row.cell, row.line), row.kind, change)
        console.print(survivors)
    console.print(f"Mutated: {result.scope}.")
    console.print(f"Mutation score of {name}: [bold]{result.killed} / {count}[/] mutants killed "
                  f"({100 * result.score:.0f}%), {result.survived} survived.")
    console.print(f"The reference and {count} mutants were graded in one batch in {result.seconds:.1f} s.")


def _where(cell: Any, line: int) -> str:
    import pandas as pd

    return f"line {line}" if pd.isna(cell) else f"cell {cell}, line {line}"


def register(verbs: argparse._SubParsersAction) -> None:
    from grader.grading.options import add_run_options, positive_int

    parser = verbs.add_parser(
        "audit", help="check that an assignment's tests catch mutants of its reference",
        description="Grade the reference (it must get full marks), then mutants of its solution "
        "(the code between # BEGIN SOLUTION and # END SOLUTION of an assignment made by grader "
        "assign, else the reference less its top-level demo code), each with one typical mistake "
        "(a flipped sign, a dropped 1/m, a missing .T, zero_grad or relu, an off-by-one...), in one "
        "batch. Prints the mutation score, what each test kills and the surviving mutants (by "
        "notebook cell and line): wrong code the tests would accept.")
    parser.add_argument("assignment", help="a bundled assignment's name, or an assignment folder")
    parser.add_argument("--max-mutants", type=positive_int, default=DEFAULT_MAX_MUTANTS, metavar="N",
                        help=f"grade at most N mutants, taken in turn from each kind of mutation "
                        f"(default {DEFAULT_MAX_MUTANTS})")
    parser.add_argument("--csv", type=Path, default=None, metavar="FILE",
                        help="write the per-mutant table (kind, line, score, killed_by...) to FILE")
    parser.add_argument("-j", "--jobs", type=positive_int, default=os.cpu_count() or 1,
                        help="files graded at once (default: the number of cores)")
    add_run_options(parser)
    parser.set_defaults(command=run_audit)


def run_audit(args: argparse.Namespace) -> int:
    from grader.grading.options import grade_options

    result = audit(args.assignment, grade_options(args, args.jobs, False), args.max_mutants)
    print_audit(result)
    if args.csv is not None:
        try:
            args.csv.parent.mkdir(parents=True, exist_ok=True)
            result.mutants.to_csv(args.csv, index=False)
        except OSError as error:
            raise GraderError(f"cannot write {args.csv}: {error.strerror}; choose another --csv file") from None
        print(f"Per-mutant table: {args.csv}")
    return 0
