"""One submission's sandbox run: how it ended, and what that tells the student.

A :class:`Run` is the sandbox's outcome (status, one-line message, timings, the student's failing
cells); :class:`ObservationSource` hands its observations to the judge, one student at a time,
turning a probe that raised into the sentence the student reads.
"""

from __future__ import annotations

import math
import os
import signal
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.intake.assignment import Assignment
from grader.intake.submissions import Submission
from grader.judge.diagnose import error_cause
from grader.model import (
    LIKELY_CAUSE,
    PLAIN_TYPES,
    CellError,
    ErrorGroup,
    NoObservation,
    Status,
    failing_cells,
    group_errors,
)
from grader.sandbox.pool import SandboxPool, SandboxRequest
from grader.sandbox.protocol import SandboxEnded
from grader.sandbox.wire import ForgedFrame, Frame, FrameSpan, WireError, read_frame, scan_frames


@dataclass
class Run:
    """How one submission's sandbox ended, and where its observations are."""

    submission: Submission
    status: Status = Status.GRADED  # graded, error, timeout or killed
    message: str = ""
    seconds: float = 0.0  # the sandbox's wall-clock time, fork to exit
    code_seconds: float = 0.0  # of which the student's cells and the probes
    result_path: Path | None = None
    output: str = ""
    cell_errors: list[CellError] = field(default_factory=list)  # the student's cells that raised
    notes: list[str] = field(default_factory=list)  # what the sandbox noted (plots shown, ...)
    tampered: str = ""  # why its results cannot be trusted, when they cannot
    timeout: float | None = None  # the time limit it ran under (seconds)
    infrastructure: str = ""  # why the grading machinery (not the student) could not run it
    probes: frozenset[str] | None = None  # the assignment's probes: a frame under another name is forged
    phases: dict[str, float] = field(default_factory=dict)  # seconds: fork, isolation, judge (per run)


def run_submission(submission: Submission, pool: SandboxPool, result_path: Path, timeout: float,
                   memory: int, device: str, files: tuple[str, ...] = (), gpu: int | None = None) -> Run:
    """Run one submission in a sandbox of ``pool``; ``files`` are shown in its working folder."""
    run = Run(submission)
    if submission.problem or submission.path is None:
        run.status, run.message = Status.ERROR, submission.problem or "no file to grade"
        return run
    request = SandboxRequest(
        source=submission.path.absolute(), kind=submission.kind, name=submission.file_name,
        result=result_path, timeout=timeout, memory=memory, device=device, files=files, gpu=gpu,
    )
    try:
        response = pool.run(request)
    except GraderError as error:
        run.status, run.message = Status.ERROR, f"the grader's sandbox failed: {error}"
        return run
    return run_from_response(submission, response, result_path, timeout, pool.hello.probes)


def sandbox_layout(submission: Submission | None, data: Path | None) -> tuple[str, ...]:
    """How every door lays a submission out for the sandbox: its entry is the request's source;
    the working folder shows the assignment's (or release's) ``data/`` folder and, for a folder
    submission, the entry's folder (its helper modules and data files), as they are in the
    release and on the student's machine."""
    from grader.sandbox.policy import shown_files

    return shown_files(data, submission.folder if submission is not None else None)


def run_from_response(submission: Submission, response: SandboxEnded, result_path: Path,
                      timeout: float, probes: Collection[str] | None = None) -> Run:
    """The run of a sandbox that answered ``response`` and wrote its frames to ``result_path``;
    ``probes``: the assignment's probe names (None: any name is taken, at most ``MAX_FRAMES``)."""
    run = Run(submission, result_path=result_path, timeout=timeout,
              probes=frozenset(probes) if probes is not None else None)
    run.seconds = float(response.seconds or 0.0)
    run.phases = {k: float(v) for k, v in (response.phases or {}).items() if _is_finite_number(v)}
    run.output = _head_and_tail(str(response.output or ""), MAX_OUTPUT)
    try:
        _classify(run, response, timeout)
    except Exception as error:  # whatever the sandbox wrote, it costs this row only
        run.status = Status.ERROR
        run.message = f"the grader could not read this submission's results ({type(error).__name__})"
    return run


