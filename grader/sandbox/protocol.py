"""The messages between the judge (:mod:`grader.sandbox.pool`) and a warm server
(:mod:`grader.sandbox.forkserver`), written once and used by both sides: one JSON line each.

judge -> server: :class:`SandboxRequest` (run one submission) or :class:`CloneRequest`.
server -> judge: :class:`Hello` once, then one :class:`SandboxEnded` or :class:`Cloned` per request.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class SandboxRequest:
    """Run one submission in a fresh sandbox."""

    source: Path
    """The submission's file; the server reads it (never following a link) and passes its bytes."""
    kind: str
    """``ipynb`` or ``py``."""
    name: str
    """The file name shown in messages and tracebacks."""
    result: Path
    """Where the server writes the sandbox's result frames (the judge's private folder)."""
    timeout: float
    """Seconds of the sandbox's CPU time (and, more loosely, of wall time) before it is stopped."""
    memory: int
    """Bytes the whole sandbox may hold (its processes and its tmpfs; per process without cgroups)."""
    device: str
    """``cpu`` or ``cuda``: where probes put tensors; on ``cuda`` the GPU's device files are shown."""
    files: tuple[str, ...] = ()
    """Host files or folders shown read-only in the working folder (an assignment's data, a folder
    submission's helper modules): each folder's entries, links left out."""
    file_bytes: int = 64 * 1024 * 1024
    """The largest file the sandbox may write."""
    scratch_bytes: int = 256 * 1024 * 1024
    """Size of the private tmpfs: ``/tmp`` (the working folder) and ``/dev/shm`` together."""
    processes: int = 128
    """Tasks (processes and threads) the sandbox may have at once, where cgroups are available."""
    gpu: int | None = None
    """Which GPU the sandbox may see (``CUDA_VISIBLE_DEVICES``), on CUDA."""
    gpu_memory_fraction: float = 0.9
    """Of that GPU's memory, the most its allocator may take."""


@dataclass(frozen=True)
class CloneRequest:
    """Fork another warm server that talks through these two named pipes."""

    input: str
    """The FIFO the clone reads requests from."""
    output: str
    """The FIFO the clone writes responses to."""


@dataclass(frozen=True)
class Hello:
    """The server is warm and ready, and says what its sandboxes are."""

    probes: list[str]
    """The probes it loaded from the assignment's tests."""
    namespaces: bool
    """Whether sandboxes get the full isolation (namespaces, allow-listed root)."""
    why: str
    """Why not, when they do not."""
    protections: dict[str, bool] = field(default_factory=dict)
    """Each protection (see :data:`grader.sandbox.selftest.PROTECTIONS`), measured in a real sandbox."""
    details: dict[str, str] = field(default_factory=dict)
    """For each protection, what was measured (or why it is missing)."""
    ready: bool = True
    started: dict[str, float] = field(default_factory=dict)
    """When each step of its start-up ended (``time.monotonic()``, one clock for the machine):
    ``python`` (its own code began), ``torch``, ``preload``, ``warm_up``, ``probes``, ``self_test``."""


@dataclass(frozen=True)
class Cloned:
    pid: int
    """The clone's process id."""


@dataclass
class SandboxEnded:
    """How one sandbox ended. Its observations are in the request's result file."""

    timed_out: bool = False
    """It ran past its time limit and was killed."""
    too_large: bool = False
    """Its results passed the size cap; it was killed."""
    exit_status: int | None = None
    """The student process's wait status, when it ended on its own."""
    setup_failure: str | None = None
    """The sandbox could not be set up (a fault of the machine or the grader, not the student)."""
    out_of_memory: bool = False
    """The kernel killed it for passing its cgroup's memory limit."""
    output: str = ""
    """What it printed, capped: head and tail (filled in on the judge's side by :func:`output_of`)."""
    output_files: list[str] = field(default_factory=list)
    """Where the server spliced what it printed: the head, then the older and newer tail files.
    The server never reads them (no student's bytes in the memory sandboxes are forked from)."""
    output_total: int = 0
    """Bytes it printed in all."""
    seconds: float = 0.0
    """Wall-clock time, fork to end."""
    cpu_seconds: float | None = None
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds of each step before the submission ran, as the sandbox's own processes measured
    them: ``fork`` (until its first process ran), ``isolation`` (cgroup, namespaces, root, the
    student's process forked and locked down)."""
    """CPU time of the whole sandbox (with cgroups)."""
    refused: str | None = None
    """The submission was not run: why (unreadable, a link, too large)."""
    fault: str | None = None
    """The server failed on this request (a grader bug)."""


def encode(message: Any) -> bytes:
    fields = dataclasses.asdict(message)
    return json.dumps({"type": type(message).__name__, **_plain(fields)}).encode() + b"\n"


def decode(line: bytes, expected: type[T]) -> T:
    """Parse one line as ``expected``; fields it does not know are ignored."""
    data = json.loads(line)
    if not isinstance(data, dict) or data.get("type") != expected.__name__:
        raise ValueError(f"expected a {expected.__name__} message, got {str(data)[:200]}")
    known = {f.name: f for f in dataclasses.fields(expected)}  # type: ignore[arg-type]
    values = {k: v for k, v in data.items() if k in known}
    if expected is SandboxRequest:
        values["source"], values["result"] = Path(values["source"]), Path(values["result"])
        values["files"] = tuple(values.get("files", ()))
    return expected(**values)


def message_type(line: bytes) -> str:
    data = json.loads(line)
    return str(data.get("type", "")) if isinstance(data, dict) else ""


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


OUTPUT_KEEP = 16 * 1024  # bytes of the student's printed output kept, head and tail each


def output_of(ended: SandboxEnded) -> str:
    """The printed output the server spliced into ``ended.output_files`` (head, older tail, newer
    tail), as head and tail with what was skipped between them; the files are removed."""
    parts = []
    for index, path in enumerate(ended.output_files):
        try:
            with open(path, "rb") as handle:
                if index:  # a tail file: its last OUTPUT_KEEP bytes are all that can be needed
                    handle.seek(max(0, os.fstat(handle.fileno()).st_size - OUTPUT_KEEP))
                parts.append(handle.read(OUTPUT_KEEP))
            os.unlink(path)
        except OSError:
            parts.append(b"")
    if not parts:
        return ended.output
    head, tail = parts[0][:OUTPUT_KEEP], b"".join(parts[1:])[-OUTPUT_KEEP:]
    text = head.decode("utf-8", "replace")
    if tail:
        skipped = max(0, ended.output_total - len(head) - len(tail))
        text += f"\n[... {skipped} bytes of output skipped ...]\n" + tail.decode("utf-8", "replace")
    return text
