"""The CI door: ``grader ci ASSIGNMENT SUBMISSION --format gradescope|junit|github|classroom50``.

Grades one submission with every test, public and hidden (CI grading is the real grade), and
writes machine-readable results (the writers are in :mod:`grader.ci.formats`). Hidden tests count
for the score, but what CI writes is student-facing: they show their name and points only.

A submission that is missing, renamed or unreadable still gets a results file in every format:
every test with 0 points and the reason, so the CI system shows why.

Exit status: 0 when grading ran, whatever the score; 1 when ``--fail-under PERCENT`` is given and
the score is below it, or when the submission could not be graded at all (missing, unreadable:
the results file says so); 2 for a mistake in the call (an unknown assignment, an unwritable -o).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.ci.results import SubmissionResult, TestResult
from grader.errors import GraderError
from grader.model import TestOutcome

FORMATS = ("gradescope", "junit", "github", "classroom50")
GRADESCOPE_HOME = Path("/autograder")


def register(verbs: argparse._SubParsersAction) -> None:
    from grader.grading.options import add_run_options

    ci = verbs.add_parser(
        "ci", help="grade one submission with every test, for CI (Gradescope, JUnit, GitHub)",
        description="Grade SUBMISSION with all of the assignment's tests, public and hidden, and "
        "write the results for a CI system. Exit status 0 when grading ran, whatever the score "
        "(1 with --fail-under when the score is below it; 2 for a mistake in the call).")
    ci.add_argument("assignment", help="a bundled assignment's name, or an assignment folder")
    ci.add_argument("submission", type=Path, help="the notebook (.ipynb) or module (.py) to grade, "
                    "or the folder holding it with its helper modules and data files")
    ci.add_argument("--format", required=True, choices=FORMATS,
                    help="gradescope: results.json; junit: JUnit XML; github: a job summary "
                    "(Markdown) and workflow annotations; classroom50: Classroom 50's result.json")
    ci.add_argument("-o", "--out", type=Path, default=None, metavar="FILE",
                    help="where to write (default: gradescope /autograder/results/results.json "
                    "on Gradescope, else results.json; junit report.xml; classroom50 result.json; "
                    "github: appended to $GITHUB_STEP_SUMMARY, else printed)")
    ci.add_argument("--fail-under", type=_percent, default=None, metavar="PERCENT",
                    help="exit with status 1 when the score is below PERCENT of the points")
    add_run_options(ci)
    ci.set_defaults(command=run_ci)


def run_ci(args: argparse.Namespace) -> int:
    from grader.grading.options import grade_options

    return ci(args.assignment, args.submission, args.format, args.out, args.fail_under,
              grade_options(args, 1, False))


def ci(assignment_name: str, file: Path, fmt: str, out: Path | None, fail_under: float | None,
       options) -> int:
    """Grade ``file``, write the results in ``fmt``; the exit status (see the module's docstring)."""
    from grader.ci import formats as ci_formats
    from grader.grading import batch as grading
    from grader.intake import submissions
    from grader.intake.assignment import find_assignment

    assignment = find_assignment(assignment_name)
    settings = gradescope_settings(assignment.root / "assignment.toml")
    if fmt == "classroom50":
        from grader.ci.classroom50 import check_whole_points

        check_whole_points(assignment)
    target = output_path(fmt, out)
    if target is not None:
        ci_formats.check_writable(target)
    try:
        submission = submissions.single(file, assignment.entry_rule)
        problem = submission.problem
    except GraderError as error:
        submission, problem = None, str(error)
    if submission is None or problem:
        result = not_graded(assignment, str(file), problem or "no file to grade", settings)
    else:
        batch = grading.grade(assignment, [submission], options)
        result = summarize(batch, str(file), settings)
        from grader.sandbox.advice import warning_line

        if (warning := warning_line(batch.protections)) is not None:  # stderr: github writes stdout
            print(warning, file=sys.stderr)
    write(result, fmt, target)
    if result.status == "missing":
        print(f"grader: {result.message}; {fmt} results with 0 points "
              f"{'in ' + str(target) if target else 'printed'}", file=sys.stderr)
        return 1
    if fmt != "github":
        print(f"{result.headline()}; {fmt} results in {target}")
    if fail_under is not None and result.below(fail_under):
        print(f"grader: the score {result.percent:g}% is below --fail-under {fail_under:g}%",
              file=sys.stderr)
        return 1
    return 0


def write(result: SubmissionResult, fmt: str, target: Path | None) -> None:
    """Write ``result`` in ``fmt`` to ``target`` (github: annotations on stdout, the summary there)."""
    from grader.ci import formats as ci_formats

    if fmt == "gradescope":
        ci_formats.write_gradescope(result, target)
    elif fmt == "junit":
        ci_formats.write_junit(result, target)
    elif fmt == "classroom50":
        from grader.ci.classroom50 import write_classroom50

        write_classroom50(result, target)
    else:
        for line in ci_formats.github_annotations(result):
            print(line)
        summary = ci_formats.github_summary(result)
        if target is None:
            print(summary, end="")
        else:
            with target.open("a", encoding="utf-8") as stream:
                stream.write(summary)


def not_graded(assignment, file: str, reason: str, settings: dict | None = None) -> SubmissionResult:
    """The result of a submission that could not be run: every test, 0 points, and why."""
    from grader.authoring.release import split_public

    reason = _clean(reason)
    tests = []
    for path in assignment.test_files:
        part = split_public(path)
        for name, hidden in [*((n, False) for n in part.public_tests), *((n, True) for n in part.hidden_tests)]:
            points = (part.hidden_points if hidden else part.public_points)[name]
            tests.append(TestResult(test=name, description=part.descriptions.get(name, name), score=0.0,
                                    max_score=points, passed=False, hidden=hidden,
                                    message=f"not graded: {reason}"))
    from grader.version import environment

    return SubmissionResult(assignment=assignment.name, title=assignment.title, file=file,
                            status="missing", message=reason, seconds=0.0, tests=tuple(tests),
                            settings=settings or {}, environment=environment())


def output_path(fmt: str, out: Path | None) -> Path | None:
    """Where ``fmt`` goes: ``-o``, else the format's default; None means standard output."""
    if out is not None:
        return out
    if fmt == "gradescope":
        if GRADESCOPE_HOME.is_dir():
            return GRADESCOPE_HOME / "results" / "results.json"
        return Path("results.json")
    if fmt == "junit":
        return Path("report.xml")
    if fmt == "classroom50":
        return Path("result.json")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    return Path(summary) if summary else None


def summarize(batch, file: str, settings: dict | None = None) -> SubmissionResult:
    """The first (only) submission of ``batch``, as CI reports it."""
    run = batch.runs[0]
    student = run.submission.student
    tests = tuple(_test_result(o) for o in batch.outcomes if o.student == student)
    return SubmissionResult(
        assignment=batch.assignment.name, title=batch.assignment.title, file=file,
        status=run.status, message=_clean(run.message), seconds=batch.seconds, tests=tests,
        notes=tuple(_clean(n) for n in run.notes), settings=settings or {},
        environment=batch.environment,
    )


def gradescope_settings(toml_path: Path) -> dict:
    """The assignment's optional ``[gradescope]`` table (visibility settings), checked."""
    import tomllib

    from grader.ci.formats import VISIBILITY_KEYS, VISIBILITY_VALUES

    try:
        table = tomllib.loads(toml_path.read_text(encoding="utf-8")).get("gradescope", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise GraderError(f"cannot read {toml_path}: {error}") from None
    for key, value in table.items():
        if key in VISIBILITY_KEYS and value not in VISIBILITY_VALUES:
            raise GraderError(f"{toml_path}: [gradescope] {key} = {value!r} is not one of "
                              f"{', '.join(VISIBILITY_VALUES)}: fix assignment.toml")
    return dict(table)


def _test_result(outcome: TestOutcome) -> TestResult:
    headline, cause = ("", "") if outcome.passed else outcome.diagnosis()
    return TestResult(test=outcome.test, description=_clean(outcome.description),
                      score=outcome.points if outcome.passed else 0.0, max_score=outcome.points,
                      passed=outcome.passed, hidden=outcome.hidden, message=_clean(outcome.message or ""),
                      headline=_clean(headline), likely_cause=_clean(cause))


def _clean(text: str) -> str:
    """``text`` that can be written as UTF-8 (student code can put lone surrogates in messages)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage (a number from 0 to 100)") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 100")
    return value