def _classify(run: Run, response: SandboxEnded, timeout: float) -> None:
    """Set the run's status and one-line message from how the sandbox ended."""
    if response.refused or response.fault:
        run.status, run.message = Status.ERROR, response.refused or f"grader fault: {response.fault}"
        return
    if response.setup_failure:
        run.status, run.message = Status.ERROR, f"the sandbox could not start: {response.setup_failure}"
        return
    frames = frames_of(run, ("load", "done"))  # the probes' frames: decoded once, by the judge
    if run.tampered:
        run.status, run.message = Status.ERROR, run.tampered
        return
    load = frames[0] if frames and frames[0].kind == "load" else None
    done = frames[-1] if frames and frames[-1].kind == "done" else None
    finished = done is not None
    if done is not None:
        seconds = done.extra.get("seconds")
        run.code_seconds = float(seconds) if _is_finite_number(seconds) else 0.0
    if load is not None:
        run.cell_errors, run.notes = load_of(bounded(load.value))
        if load.error:
            run.status, run.message = Status.ERROR, str(load.error.get("message", "cannot be read"))[:500]
            return
    cell_errors = run.cell_errors
    if response.timed_out:
        where = "while loading" if load is None else "while checking"
        run.status = Status.TIMEOUT
        run.message = f"stopped after {timeout:.0f} s {where} (time limit): an endless loop or very slow code?"
        return
    if response.out_of_memory and not finished:
        run.status = Status.KILLED
        run.message = ("killed: it used more memory than the sandbox allows (its processes and files "
                       "together)")
        return
    if response.too_large:
        run.status, run.message = Status.KILLED, "stopped: its results were too large"
        return
    if not finished:
        run.status = Status.KILLED
        run.message = _ended_early(response.exit_status)
        return
    if run.submission.kind == "py" and any(e.type in ("SyntaxError", "IndentationError") for e in cell_errors):
        run.status = Status.ERROR
        run.message = f"{run.submission.path.name} does not compile: {cell_errors[0].text_for('py')}"
        return
    if any(e.type == "SoftTimeout" for e in cell_errors):
        run.status = Status.TIMEOUT
    if cell_errors:
        groups = group_errors(cell_errors)  # one failed import, not "27 errors"
        run.message = groups[0].text_for(run.submission.kind) + _more(groups, run.submission.kind)


def load_of(value: Any) -> tuple[list[CellError], list[str]]:
    """The failing cells and the notes of a ``load`` frame's value (or a journal's record of it)."""
    if not isinstance(value, dict):
        return [], []
    errors = value.get("errors")
    notes = value.get("notes")
    cell_errors = [e for e in map(CellError.of_value, errors if isinstance(errors, list) else []) if e]
    return cell_errors, [str(n) for n in notes] if isinstance(notes, list) else []


def _more(groups: list[ErrorGroup], kind: str) -> str:
    """`` (and 2 more failing cells)``, counting each cause once with the errors that follow from
    it (:func:`grader.model.group_errors`); a script's are errors (its cells may be statements)."""
    more = len(groups) - 1
    return f" (and {failing_cells(more, kind, more=True)})" if more > 0 else ""


def _is_finite_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


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


def probe_error_text(error: dict | None, probe: str = "") -> str:
    """What a student reads for a probe (``probe``: its name) that raised on their work, with a
    ``Likely cause:`` line where the error is a known mistake's (:func:`grader.judge.diagnose.error_cause`).

    Whatever the sandbox says about where the exception came from, it is the student's: the
    sandbox is the student's process, and code of theirs can be compiled under the test file's
    name. The assignment's own faults are decided on the trusted side: the reference failing the
    same probe (which stops the batch) or the judge's own code raising."""
    text = _probe_error_text(error, probe)
    cause = error_cause(str(error.get("type", "")), str(error.get("message", ""))) if error else None
    return f"{text}\n{LIKELY_CAUSE}{cause}" if cause else text


def _probe_error_text(error: dict | None, probe: str = "") -> str:
    if not error:
        return ""
    kind, message = error.get("type", "Error"), error.get("message", "")
    if kind == "ProbeFailure":
        return message
    where = ""
    if error.get("line"):
        where = f" ({error.get('where')}, line {error['line']}"
        where += f": `{error['text']}`)" if error.get("text") else ")"
    if kind == "SoftTimeout":
        at = f" (at {where.strip()[1:-1]})" if where else ""
        return f"this check was stopped at the time limit{at}: an endless loop, or code too slow?"
    if kind in ("SystemExit", "KeyboardInterrupt"):
        where = f" at line {error['line']} of {error.get('where')}" if error.get("line") else ""
        return (f"your code called sys.exit() or raised {kind}{where} during this check: "
                "remove it, the grader needs your code to keep running")
    if kind in PLAIN_TYPES:
        return f"{message}{where}"
    if error.get("check_file"):
        at = f"{error['check_file']}, line {error.get('check_line')}"
        code = f": `{error['check_text']}`" if error.get("check_text") else ""
        doing = f"while checking {probe}, " if probe else ""
        return (f"{doing}the check's own code raised {kind} ({at}{code}){': ' + message if message else ''}, "
                "on what your code returned or defined (the reference passes this check)")
    if kind == "MemoryError":
        return f"your code ran out of memory during this check{where}"
    if kind == "NotImplementedError" and not message:
        return f"not written yet: your code still raises NotImplementedError{where}"
    return f"your code raised {kind}{where}" + (f": {message}" if message else "")



