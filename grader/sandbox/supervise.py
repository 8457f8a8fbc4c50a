"""Watching one sandbox to its end, in the warm server: its results and printed output moved
by ``splice`` (never read into the server: every later sandbox is a copy of its memory), its
limits enforced (CPU time with a cgroup, else wall time; the size of its results), and how it
ended, with the times its own processes marked (see :mod:`grader.sandbox.process`).
"""

from __future__ import annotations

import os
import select
import signal
import time
from typing import Any, BinaryIO

from grader.sandbox import cgroups
from grader.sandbox.child import WALL_FACTOR  # wall time may be this many times the CPU limit
from grader.sandbox.protocol import OUTPUT_KEEP, SandboxEnded

TAIL_FILE_BYTES = 1024 * 1024  # each of the two files the tail of printed output takes turns in
RESULT_CAP = 64 * 1024 * 1024  # bytes of results a sandbox may write; past it, it is killed
GRACE_SECONDS = 2.0
POLL_SECONDS = 0.25  # how often a sandbox's CPU time is read


class PrintedOutput:
    """A sandbox's printed output, spliced (never read into this process) into files beside its
    result file: the first ``OUTPUT_KEEP`` bytes, then two files taking turns for the tail, each
    up to ``TAIL_FILE_BYTES`` (the newer one and the one before it hold at least the last
    ``OUTPUT_KEEP`` bytes). A flood moves a whole pipe's worth per call, as a read would."""

    def __init__(self, base: str) -> None:
        self.paths = [f"{base}.out", f"{base}.tail0", f"{base}.tail1"]
        self.files: list[int | None] = [None, None, None]
        self.sizes = [0, 0, 0]
        self.current = 0  # the file being written: 0 (head), then 1 and 2 in turn
        self.total = 0

    def move(self, pipe: int) -> int:
        """Splice what ``pipe`` holds (up to the current file's room); 0 at its end."""
        if self.sizes[self.current] >= (OUTPUT_KEEP if self.current == 0 else TAIL_FILE_BYTES):
            self.current = 1 if self.current != 1 else 2
            if self.files[self.current] is not None:
                os.ftruncate(self.files[self.current], 0)
                os.lseek(self.files[self.current], 0, os.SEEK_SET)
                self.sizes[self.current] = 0
        fd = self.files[self.current]
        if fd is None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = self.files[self.current] = os.open(self.paths[self.current], flags, 0o600)
        room = (OUTPUT_KEEP if self.current == 0 else TAIL_FILE_BYTES) - self.sizes[self.current]
        moved = os.splice(pipe, fd, room)
        self.sizes[self.current] += moved
        self.total += moved
        return moved

    def close(self) -> list[str]:
        """The files in the order :func:`protocol.output_of` reads them: head, older, newer tail."""
        for fd in self.files:
            if fd is not None:
                os.close(fd)
        order = [0] + ([2, 1] if self.current == 1 else [1, 2])
        return [self.paths[i] for i in order if self.files[i] is not None]


def watch(pid: int, fds: tuple[int, int, int], result_file: BinaryIO, timeout: float,
               group: cgroups.SandboxGroup | None, started: float, printed: PrintedOutput,
               ended_at: int | None = None) -> SandboxEnded:
    """Splice the sandbox's results and output until it ends, or kill it at its limits: its CPU
    time (with a cgroup; wall time may then be ``WALL_FACTOR`` times longer) or its wall time.
    It has ended when its first process closes the control pipe (once the student's process has
    ended) or, for a sandbox of one process (``ended_at``: its pidfd), when that process ends: its
    control pipe closes before the submission runs."""
    result_r, output_r, control_r = fds
    control, result_bytes, student_pid = b"", 0, None
    open_fds = {result_r, output_r, control_r} | ({ended_at} if ended_at is not None else set())
    timed_out = too_large = False
    exited = False
    wall_limit = started + (timeout * WALL_FACTOR if group else timeout) + GRACE_SECONDS
    exit_deadline = None
    while open_fds:
        now = time.monotonic()
        limit = wall_limit if exit_deadline is None else min(wall_limit, exit_deadline)
        if now >= limit or (group and exit_deadline is None and group.cpu_seconds() > timeout + GRACE_SECONDS):
            timed_out = exit_deadline is None
            break
        wait = min(limit - now, POLL_SECONDS) if group else limit - now
        ready, _, _ = select.select(list(open_fds), [], [], wait)
        for fd in ready:
            if fd == result_r:
                moved = os.splice(result_r, result_file.fileno(), 1 << 20)
                result_bytes += moved
                if moved == 0:
                    open_fds.discard(fd)
                elif result_bytes > RESULT_CAP:
                    too_large = True
                    open_fds.clear()
            elif fd == output_r:
                if not printed.move(output_r):
                    open_fds.discard(fd)
            elif fd == ended_at:
                open_fds.discard(fd)
                exited = True
                exit_deadline = time.monotonic() + 0.5  # drain what is left, briefly
            else:
                chunk = os.read(control_r, 4096)
                control += chunk
                if not chunk:
                    open_fds.discard(fd)
                    if ended_at is None:
                        exit_deadline = time.monotonic() + 0.5  # drain what is left, briefly
                student_pid = _student_pid(control) or student_pid
    for target in (student_pid, pid):
        if target:
            kill(target)
    _, status = os.waitpid(pid, 0)
    report = _control_report(control)
    if ended_at is not None:  # the one process's own wait status, when it ended on its own
        report["exit"] = status if exited else None
    return SandboxEnded(timed_out=timed_out, too_large=too_large, exit_status=report.get("exit"),
                        setup_failure=report.get("fail"), output_files=printed.close(),
                        output_total=printed.total,
                        cpu_seconds=group.cpu_seconds() if group else None,
                        phases=_phases(report, started))


def _phases(report: dict, forked: float) -> dict[str, float]:
    """Seconds from the fork until the sandbox's first process ran, and from then until the
    student's process was locked down (the marks they wrote before any submission's code ran)."""
    try:
        running, locked = float(report["running"]), float(report["locked"])
    except (KeyError, ValueError):
        return {}
    return {"fork": running - forked, "isolation": locked - running}


def _student_pid(control: bytes) -> int | None:
    for line in control.decode(errors="replace").splitlines():
        if line.startswith("pid "):
            return int(line.split()[1])
    return None


def _control_report(control: bytes) -> dict:
    report: dict[str, Any] = {}
    for line in control.decode(errors="replace").splitlines():
        key, _, value = line.partition(" ")
        if key in report:  # the first line of each kind is the sandbox's own
            continue
        report[key] = int(value) if key == "exit" and value.lstrip("-").isdigit() else value
    return report


def kill(pid: int) -> None:
    for target in (-pid, pid):
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
