"""The judge: a pytest plugin that runs an assignment's tests once per student, in this (trusted)
process, on observations that came back from the sandboxes.

Each test that asks for the ``observe`` fixture is parametrized by student; ``observe(probe)``
returns ``(student's observation, reference's observation)``, or fails the test with the reason
the student's probe has no observation (their code raised, timed out, or never loaded).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest

from grader.model import ASSIGNMENT_BUGS, Decision, Mismatch, NoObservation, TestOutcome, assignment_fault
from grader.probing import DECISIONS_PROBE

__all__ = ["JudgePlugin", "NoObservation", "Observations", "TestOutcome", "judge"]


class Observations(Protocol):
    def reference(self, probe: str) -> Any: ...
    def student(self, student: str, probe: str) -> Any:
        """The student's observation; raises :class:`NoObservation` when there is none."""


class JudgePlugin:
    def __init__(self, observations: Observations, students: list[str], public_only: bool,
                 test_files: tuple[Path, ...] = ()) -> None:
        self.test_files = {str(path.resolve()) for path in test_files}
        self.observations = observations
        self.students = students
        self.public_only = public_only
        self.outcomes: list[TestOutcome] = []
        self.collection_errors: list[str] = []
        self.observed: dict[tuple[str, str], set[str]] = {}  # (student, test) -> probes it observed
        self.blamed: dict[tuple[str, str], Decision] = {}  # (student, test) -> an error blamed on them
        self.decisions: dict[str, dict[Decision, set[str]]] = {}  # student -> decision -> its probes

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): the test is worth n points")
        config.addinivalue_line("markers", "hidden: the test's details are not shown to students")
        config.addinivalue_line("markers", "question(name): the starter's question the test belongs to")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "observe" in metafunc.fixturenames:
            metafunc.parametrize("grader_student", self.students, ids=self.students)

    @pytest.fixture
    def observe(self, grader_student: str,
                request: pytest.FixtureRequest) -> Callable[[Callable], tuple[Any, Any]]:
        key = (grader_student, _test_name(request.node))

        def observe(probe: Callable) -> tuple[Any, Any]:
            name = probe.__name__
            self.observed.setdefault(key, set()).add(name)
            self._decisions_of(grader_student)  # read while this student's frames are at hand
            try:
                got = self.observations.student(grader_student, name)
            except NoObservation as reason:
                if reason.blamed:
                    self.blamed[key] = Decision("error", reason.blamed)
                failure = pytest.fail.Exception(str(reason), pytrace=False)
                failure.assignment_error = reason.assignment_error  # type: ignore[attr-defined]
                raise failure from None
            return got, self.observations.reference(name)

        return observe

    def _decisions_of(self, student: str) -> dict[Decision, set[str]]:
        """What grace decided for ``student`` (the sandbox's last probe), with the probes that
        relied on each decision."""
        if student not in self.decisions:
            self.decisions[student] = {}
            try:
                found = self.observations.student(student, DECISIONS_PROBE)
            except Exception:  # noqa: BLE001 - no decisions (an older run, a sandbox that ended early)
                found = []
            for value in found if isinstance(found, list) else []:
                decision = Decision.of_value(value)
                probes = value.get("probes") if decision is not None else None
                if decision is not None:
                    names = {p for p in probes if isinstance(p, str)} if isinstance(probes, list) else set()
                    self.decisions[student].setdefault(decision, set()).update(names)
        return self.decisions[student]

    def attach_decisions(self) -> None:
        """Give each outcome the decisions it relied on: those made in a probe it observed (a
        graced name, a chosen definition, a signature), and an error blamed on the student's code."""
        for outcome in self.outcomes:
            key = (outcome.student, outcome.test)
            probes = self.observed.get(key, set())
            relied = [decision for decision, made_in in self._decisions_of(outcome.student).items()
                      if made_in & probes]
            if key in self.blamed:
                relied.append(self.blamed[key])
            outcome.decisions = [decision.as_dict() for decision in relied]

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.public_only:
            items[:] = [item for item in items if item.get_closest_marker("hidden") is None]
        order = {student: index for index, student in enumerate(self.students)}
        items.sort(key=lambda item: order.get(_student_of(item), -1))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(str(report.longrepr))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
        """A plain report with the failure's message only: pytest's tracebacks cost ~15 ms each."""
        passed = call.excinfo is None
        message, fault = ("", "") if passed else _failure(call, self.test_files)
        location = (item.nodeid, None, item.name)  # item.location costs ~0.5 ms of path arithmetic
        report = pytest.TestReport(
            item.nodeid, location, {}, "passed" if passed else "failed",
            None if passed else message, call.when, [], call.duration, call.start, call.stop,
        )
        student = _student_of(item)
        if student is not None and (call.when == "call" or (call.when == "setup" and not passed)):
            marker = item.get_closest_marker("points")
            function = getattr(item, "function", None)
            doc = (function.__doc__ or "").strip().splitlines() if function else []
            # a comparator's structured mismatch; any other failure (a probe that raised, an
            # author's assert or fail()) is headed by its first line, set here once
            found = _mismatch_of(call) or (None if passed else Mismatch.of_text(message))
            self.outcomes.append(TestOutcome(
                student=student,
                test=_test_name(item),
                description=doc[0] if doc else item.name,
                points=float(marker.args[0]) if marker and marker.args else 1.0,
                hidden=item.get_closest_marker("hidden") is not None,
                passed=passed,
                message=message,
                headline=found.headline if found else "",
                likely_cause=found.likely_cause if found else "",
                assignment_error=fault,
            ))
        return report