def frames_of(run: Run, kinds: Collection[str] = ("load", "probe", "done")) -> list[Frame]:
    """The run's frames of ``kinds``, if they are the sandbox's own: one ``load`` first, each of
    the assignment's probes at most once, ``done`` last. The whole file is checked before any
    frame is decoded (:func:`scan_frames`), and only the frames of ``kinds`` are decoded. Anything
    else was written by the submission: ``run.tampered`` says so."""
    if run.result_path is None or run.tampered or not run.result_path.exists():
        return []
    try:
        with open(run.result_path, "rb") as handle:
            spans = scan_frames(handle, MAX_FRAMES if run.probes is None else len(run.probes) + 2,
                                run.probes)
            if _forged(spans, run.probes):
                run.tampered = FORGED
                return []
            frames = [read_frame(handle, span) for span in spans if span.kind in kinds]
    except ForgedFrame:
        run.tampered = FORGED
        return []
    except WireError as error:
        run.tampered = f"unreadable results: {error}"
        return []
    for frame in frames:
        frame.error = bounded(frame.error) if frame.error is not None else None
        frame.extra = bounded(frame.extra)
    return frames


FORGED = ("its results were forged: the grader's result channel holds a frame the grader did not "
          "write (does your code write to file descriptors it did not open?)")
MAX_FRAMES = 1000  # frames of a result file whose probes are not known (a release's own check)


def _forged(spans: list[FrameSpan], probes: frozenset[str] | None) -> bool:
    kinds = [span.kind for span in spans]
    names = [span.name for span in spans if span.kind == "probe"]
    return (kinds[:1] not in ([], ["load"]) or kinds.count("load") > 1 or "done" in kinds[:-1]
            or len(set(names)) != len(names) or (probes is not None and not probes.issuperset(names)))


def _head_and_tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit // 2] + "\n[...]\n" + text[-(limit // 2):]


def bounded(value: Any, depth: int = 0) -> Any:
    """A copy of data a sandbox sent, cut to size: strings, lists and dicts, at every level."""
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if depth > 8:
        return None
    if isinstance(value, list):
        return [bounded(item, depth + 1) for item in value[:MAX_ITEMS]]
    if isinstance(value, dict):
        return {str(k)[:100]: bounded(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}
    return value


MAX_TEXT = 1000  # characters of any text a sandbox sends about itself (messages, type names, lines)
MAX_OUTPUT = 40_000  # characters of printed output kept (the server keeps 16 KB head and tail)
MAX_ITEMS = 100  # entries of any list or dict it sends about itself (failing cells, notes)


class ObservationSource:
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
            self._cached = {f.name: f for f in frames_of(run, ("probe",))}
            self._cached_student = student
        frame = self._cached.get(probe)
        if frame is None:
            raise NoObservation(_why_missing(run))
        if frame.error:  # the student's, never the assignment's: see probe_error_text
            text = probe_error_text(frame.error, probe)
            if frame.error.get("missing"):  # a name the probe looked for (grader.probing.defined)
                earlier = _failed_definition(run, frame.error.get("missing"))
                if earlier is not None:
                    kind = run.submission.kind
                    cause = _cause_of(run, earlier)  # the failed import it follows from: said first
                    text += (f" (it failed earlier: {earlier.text_for(kind)})" if cause is None else
                             f" (it failed earlier: {cause.text_for(kind)}; then {earlier.text_for(kind)})")
            # the check's own code raised on the student's value: the student's, listed for review
            blamed = f"{probe}: {text}" if frame.error.get("check_file") else ""
            raise NoObservation(text, "", blamed)
        return frame.value


def _failed_definition(run: Run, name: object) -> CellError | None:
    """The failing cell that would have defined ``name``, if any: an unrelated error is not named."""
    return next((e for e in run.cell_errors if isinstance(name, str) and name in e.defines[:50]), None)


def _cause_of(run: Run, error: CellError) -> CellError | None:
    """The failed cell ``error`` (a NameError) follows from, if any."""
    group = next((g for g in group_errors(run.cell_errors) if error in g.following), None)
    return None if group is None else group.cause


def _why_missing(run: Run) -> str:
    if run.status == Status.GRADED:
        return "no result for this check (the sandbox ended early)"
    return f"not checked: {run.message}" if run.message else f"not checked ({run.status})"


def visible_files(assignment: Assignment, submission: Submission | None) -> tuple[str, ...]:
    """What a sandbox shows in its working folder, besides the allow-listed installation: the
    assignment's ``data/`` folder, and a folder submission's other files (its helper modules)."""
    return sandbox_layout(submission, assignment.data)
