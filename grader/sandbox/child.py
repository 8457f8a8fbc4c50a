"""What runs inside the sandbox: the student's cells, then the probes, results as frames.

Every cell runs even when an earlier one raised, so a student keeps the credit for what works.
A cell or a probe that runs too long is interrupted by an alarm (and, should the student's code
swallow it, the fork server kills the whole sandbox at the hard limit).
"""

from __future__ import annotations

import linecache
import os
import signal
import sys
import time
import traceback
import types
from collections.abc import Callable
from typing import Any

from grader.intake.notebook import Cell, NotebookError, Shell, cells_of
from grader.sandbox.headless import (
    defined_names,
    make_plots_headless,
    missing_module,
    plain_words,
    stand_in_for_marimo,
)
from grader.sandbox.wire import WireError, encode_frame

ALARM_REPEAT = 0.5  # seconds: a swallowed SoftTimeout is raised again until the code stops


class SoftTimeout(BaseException):
    """Raised by the alarm when a cell or a probe runs past its share of the time limit."""


def arm_alarm(seconds: float) -> None:
    """Stop the running code after ``seconds`` of its own CPU time (so that a busy neighbour
    cannot cost it its result), or ``WALL_FACTOR`` times that of wall time (code that sleeps)."""
    if not hasattr(signal, "setitimer"):  # Windows (grader check's plain process): no alarms
        return
    signal.setitimer(signal.ITIMER_PROF, seconds, ALARM_REPEAT if seconds else 0)
    signal.setitimer(signal.ITIMER_REAL, seconds * WALL_FACTOR, ALARM_REPEAT if seconds else 0)


WALL_FACTOR = 3.0  # as the fork server's hard limit: wall time may be this many times the CPU limit


def _on_alarm(signum: int, frame: Any) -> None:
    raise SoftTimeout


def run_submission(
    source: bytes,
    kind: str,
    name: str,
    probes: dict[str, Callable],
    result_fd: int,
    device: str,
    timeout: float,
    gpu_memory_fraction: float | None = None,
) -> None:
    """Load the submission, run every probe on it, and write one frame per step to ``result_fd``."""
    import torch

    torch.set_num_threads(1)
    if device.startswith("cuda") and gpu_memory_fraction:  # one student cannot starve the others
        torch.cuda.set_per_process_memory_fraction(gpu_memory_fraction)
    for alarm in ("SIGALRM", "SIGPROF"):  # where the platform has them
        if hasattr(signal, alarm):
            signal.signal(getattr(signal, alarm), _on_alarm)
    started = time.monotonic()
    try:
        cells = cells_of(source, kind, name)
    except NotebookError as error:
        _write(result_fd, encode_frame("load", error={"type": "NotebookError", "message": str(error)}))
        return
    marimo = stand_in_for_marimo(source)  # `mo.md(...)` cells: nothing, not a NameError each
    namespace, notes, cell_errors = _run_cells(cells, kind, budget=timeout * 0.5)
    if marimo:
        notes.append(marimo)
    _write(
        result_fd,
        encode_frame("load", value={"cells": len(cells), "errors": cell_errors, "notes": notes},
                     seconds=time.monotonic() - started),
    )
    torch_device = torch.device(device)
    probe_budget = max(1.0, timeout * 0.4 / max(1, len(probes)))
    for probe_name, probe in sorted(probes.items()):
        _write(result_fd, run_probe(probe_name, probe, namespace, torch_device, probe_budget))
    _write(result_fd, encode_frame("done", seconds=time.monotonic() - started))


def _run_cells(cells: list[Cell], kind: str, budget: float) -> tuple[dict, list[str], list[dict]]:
    module = types.ModuleType("__main__" if kind == "ipynb" else "submission")
    sys.modules[module.__name__] = module
    namespace = module.__dict__
    shell = Shell(namespace)
    namespace["get_ipython"] = lambda: shell
    namespace["__builtins__"] = __builtins__
    errors: list[dict] = []
    deadline = time.process_time() + budget  # CPU time: a busy neighbour costs it nothing
    _student_files.update(cell.filename for cell in cells)
    _cache_lines(cells)
    make_plots_headless()
    for cell in cells:
        remaining = deadline - time.process_time()
        if remaining <= 0:
            errors.append({"cell": cell.number, "type": "SoftTimeout", "not_run": True,
                           "message": "not run: the time limit was used up by earlier cells",
                           "defines": defined_names(cell.source)})
            continue
        try:
            code = _compile(cell.code_text(), cell.filename)
            arm_alarm(remaining)
            try:
                exec(code, namespace)
            finally:
                arm_alarm(0)
        except BaseException as error:  # noqa: B036 - student code may raise anything
            described = describe_exception(error)
            described["message"] = missing_module(error, described["message"])
            if isinstance(error, ModuleNotFoundError) and isinstance(error.name, str):  # grouped by it
                described["module"] = error.name.split(".")[0][:100]
            errors.append({"cell": cell.number, **described, "defines": defined_names(cell.source)})
    return namespace, shell.notes, errors


