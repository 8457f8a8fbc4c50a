"""What ``grader ci`` writes: Gradescope's results.json, JUnit XML, a GitHub job summary.

Every format is student-facing: a hidden test shows its description and points, never its
failure message.

- Gradescope: the documented fields of results.json
  (https://gradescope-autograders.readthedocs.io/en/latest/specs/): per test ``status`` (passed or
  failed), ``output`` in Markdown (``output_format``/``test_output_format`` "md"; failure messages
  in fenced code blocks, so student text renders as text) and ``stdout_visibility``. The spec has
  no top-level status or total: the run's status and the total a submission can score go into
  ``extra_data``.
- Classroom 50: ``result.json`` (classroom50/result/v1), written by :mod:`grader.ci.classroom50`.
- JUnit: one ``<testsuite>`` (in ``<testsuites>``), one ``<testcase>`` per test with
  ``classname`` = the assignment and ``name`` = the test; points are ``<property>`` elements.
- GitHub: a Markdown table for the job summary, and workflow commands (``::error``, ``::notice``)
  that GitHub shows as annotations.
"""

from __future__ import annotations

import json
import re
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from grader.ci.results import HIDDEN_OUTPUT, SubmissionResult, TestResult, student_message
from grader.errors import GraderError
from grader.files import atomic_write
from grader.model import diagnosis, gist

VISIBILITY_VALUES = ("hidden", "after_due_date", "after_published", "visible")
# assignment.toml's [gradescope] table may set these; the defaults are what students need.
VISIBILITY_KEYS = {
    "visibility": "visible",  # the whole result, and the total score
    "public_tests": "visible",
    "hidden_tests": "after_published",
    "stdout_visibility": "hidden",  # the grader's own log: for instructors
}


def check_writable(target: Path) -> None:
    """Fail now, before grading, when ``target`` cannot be written."""
    try:
        if target.is_dir():
            raise GraderError(f"{target} is a folder: give -o the path of a file")
        target.parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.")
        probe.close()
    except OSError as error:
        raise GraderError(f"cannot write {target}: {error.strerror}; choose another -o file") from None


def gradescope_results(result: SubmissionResult) -> dict:
    """Gradescope's results.json for one submission."""
    settings = {key: result.settings.get(key, default) for key, default in VISIBILITY_KEYS.items()}
    tests = []
    for number, test in enumerate(result.tests, start=1):
        entry = {
            "name": test.description,
            "number": str(number),
            "score": test.score,
            "max_score": test.max_score,
            "status": "passed" if test.passed else "failed",
            "visibility": settings["hidden_tests" if test.hidden else "public_tests"],
            "output": _fenced(student_message(test)),
            "output_format": "md",
            "extra_data": {"test": test.test, "hidden": test.hidden},
        }
        tests.append(entry)
    return {
        "score": result.score,
        "execution_time": round(result.seconds),
        "output": _fenced(_overview(result)),
        "output_format": "md",
        "test_output_format": "md",
        "test_name_format": "text",
        "visibility": settings["visibility"],
        "stdout_visibility": settings["stdout_visibility"],
        "extra_data": {"assignment": result.assignment, "max_score": result.max_score,
                       "percent": result.percent, "status": result.status, "file": result.file,
                       "environment": result.environment},
        "tests": tests,
    }


def write_gradescope(result: SubmissionResult, target: Path) -> None:
    atomic_write(target, json.dumps(gradescope_results(result), indent=2, ensure_ascii=False) + "\n")


def junit_tree(result: SubmissionResult) -> ET.ElementTree:
    """JUnit XML: one testsuite named after the assignment, one testcase per test."""
    failures = sum(not t.passed for t in result.tests)
    counts = {"tests": str(len(result.tests)), "failures": str(failures), "errors": "0", "skipped": "0",
              "time": f"{result.seconds:.3f}"}
    root = ET.Element("testsuites", {"name": "grader", **counts})
    suite = ET.SubElement(root, "testsuite", {
        "name": result.assignment, **counts,
        "timestamp": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
    })
    _properties(suite, {"assignment": result.assignment, "file": result.file, "status": result.status,
                        "score": f"{result.score:g}", "max_score": f"{result.max_score:g}",
                        "percent": f"{result.percent:g}",
                        "environment": json.dumps(result.environment, sort_keys=True)})
    for test in result.tests:
        case = ET.SubElement(suite, "testcase", {"classname": result.assignment, "name": test.test})
        _properties(case, {"description": test.description, "points": f"{test.score:g}",
                           "max_points": f"{test.max_score:g}",
                           "visibility": "hidden" if test.hidden else "public"})
        if not test.passed:
            message = _xml_text(student_message(test))
            headline = HIDDEN_OUTPUT if test.hidden else _xml_text(_diagnosis(test)[0])
            failure = ET.SubElement(case, "failure", {"message": headline})
            failure.text = message
    ET.SubElement(suite, "system-out").text = _xml_text(_overview(result))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(result: SubmissionResult, target: Path) -> None:
    text = ET.tostring(junit_tree(result).getroot(), encoding="unicode", xml_declaration=True)
    atomic_write(target, text + "\n")


