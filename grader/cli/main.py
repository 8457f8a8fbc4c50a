"""The command line: ``grader grade``, ``grader check`` and ``grader list``.

Each verb parses its options and calls one function; mistakes a user can make are printed as one
line (``grader: error: ...``) with exit status 2, never a traceback (unless ``--debug``).
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import importlib
import os
import sys
from pathlib import Path

from grader.errors import GraderError
from grader.grading.options import add_run_options, grade_options, positive_int
from grader.version import __version__


def run() -> None:
    """The commands' entry point: :func:`main`, then a quick exit. Tearing down torch's and pandas'
    modules at exit takes 0.3-0.6 s and frees nothing the system would not: every file is written
    and closed by then, the exit handlers still run, and the output is flushed first. An error's
    traceback (``--debug``) leaves the usual way."""
    try:
        main()
        code: object = 0
    except SystemExit as stop:
        code = stop.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()  # what registered one (an unpacked archive's folder) is cleaned up
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            pass
    os._exit(code or 0)


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        sys.exit(2)
    try:
        sys.exit(args.command(args))
    except GraderError as error:
        if args.debug:
            raise
        print(f"grader: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        sys.exit(130)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader", description="Grade PyTorch exercises: batch grading, self-checks, CI.")
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")

    grade = verbs.add_parser("grade", help="grade every submission in a folder",
                             description="Grade every submission in SUBMISSIONS_DIR and write "
                             "scores.csv, results.csv and run.json into OUT_DIR.")
    grade.add_argument("assignment", help="a bundled assignment's name, or an assignment folder")
    grade.add_argument("submissions", type=Path, help="folder of STUDENT.ipynb, STUDENT.py or STUDENT/, or the "
                       "LMS's archive (Canvas \"Download Submissions\" .zip, or its unpacked folder)")
    grade.add_argument("-o", "--out", type=Path, required=True, help="folder for the report")
    grade.add_argument("--roster", type=Path, default=None, metavar="CSV",
                       help="class list (student,lms_id,name): listed students with no submission "
                       "get a row with status missing")
    grade.add_argument("--no-feedback", dest="feedback", action="store_false",
                       help="skip feedback/ (per-student Markdown, HTML and annotated notebooks: "
                       "rendering a notebook costs about 40 ms, shared among one process a core)")
    grade.add_argument("--regrade", action="store_true",
                       help="grade every submission again (by default, unchanged ones graded "
                       "before into OUT_DIR are reused)")
    grade.add_argument("--only", action="append", default=[], metavar="STUDENT",
                       help="grade only this student again (repeatable) and rewrite the report "
                       "with everyone else taken from OUT_DIR's journal")
    grade.add_argument("--overrides", type=Path, default=None, metavar="CSV",
                       help="score changes (student,test,points,reason,who; test may be total or "
                       "late; points 8 or +2/-1), applied on every run (default: "
                       "OUT_DIR/overrides.csv when it exists)")
    grade.add_argument("--late-from-mtime", action="store_true",
                       help="for the late policy, take a submission's time from its file's "
                       "modification time when neither the LMS archive nor the roster gives one")
    grade.add_argument("--similarity", action="store_true",
                       help="also compare the submissions with each other (see grader similar)")
    grade.add_argument("--executor", choices=("local", "dask"), default="local",
                       help="where sandboxes run: this machine (default) or a Dask cluster")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="the Dask scheduler's address, e.g. tcp://10.0.0.5:8786 (--executor dask)")
    grade.add_argument("-j", "--jobs", type=positive_int, default=os.cpu_count() or 1,
                       help="submissions graded at once (default: the number of cores)")
    add_run_options(grade)
    grade.set_defaults(command=run_grade)

    check = verbs.add_parser("check", help="run the public tests on one submission",
                             description="Run the assignment's public tests on FILE and show "
                             "what passed, what failed and why. Hidden tests count too, later.")
    check.add_argument("assignment", help="a bundled assignment's name, or an assignment folder")
    check.add_argument("file", type=Path, help="your notebook (.ipynb) or module (.py)")
    add_run_options(check)
    check.set_defaults(command=run_check)

    listing = verbs.add_parser("list", help="show the bundled assignments (installed: the bundled releases)")
    listing.set_defaults(command=run_list)
    for module in MORE_VERBS:
        importlib.import_module(module).register(verbs)
    return parser


# Modules adding more verbs: each has ``register(verbs)``, which adds its subparser with
# ``set_defaults(command=...)``. They are imported for every command, so they must stay light:
# import torch, pandas and the rest inside the command, not at the top.
MORE_VERBS: tuple[str, ...] = ("grader.ci.runner", "grader.ci.gradescope", "grader.course.canvas_export",
                               "grader.authoring.assign", "grader.authoring.audit", "grader.cli.doctor",
                               "grader.course.similarity", "grader.authoring.release")


def run_grade(args: argparse.Namespace) -> int:
    from grader.cli import commands

    if args.only and args.regrade:
        raise GraderError("--only and --regrade contradict each other: --only regrades the named "
                          "students, --regrade everyone")
    options = dataclasses.replace(grade_options(args, args.jobs, False), regrade=args.regrade,
                                  executor=args.executor, scheduler=args.scheduler,
                                  only=frozenset(args.only))
    return commands.grade(args.assignment, args.submissions, args.out, options, roster=args.roster,
                          feedback=args.feedback, overrides=args.overrides,
                          late_from_mtime=args.late_from_mtime, similarity=args.similarity)


def run_check(args: argparse.Namespace) -> int:
    from grader.cli import commands

    return commands.check(args.assignment, args.file, grade_options(args, 1, True))


def run_list(args: argparse.Namespace) -> int:
    from grader.cli import commands

    return commands.list_assignments()