def _compile(source: str, filename: str) -> Any:
    """``compile``, with null bytes a SyntaxError on every Python 3.11 (3.11.2 raises ValueError)."""
    try:
        return compile(source, filename, "exec")
    except ValueError as error:
        raise SyntaxError(f"{error} (is this file text?)", (filename, 1, 0, "")) from None


def _cache_lines(cells: list[Cell]) -> None:
    """Each file's lines for tracebacks; a script's cells share their file, each at its own lines."""
    lines: dict[str, list[str]] = {}
    for cell in cells:
        file_lines = lines.setdefault(cell.filename, [])
        start = cell.first_line - 1
        cell_lines = cell.source.splitlines(True)
        if len(file_lines) < start + len(cell_lines):
            file_lines.extend("\n" for _ in range(start + len(cell_lines) - len(file_lines)))
        file_lines[start:start + len(cell_lines)] = cell_lines
    for filename, file_lines in lines.items():
        linecache.cache[filename] = (sum(map(len, file_lines)), None, file_lines, filename)


def run_probe(name: str, probe: Callable, namespace: dict, device: Any, budget: float | None) -> bytes:
    """One probe's frame: its observation, or what went wrong. ``budget``: seconds (None: no alarm)."""
    _seed(device)
    try:
        if budget is not None:
            arm_alarm(budget)
        try:
            value = probe(namespace, device)
        finally:
            if budget is not None:
                arm_alarm(0)
        return encode_frame("probe", name, value)
    except WireError as error:
        return encode_frame("probe", name, error={"type": "WireError", "message": str(error)})
    except BaseException as error:  # noqa: B036 - student code may raise anything
        try:
            return encode_frame("probe", name, error=describe_exception(error))
        except BaseException:  # noqa: B036 - even describing it failed (hostile __str__)
            return encode_frame("probe", name, error={"type": "Error", "message": "unprintable"})


def _seed(device: Any) -> None:
    """``torch.manual_seed(0)``, without its lazily queued CUDA, XPU and MTIA seeds on the CPU: each
    records the stack where it was queued (about 2 ms a probe)."""
    import torch

    if getattr(device, "type", "cpu") != "cpu" or torch.cuda.is_initialized():
        torch.manual_seed(0)
    else:
        torch.default_generator.manual_seed(0)


def describe_exception(error: BaseException) -> dict[str, Any]:
    """Type, message and the student's line where it happened (not the grader's frames); for a
    time-out, the line where the code was stopped; for an exception raised by the check's own code
    (no frame of the student's), where in the assignment's test file (``check_file``, ``check_line``)."""
    try:
        message = str(error)[:500]
    except BaseException:  # noqa: B036
        message = "(unprintable message)"
    described: dict[str, Any] = {"type": type(error).__name__[:100], "message": message}
    if isinstance(error, SoftTimeout):
        described["message"] = "ran too long and was stopped"
    elif isinstance(error, MemoryError) or (isinstance(error, RuntimeError)
                                            and "can't allocate memory" in message):
        described = {"type": "MemoryError", "message": "ran out of memory (the sandbox's limit)"}
    elif isinstance(error, Exception):
        translated = plain_words(error, message)
        if translated:
            described.update(type=translated[0], message=translated[1], original=type(error).__name__[:100])
    if isinstance(getattr(error, "missing_name", None), str):  # a ProbeFailure of grader.probing.defined
        described["missing"] = error.missing_name[:200]
    elif isinstance(error, NameError) and isinstance(error.name, str):  # a cell that failed may define it
        described["missing"] = error.name[:200]
    if isinstance(error, SyntaxError) and error.filename in _student_files:
        described.update(message=str(error.msg)[:500], line=error.lineno,
                         text=(error.text or "").strip()[:200])
        return described
    frames = list(traceback.walk_tb(error.__traceback__))
    student_frames = [(f, line) for f, line in frames if _students(f.f_code.co_filename)]
    if student_frames:
        frame, line = student_frames[-1]
        where = frame.f_code.co_filename
        described.update(where=where if where in _student_files else os.path.basename(where), line=line,
                         text=linecache.getline(frame.f_code.co_filename, line).strip()[:200])
    elif frames and isinstance(error, Exception) and type(error).__name__ != "ProbeFailure":
        frame, line = frames[-1]
        if str(frame.f_globals.get("__name__", "")).startswith(PROBE_MODULE_PREFIX):
            filename = frame.f_code.co_filename
            described.update(check_file=os.path.basename(filename), check_line=line,
                             check_text=linecache.getline(filename, line).strip()[:200],
                             check_function=frame.f_code.co_name)
    return described


PROBE_MODULE_PREFIX = "grader_probes_"  # the forkserver's names for the assignment's test modules


_student_files: set[str] = set()  # the filenames the student's cells were compiled under
HELPER_FOLDER = ""  # the working folder: a folder submission's helper modules are imported from it


def _students(filename: str) -> bool:
    """Whether code compiled from ``filename`` is the student's: a cell, or a helper module."""
    return filename in _student_files or bool(HELPER_FOLDER) and os.path.dirname(filename) == HELPER_FOLDER


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