def github_summary(result: SubmissionResult) -> str:
    """A Markdown job summary: the score, then a table of tests with points and ✅/❌."""
    lines = [f"### {_cell(result.assignment)}: {_cell(result.title)}", "",
             f"**{result.score:g} / {result.max_score:g} points ({result.percent:g}%)** for "
             f"{_cell(result.file)}", ""]
    if result.status != "graded":
        lines += [f"> **{result.status}**: {_cell(result.message)}", ""]
    elif result.message:
        lines += [f"> {_cell(result.message)}", ""]
    lines += ["| test | points | passed | why |", "| --- | ---: | :---: | --- |"]
    for test in result.tests:
        name = _cell(test.description) + (" *(hidden)*" if test.hidden else "")  # the grader's own mark
        why = "" if test.passed else "details hidden" if test.hidden else _gist(test)
        lines.append(f"| {name} | {test.score:g} / {test.max_score:g} | "
                     f"{'✅' if test.passed else '❌'} | {_cell(why)} |")
    lines.append(f"| **total** | **{result.score:g} / {result.max_score:g}** | | |")
    env = result.environment
    if env:
        lines += ["", f"<sub>graded with grader {_cell(str(env.get('grader')))}, torch "
                  f"{_cell(str(env.get('torch')))}, Python {_cell(str(env.get('python')))} on "
                  f"{_cell(str(env.get('device')))}</sub>"]
    return "\n".join(lines) + "\n\n"


def github_annotations(result: SubmissionResult) -> list[str]:
    """Workflow commands: an error per failed public test, one for a run that went wrong, the score."""
    lines = []
    file = {"file": result.file}
    if result.status != "graded":
        lines.append(_command("error", result.message or result.status,
                              file=result.file, title=f"{result.assignment}: {result.status}"))
    elif result.message:
        lines.append(_command("warning", result.message, **file, title=f"{result.assignment}: your code"))
    for test in result.tests:
        if not test.passed and not test.hidden:
            lines.append(_command("error", test.message or "failed", **file,
                                  title=f"{test.description} (0 / {test.max_score:g})"))
    hidden_failed = sum(not t.passed and t.hidden for t in result.tests)
    extra = f"; {hidden_failed} hidden tests failed" if hidden_failed else ""
    lines.append(_command("notice", result.headline() + extra, title="Score"))
    return lines


def _fenced(text: str) -> str:
    """``text`` as a Markdown code block (shown as written), fenced longer than any backtick run."""
    if not text:
        return ""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return f"{fence}\n{text}\n{fence}"


def _diagnosis(test: TestResult) -> tuple[str, str]:
    """(headline, likely cause) of a failed test (see :func:`grader.model.diagnosis`)."""
    return diagnosis(test.headline, test.likely_cause, test.message)


def _gist(test: TestResult) -> str:
    """A failure's headline, with its likely cause when there is one."""
    return gist(*_diagnosis(test))


def _overview(result: SubmissionResult) -> str:
    """The run's message for the whole submission."""
    lines = [f"{result.title}: {result.score:g} / {result.max_score:g} points."]
    if result.status != "graded":
        lines.append(f"{result.status}: {result.message}")
    elif result.message:
        lines.append(result.message)
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


def _properties(parent: ET.Element, values: dict[str, str]) -> None:
    properties = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(properties, "property", {"name": name, "value": _xml_text(value)})


def _xml_text(text: str) -> str:
    """``text`` for XML 1.0, bounded (student output may hold anything): see grader.report.escaping."""
    from grader.report.escaping import xml_text

    return xml_text(text)


def _cell(text: str) -> str:
    """Text for one Markdown line or table cell: nothing in it links, formats or injects HTML."""
    from grader.report.escaping import markdown

    return markdown(text)


def _command(kind: str, message: str, **properties: str) -> str:
    """A GitHub workflow command, escaped as @actions/core escapes it."""
    def escape(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    parameters = ",".join(f"{key}={escape(value).replace(':', '%3A').replace(',', '%2C')}"
                          for key, value in properties.items())
    return f"::{kind}{' ' + parameters if parameters else ''}::{escape(message)}"


