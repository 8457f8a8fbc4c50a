"""An example Classroom 50 autograder: the PUBLIC checks of a release, written as ./result.json.

Where it lives: in the classroom's CONFIGURATION repository (beside the classroom's settings, where
Classroom 50 looks for each assignment's autograder), never in the students' repositories.
Classroom 50 fetches the autograder without authentication, so whatever it fetches is public:
this file, the release folder it names, and anything else beside them. Put only a release there
(`grader release NAME -o release/NAME`: the starter, the public tests, the reference's
observations; no reference code, no hidden tests). Hidden tests are graded on the instructor's
side (`grader grade`, or Gradescope's autograder), and the score written here is the public
checks' only.

Classroom 50 runs it in a checkout of the student's repository and reads ./result.json
(contract classroom50/result/v1: integer points; `grader ci --format classroom50` refuses an
assignment with fractional points, and so does this). Usage:

    python autograder.py RELEASE_FOLDER SUBMISSION [-o result.json]

Install first (see workflow.yml): torch for the CPU, then the grader.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path, help="the release folder (grader release NAME -o DIR)")
    parser.add_argument("submission", type=Path, help="the student's notebook or module")
    parser.add_argument("-o", "--out", type=Path, default=Path("result.json"))
    args = parser.parse_args(argv)

    from grader.authoring.release import split_public
    from grader.ci.classroom50 import classroom50_result
    from grader.ci.runner import SubmissionResult, TestResult
    from grader.errors import GraderError
    from grader.grading.options import GradeOptions
    from grader.files import atomic_write
    from grader.selfcheck.runner import check_file, resolve

    try:
        release = resolve(str(args.release))
    except GraderError as error:
        print(f"autograder: {error}", file=sys.stderr)
        return 2
    points = {name: p for path in release.test_files for name, p in split_public(path).public_points.items()}
    fractional = [f"{name} ({p:g})" for name, p in points.items() if not float(p).is_integer()]
    if fractional:
        print(f"autograder: Classroom 50 needs whole points: {', '.join(fractional)}", file=sys.stderr)
        return 2
    try:
        run, report, notes = check_file(release, args.submission, GradeOptions())
        status, message, tests = run.status, run.message, report["tests"]
    except GraderError as error:  # a missing or unreadable submission still gets a result.json
        status, message, notes = "missing", str(error), []
        tests = [{"test": name, "description": name, "score": 0.0, "max_score": p, "passed": False,
                  "message": f"not graded: {error}"} for name, p in points.items()]
    result = SubmissionResult(
        assignment=release.name, title=release.title, file=str(args.submission), status=status,
        message=message, seconds=0.0, notes=tuple(map(str, notes)),
        tests=tuple(TestResult(test=t["test"], description=t["description"], score=t["score"],
                               max_score=t["max_score"], passed=t["passed"], hidden=False,
                               message=t["message"]) for t in tests))
    atomic_write(args.out, json.dumps(classroom50_result(result), indent=2, ensure_ascii=False) + "\n")
    print(f"public checks: {result.score:g} / {result.max_score:g} points in {args.out}"
          + (f" ({status}: {message})" if status != "graded" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
