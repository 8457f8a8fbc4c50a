"""Grading a batch: the reference once, every submission in a sandbox, then the judge."""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.errors import GraderError
from grader.plugin import NoObservation, TestOutcome, judge
from grader.pool import SandboxPool, SandboxRequest
from grader.submissions import Submission
from grader.wire import Frame, WireError, decode_frames

TIMEOUT_FLOOR = 10.0  # seconds: the least any submission gets
TIMEOUT_FACTOR = 20.0  # times the reference's own run time


@dataclass(frozen=True)
class GradeOptions:
    jobs: int = 2
    timeout: float | None = None
    memory: int | None = None
    device: str = "cpu"
    public_only: bool = False
    namespaces: bool = True  # off only to test or debug the weaker fallback sandbox


@dataclass
class Run:
    """How one submission's sandbox ended, and where its observations are."""

    submission: Submission
    status: str = "graded"  # graded, error, timeout or killed
    message: str = ""
    seconds: float = 0.0  # the sandbox's wall-clock time, fork to exit
    code_seconds: float = 0.0  # of which the student's cells and the probes
    result_path: Path | None = None
    output: str = ""
    load: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchResult:
    assignment: Assignment
    runs: list[Run]
    outcomes: list[TestOutcome]
    protections: dict[str, bool]
    timeout: float
    device: str
    seconds: float


def grade(assignment: Assignment, submissions: list[Submission], options: GradeOptions,
          on_progress: Callable[[Run], None] | None = None,
          out_dir: Path | None = None) -> BatchResult:
    """Grade ``submissions``; ``out_dir`` (where the report goes) is hidden from the sandboxes."""
    started = time.monotonic()
    # The judge needs torch too: import it while the sandbox servers start.
    threading.Thread(target=importlib.import_module, args=("torch",), daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="grader-batch-"))
    try:
        pool = SandboxPool(assignment.test_files, max(1, options.jobs), work, options.namespaces,
                           assignment.preload)
        try:
            hide = _secret_paths(assignment, submissions, out_dir)
            reference, reference_seconds = _reference_observations(assignment, pool, work, options)
            timeout = options.timeout or max(TIMEOUT_FLOOR, TIMEOUT_FACTOR * reference_seconds)
            memory = options.memory or assignment.limits.memory
            if options.timeout is None and assignment.limits.timeout is not None:
                timeout = assignment.limits.timeout

            def run_one(index_and_submission: tuple[int, Submission]) -> Run:
                index, submission = index_and_submission
                run = _run_submission(submission, pool, work / f"{index}.obs", timeout, memory,
                                      options.device, hide)
                if on_progress:
                    on_progress(run)
                return run

            with ThreadPoolExecutor(max(1, options.jobs)) as executor:
                runs = list(executor.map(run_one, enumerate(submissions)))
            protections = {
                "namespaces": pool.namespaces, "readonly_fs": pool.namespaces,
                "hidden_paths": pool.namespaces, "rlimits": True, "scrubbed_env": True,
                "session": True,
            }
        finally:
            pool.close()
        source = _ObservationSource(reference, {run.submission.student: run for run in runs})
        outcomes = judge(assignment.test_files, source, [r.submission.student for r in runs],
                         public_only=options.public_only)
        return BatchResult(assignment, runs, outcomes, protections, timeout, options.device,
                           time.monotonic() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _secret_paths(assignment: Assignment, submissions: list[Submission],
                  out_dir: Path | None) -> tuple[str, ...]:
    """What no sandbox may read: the tests, the references, every submission, the report."""
    paths = {assignment.root, assignment.reference.parent}
    if out_dir is not None:
        paths.add(out_dir.resolve())
    paths |= {s.path.parent for s in submissions if s.path is not None}
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / ".git").exists():
        paths.add(checkout / ".git")
    return tuple(sorted(str(p) for p in paths))


def _reference_observations(assignment: Assignment, pool: SandboxPool, work: Path,
                            options: GradeOptions) -> tuple[dict[str, Any], float]:
    from grader.submissions import Submission

    reference = Submission(f"reference:{assignment.name}", assignment.reference)
    run = _run_submission(reference, pool, work / "reference.obs", 120.0,
                          assignment.limits.memory, options.device, ())
    frames = _frames(run)
    problems = [f"{f.name}: {_probe_error_text(f.error)}" for f in frames if f.error]
    load = next((f for f in frames if f.kind == "load"), None)
    if load and load.value and load.value.get("errors"):
        problems.insert(0, f"loading: {load.value['errors'][0]}")
    if run.status != "graded" or problems:
        detail = "; ".join(problems) or f"{run.message}; output: {run.output[-1500:]}"
        raise GraderError(f"the reference of {assignment.name} failed ({detail}): fix the "
                          f"reference or the assignment's probes ({assignment.reference})")
    observations = {f.name: f.value for f in frames if f.kind == "probe"}
    done = next((f for f in frames if f.kind == "done"), None)
    seconds = float(done.extra.get("seconds", run.seconds)) if done else run.seconds
    return observations, seconds


def _run_submission(submission: Submission, pool: SandboxPool, result_path: Path, timeout: float,
                    memory: int, device: str, hide: tuple[str, ...]) -> Run:
    run = Run(submission)
    if submission.problem or submission.path is None:
        run.status, run.message = "error", submission.problem or "no file to grade"
        return run
    request = SandboxRequest(
        source=submission.path.resolve(), kind=submission.kind, name=submission.path.name,
        result=result_path, timeout=timeout, memory=memory, device=device, hide=hide,
    )
    try:
        response = pool.run(request)
    except GraderError as error:
        run.status, run.message = "error", f"the grader's sandbox failed: {error}"
        return run
    run.result_path = result_path
    run.seconds = float(response.get("seconds", 0.0))
    run.output = response.get("output", "")
    _classify(run, response, timeout)
    return run