def _student_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("grader_student") if callspec else None


def _test_name(item: pytest.Item) -> str:
    """The test's name with its own parameters, without the student's."""
    name = getattr(item, "originalname", item.name)
    callspec = getattr(item, "callspec", None)
    params = {k: v for k, v in callspec.params.items() if k != "grader_student"} if callspec else {}
    return f"{name}[{'-'.join(map(str, params.values()))}]" if params else name


def _mismatch_of(call: pytest.CallInfo) -> Mismatch | None:
    """The structured mismatch a comparator of :mod:`grader.judge.compare` failed with, if any."""
    found = getattr(call.excinfo.value, "mismatch", None) if call.excinfo is not None else None
    return found if isinstance(found, Mismatch) else None


def _failure(call: pytest.CallInfo, test_files: set[str]) -> tuple[str, str]:
    """The failure's message for the student, and where the assignment's own code raised what no
    student's result causes (``NameError at test_x.py, line 12``), else ``""``."""
    if call.excinfo is None:
        return "failed", ""
    error = call.excinfo.value
    if isinstance(error, AssertionError | pytest.fail.Exception):
        text = str(error.msg if isinstance(error, pytest.fail.Exception) else error).strip()
        return text or "assertion failed", str(getattr(error, "assignment_error", ""))
    kind, message = type(error).__name__, str(error)[:500]
    entry = next((e for e in reversed(call.excinfo.traceback)
                  if str(Path(e.path).resolve()) in test_files), None)
    if entry is None:
        return f"the check could not read your results ({kind}: {message})", ""
    where = f"{Path(entry.path).name}, line {entry.lineno + 1}"
    code = str(entry.statement).strip().splitlines()[0][:200] if str(entry.statement).strip() else ""
    at = where + (f": `{code}`" if code else "")
    if kind in ASSIGNMENT_BUGS:
        return assignment_fault(kind, at, message), f"{kind} at {where}"
    return (f"the check's own code raised {kind} ({at}){': ' + message if message else ''}, on what "
            "your code returned"), ""


@contextmanager
def _quiet_pytest_environment():
    saved = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved


def _forget_modules_of(test_files: tuple[Path, ...]) -> None:
    """Drop test modules imported by an earlier judge: another assignment's ``test_x.py`` (or this
    one's before an edit) would otherwise be run in place of these files."""
    stems = {path.stem for path in test_files}
    folders = {str(path.resolve().parent) for path in test_files}
    for name, module in sys.modules.copy().items():  # a copy: another thread may be importing
        file = getattr(module, "__file__", None)
        if name.rsplit(".", 1)[-1] in stems or (
                isinstance(file, str) and os.path.dirname(os.path.abspath(file)) in folders):
            sys.modules.pop(name, None)


def judge(test_files: tuple[Path, ...], observations: Observations, students: list[str],
          public_only: bool = False) -> list[TestOutcome]:
    """Run the assignment's tests for every student; one outcome per (student, test)."""
    plugin = JudgePlugin(observations, students, public_only, test_files)
    root = test_files[0].parent
    args = [
        *map(str, test_files), "-p", "no:cacheprovider", "-p", "no:terminal",
        "-p", "no:stepwise", "-p", "no:warnings", "-p", "no:logging", "-p", "no:faulthandler",
        "-p", "no:junitxml", "-p", "no:doctest", "-p", "no:pastebin", "-p", "no:nose",
        "-p", "no:unraisableexception", "-p", "no:threadexception",
        "--capture=no", "--import-mode=importlib",
        f"--rootdir={root}", "-c", os.devnull, "-o", "python_functions=test_*",
    ]
    _forget_modules_of(test_files)  # pytest's importlib mode reuses a module of the same name
    try:
        with _quiet_pytest_environment():
            code = pytest.main(args, plugins=[plugin])
    finally:
        _forget_modules_of(test_files)
    plugin.attach_decisions()
    if plugin.collection_errors or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        detail = plugin.collection_errors[0] if plugin.collection_errors else f"pytest exit {code}"
        from grader.errors import GraderError

        raise GraderError(f"the assignment's tests could not be run: {detail}")
    return plugin.outcomes