def _classify(run: Run, response: dict, timeout: float) -> None:
    """Set the run's status and one-line message from how the sandbox ended."""
    if "refused" in response or "fault" in response:
        run.status, run.message = "error", response.get("refused") or f"grader fault: {response['fault']}"
        return
    if response.get("setup_failure"):
        run.status, run.message = "error", f"the sandbox could not start: {response['setup_failure']}"
        return
    frames = _frames(run)
    load = next((f for f in frames if f.kind == "load"), None)
    done = next((f for f in frames if f.kind == "done"), None)
    finished = done is not None
    if done is not None:
        run.code_seconds = float(done.extra.get("seconds", 0.0))
    if load is not None:
        run.load = load.value or {}
        if load.error:
            run.status, run.message = "error", load.error.get("message", "cannot be read")
            return
    cell_errors = run.load.get("errors", [])
    if response.get("timed_out"):
        where = "while loading" if load is None else "while checking"
        run.status = "timeout"
        run.message = f"stopped after {timeout:.0f} s {where} (time limit): an endless loop or very slow code?"
        return
    if response.get("too_large"):
        run.status, run.message = "killed", "stopped: its results were too large"
        return
    if not finished:
        run.status = "killed"
        run.message = _ended_early(response.get("exit_status"))
        return
    if run.submission.kind == "py" and any(e.get("type") in ("SyntaxError", "IndentationError")
                                           for e in cell_errors):
        error = cell_errors[0]
        run.status = "error"
        run.message = f"{run.submission.path.name} does not compile: {_cell_error_text(error, 'py')}"
        return
    if any(e.get("type") == "SoftTimeout" for e in cell_errors):
        run.status = "timeout"
    if cell_errors:
        run.message = _cell_error_text(cell_errors[0], run.submission.kind)
        if len(cell_errors) > 1:
            run.message += f" (and {len(cell_errors) - 1} more failing cells)"


def _ended_early(exit_status: int | None) -> str:
    if exit_status is None:
        return "the sandbox ended before grading finished"
    code = os.waitstatus_to_exitcode(exit_status)
    if code < 0:
        name = signal.Signals(-code).name
        why = {"SIGXFSZ": " (wrote too much output or too large a file)",
               "SIGKILL": " (out of memory?)", "SIGSEGV": " (a crash in native code)"}
        return f"killed by {name}{why.get(name, '')} before grading finished"
    return (f"your code ended the process (exit code {code}) before grading finished: "
            "remove sys.exit(), os._exit() and quit() calls")


def _cell_error_text(error: dict, kind: str) -> str:
    where = "" if kind == "py" else f"cell {error.get('cell')}: "
    line = f" at line {error['line']}" if error.get("line") else ""
    text = f" `{error['text']}`" if error.get("text") else ""
    message = f": {error['message']}" if error.get("message") else ""
    return f"{where}{error.get('type')}{line}{text}{message}"


def _probe_error_text(error: dict | None) -> str:
    if not error:
        return ""
    kind, message = error.get("type", "Error"), error.get("message", "")
    if kind == "ProbeFailure":
        return message
    if kind == "SoftTimeout":
        return "this check was stopped: your code ran too long (an endless loop?)"
    if kind == "MemoryError":
        return "your code ran out of memory during this check"
    if kind in ("SystemExit", "KeyboardInterrupt"):
        where = f" at line {error['line']} of {error.get('where')}" if error.get("line") else ""
        return (f"your code called sys.exit() or raised {kind}{where} during this check: "
                "remove it, the grader needs your code to keep running")
    where = ""
    if error.get("line"):
        where = f" ({error.get('where')}, line {error['line']}"
        where += f": `{error['text']}`)" if error.get("text") else ")"
    if kind == "NotImplementedError" and not message:
        return f"not written yet: your code still raises NotImplementedError{where}"
    return f"your code raised {kind}{where}" + (f": {message}" if message else "")


def _frames(run: Run) -> list[Frame]:
    if run.result_path is None or not run.result_path.exists():
        return []
    try:
        return decode_frames(run.result_path.read_bytes())
    except WireError as error:
        run.message = f"unreadable results: {error}"
        return []


class _ObservationSource:
    """Observations for the judge, decoded one student at a time (memory stays bounded)."""

    def __init__(self, reference: dict[str, Any], runs: dict[str, Run]) -> None:
        self._reference, self._runs = reference, runs
        self._cached_student: str | None = None
        self._cached: dict[str, Frame] = {}

    def reference(self, probe: str) -> Any:
        return self._reference[probe]

    def student(self, student: str, probe: str) -> Any:
        run = self._runs[student]
        if self._cached_student != student:
            self._cached = {f.name: f for f in _frames(run) if f.kind == "probe"}
            self._cached_student = student
        frame = self._cached.get(probe)
        if frame is None:
            raise NoObservation(_why_missing(run))
        if frame.error:
            text = _probe_error_text(frame.error)
            if text.startswith("your code does not define") and run.load.get("errors"):
                text += f" (earlier, {_cell_error_text(run.load['errors'][0], run.submission.kind)})"
            raise NoObservation(text)
        return frame.value


def _why_missing(run: Run) -> str:
    if run.status == "graded":
        return "no result for this check (the sandbox ended early)"
    return f"not checked: {run.message}" if run.message else f"not checked ({run.status})"
