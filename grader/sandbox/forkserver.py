"""The warm process: imports torch and the assignment's probes once, then forks one sandbox per
submission, so no submission pays torch's import.

Protocol (:mod:`grader.sandbox.protocol`, JSON lines): the judge writes a request on stdin, the
server answers on stdout. No student's bytes ever pass through this process's memory, which every
later sandbox is forked from (a copy of it): the submission is opened here but read by the sandbox
itself, and what the sandbox writes (its observations, its printed output) is spliced, inside the
kernel, from its pipes into files the judge named and reads (:func:`protocol.output_of`).
Run as ``python -m grader.sandbox.forkserver TEST_FILE...``; the judge starts it
(see :mod:`grader.sandbox.pool`). On start it decides how sandboxes are built (:class:`Walls`) and
measures every protection in a real sandbox (:mod:`grader.sandbox.selftest`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import importlib
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from grader.intake.notebook import MAX_SOURCE_BYTES
from grader.intake.submissions import open_source
from grader.sandbox import cgroups, isolation, protocol, seccomp, selftest
from grader.sandbox.child import WALL_FACTOR  # wall time may be this many times the CPU limit
from grader.sandbox.policy import WORKDIR, python_paths, sandbox_policy, visible_files
from grader.sandbox.probes import load_probes
from grader.sandbox.process import SANDBOX_ENV, Walls, run_sandbox
from grader.sandbox.protocol import (
    OUTPUT_KEEP,
    Cloned,
    CloneRequest,
    Hello,
    SandboxEnded,
    SandboxRequest,
    output_of,
)

TAIL_FILE_BYTES = 1024 * 1024  # each of the two files the tail of printed output takes turns in
RESULT_CAP = 64 * 1024 * 1024  # bytes of results a sandbox may write; past it, it is killed
GRACE_SECONDS = 2.0
POLL_SECONDS = 0.25  # how often a sandbox's CPU time is read


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.sandbox.forkserver")
    parser.add_argument("test_files", nargs="*", help="the assignment's test files (their probes)")
    parser.add_argument("--no-namespaces", action="store_true", help="the weaker fallback sandbox")
    parser.add_argument("--preload", default="", help="modules to import once, comma-separated")
    parser.add_argument("--no-notebooks", action="store_true",
                        help="no notebook is graded: skip warming up nbformat and IPython")
    parser.add_argument("--huge-pages", action="store_true",
                        help="a large class: move this process's memory into huge pages first")
    options = parser.parse_args()
    started = {"python": time.monotonic()}
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # nothing but the protocol may reach the judge
    import torch  # noqa: F401 - warm: every sandbox forks with torch imported

    import grader.sandbox.child  # noqa: F401
    import grader.sandbox.wire  # noqa: F401

    started["torch"] = time.monotonic()
    server = Server({}, options.test_files)
    try:
        # The self-test's sandbox runs on another core while this process imports the rest.
        measured = server.start(namespaces=not options.no_namespaces)
        for module in filter(None, options.preload.split(",")):
            try:
                importlib.import_module(module)  # e.g. torch._dynamo: every optimizer imports it (2-3 s)
            except ImportError:
                pass
        started["preload"] = time.monotonic()
        _warm_up_reading(notebooks=not options.no_notebooks)
        started["warm_up"] = time.monotonic()
        server.probes = load_probes(options.test_files)
        started["probes"] = time.monotonic()
        if options.huge_pages:
            _huge_pages()
            started["huge_pages"] = time.monotonic()
        hello = dataclasses.replace(measured(), started={**started, "self_test": time.monotonic()})
        gc.freeze()  # the warm objects: no collection in a sandbox walks (and so copies) their pages
        server.serve_forever(sys.stdin.buffer, protocol_out, hello)
    finally:
        server.close()
    protocol_out.close()  # all cleaned up: the judge stops waiting here, not for this exit (~30 ms)
    os._exit(0)  # nothing left to clean up; tearing down torch's modules would take a second or two


class Server:
    """One warm server (or a clone of one): how its sandboxes are built, and serving requests."""

    def __init__(self, probes: dict, test_files: list[str]) -> None:
        self.probes, self.test_files = probes, test_files
        self.walls: Walls | None = None
        self.groups: cgroups.BatchGroups | None = None
        self.clones: set[int] = set()
        self.is_clone = False
        self.own_pid_namespace: int | None = None  # as root: sandboxes are forked into new ones

    def start(self, namespaces: bool) -> Callable[[], Hello]:
        """Decide how sandboxes are built here, and measure every protection in a real one: the
        self-test's sandbox is forked now, and the function returned waits for it (trying the
        weaker walls where these cannot be built) and says what was measured, with the probes
        loaded by then."""
        self.groups, no_groups = cgroups.BatchGroups.create()
        uid = isolation.SANDBOX_ID if os.geteuid() == 0 else os.getuid()
        policies = {gpu: sandbox_policy(uid, uid if os.geteuid() == 0 else os.getgid(), gpu)
                    for gpu in (False, True)}
        filter_ = seccomp.build_filter() if seccomp.available() else None
        root = tempfile.mkdtemp(prefix="grader-root-")
        if os.geteuid() == 0 and namespaces:
            with contextlib.suppress(OSError):
                self.own_pid_namespace = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        modes = (["root" if os.geteuid() == 0 else "userns"] if namespaces else []) + ["fallback"]
        self.walls = Walls(modes[0], root, policies, filter_, uid)
        first = self.self_test()

        def measured() -> Hello:
            why = "turned off" if not namespaces else ""
            test = first
            for mode in modes:
                if self.walls is None or self.walls.mode != mode:
                    self.walls = Walls(mode, root, policies, filter_, uid)
                    test = self.self_test()
                measured, failure = test()
                if mode == "fallback" or (failure is None and measured.get("allowlist_fs", (False,))[0]):
                    break
                why = f"the {mode} sandbox cannot be built here: {failure or measured}"
                self.walls = None
            assert self.walls is not None
            details = {name: str(value[1])[:300] for name, value in measured.items()}
            protections = {name: bool(value[0]) for name, value in measured.items()}
            if self.groups is None:
                details["cgroup"] = f"not available: {no_groups}"[:300]
            elif protections.get("cgroup"):
                details["cgroup"] = f"{self.groups.description}: {details.get('cgroup', '')}"
            if filter_ is None:
                details["seccomp"] = "not available: pyseccomp or libseccomp is not installed"
            return Hello(sorted(self.probes), self.walls.namespaces, why, protections, details)

        return measured

    def self_test(self) -> Callable[[], tuple[dict[str, tuple[bool, str]], str | None]]:
        """Fork the self-test's sandbox (every protection, measured from inside); the function
        returned waits for it and reads what it measured."""
        secrets = [str(Path(f).resolve()) for f in self.test_files]
        allowed = set(selftest.TOP_LEVEL) | {p.strip("/").split("/")[0] for p in python_paths()}
        keys = set(SANDBOX_ENV) | {"HOME", "TMPDIR"}
        work = tempfile.mkdtemp(prefix="grader-selftest-")
        request = SandboxRequest(source=Path(work, "none"), kind="py", name="self-test",
                                 result=Path(work, "result"), timeout=10.0, memory=1 << 30,
                                 device="cpu")

        def student(group: cgroups.SandboxGroup | None) -> Any:
            name = os.path.basename(next(iter(group.folders.values()))) if group else None
            return selftest.measure(secrets, allowed, name, keys, request.scratch_bytes)

        try:
            supervise = self.launch(request, b"", student)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise

        def result() -> tuple[dict[str, tuple[bool, str]], str | None]:
            try:
                ended = supervise()
                try:
                    measured = json.loads(Path(request.result).read_text() or "{}")
                except (OSError, ValueError):
                    measured = {}
                output = output_of(ended)  # the self-test's own output: no student's
            finally:
                shutil.rmtree(work, ignore_errors=True)
            failure = ended.setup_failure or (None if measured else f"no result; output: {output[-500:]}")
            return {k: tuple(v) for k, v in measured.items()}, failure

        return result

    def serve_forever(self, requests: BinaryIO, responses: BinaryIO, hello: Hello) -> None:
        """Answer requests until the judge closes its end: grade one submission, or clone myself."""
        if self.walls is not None and not self.walls.namespaces:
            isolation.become_subreaper()  # orphans of a sandbox become our children, to be killed
        responses.write(protocol.encode(hello))
        for line in requests:
            try:
                if protocol.message_type(line) == "CloneRequest":
                    clone = protocol.decode(line, CloneRequest)
                    response: Any = self.clone(clone, hello, (requests, responses))
                else:
                    response = self.serve(protocol.decode(line, SandboxRequest))
            except Exception as error:  # a fault of the grader, reported per submission
                response = SandboxEnded(fault=f"{type(error).__name__}: {error}"[:1000])
            responses.write(protocol.encode(response))

    def clone(self, request: CloneRequest, hello: Hello, mine: tuple[BinaryIO, BinaryIO]) -> Cloned:
        """Fork another warm server that talks through two named pipes: torch is imported only once."""
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the clone; ends when the judge closes its pipe
            try:
                isolation.die_with_parent()
                self.is_clone, self.clones = True, set()
                for stream in mine:
                    stream.close()
                with open(request.input, "rb") as requests, open(request.output, "wb", buffering=0) as out:
                    self.serve_forever(requests, out, hello)
            finally:
                os._exit(0)
        self.clones.add(pid)
        return Cloned(pid)

    def serve(self, request: SandboxRequest) -> SandboxEnded:
        """Run one submission in a fresh sandbox; say how it ended."""
        name = Path(request.source).name
        try:  # opened here, read by the sandbox: its bytes never enter this process's memory
            source = open_source(request.source)
        except OSError as error:
            if error.errno == 40:  # ELOOP: a link
                return SandboxEnded(refused=f"{name} is a link: upload the file itself")
            return SandboxEnded(refused=f"cannot read {name}: {error.strerror}")
        try:
            if os.fstat(source).st_size > MAX_SOURCE_BYTES:
                return SandboxEnded(refused=f"{name} is larger than {MAX_SOURCE_BYTES >> 20} MB")
            return self.run(request, source)
        finally:
            os.close(source)

    def run(self, request: SandboxRequest, source: bytes | int, student: Any = None) -> SandboxEnded:
        """Fork a sandbox for ``request`` and supervise it to its end. ``source``: the submission's
        bytes or a descriptor the sandbox reads them from. ``student``, when given, builds what the
        student's process runs instead of the submission (from its cgroup)."""
        return self.launch(request, source, student)()

    def launch(self, request: SandboxRequest, source: bytes | int,
               student: Any = None) -> Callable[[], SandboxEnded]:
        """Fork a sandbox for ``request`` now; the function returned supervises it to its end
        (what it writes waits in its pipes meanwhile)."""
        walls = self.walls
        assert walls is not None
        group = None
        if self.groups is not None:
            try:
                group = self.groups.sandbox(request.memory, request.processes)
            except OSError:
                group = None
        scratch = ""
        if not walls.namespaces:  # fallback: a private folder stands in for the tmpfs
            scratch = tempfile.mkdtemp(prefix="grader-scratch-")
            if os.geteuid() == 0:
                os.chown(scratch, walls.student_uid, walls.student_uid)
            for host, inside in visible_files(request.files):  # links stand in for the binds
                link = os.path.join(scratch, os.path.relpath(inside, WORKDIR))
                if not os.path.isdir(os.path.dirname(link)):  # data/: readable by the student
                    os.makedirs(os.path.dirname(link))
                    os.chmod(os.path.dirname(link), 0o755)
                os.symlink(host, link)
        runs_instead = student(group) if student is not None else None
        result_r, result_w = os.pipe()
        output_r, output_w = os.pipe()
        control_r, control_w = os.pipe()
        started = time.monotonic()
        direct = walls.direct and self.own_pid_namespace is not None
        if direct:  # the next child is PID 1 of a new PID namespace
            try:
                isolation.unshare(isolation.CLONE_NEWPID)
            except OSError:
                direct = False  # the sandbox makes its own, and forks again
        pid = -1
        try:
            pid = os.fork()
        finally:
            if direct and pid != 0:  # the later children (clones, other sandboxes) are born here again
                isolation.setns(self.own_pid_namespace, isolation.CLONE_NEWPID)
        if pid == 0:  # pragma: no cover - the sandbox; reports through its pipes
            os.close(result_r), os.close(output_r), os.close(control_r)
            run_sandbox(walls, request, source, self.probes, group, scratch, result_w, output_w,
                        control_w, runs_instead, direct)
        for fd in (result_w, output_w, control_w):
            os.close(fd)
        ended_at = os.pidfd_open(pid) if direct else None  # readable once the sandbox has ended

        def supervise() -> SandboxEnded:
            try:
                with open(request.result, "wb") as result_file:
                    ended = _supervise(pid, (result_r, output_r, control_r), result_file,
                                       request.timeout, group, started,
                                       PrintedOutput(str(request.result)), ended_at)
                if not walls.namespaces:  # in a PID namespace, all the student started died with it
                    self.kill_orphans()
            finally:
                for fd in (result_r, output_r, control_r, ended_at):
                    if fd is not None:
                        os.close(fd)
                if group is not None:
                    ended_oom = group.out_of_memory()
                    group.remove()
                if scratch:
                    shutil.rmtree(scratch, ignore_errors=True)
            if group is not None:
                ended.out_of_memory = ended_oom
            ended.seconds = time.monotonic() - started
            return ended

        return supervise

    def kill_orphans(self) -> None:
        """Kill whatever a sandbox left behind (only reaches us without a PID namespace)."""
        me = str(os.getpid())
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in self.clones:
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = handle.read().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            if parent == me:
                _kill(int(entry))
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(int(entry), 0)

    def close(self) -> None:
        """The first server, once the judge is done: wait for the clones, remove what it created."""
        if self.is_clone:
            return
        deadline = time.monotonic() + 5
        for pid in self.clones:
            _wait_for(pid, deadline)
        if self.groups is not None:
            self.groups.remove()
        if self.walls is not None:
            with contextlib.suppress(OSError):
                os.rmdir(self.walls.root)


def _wait_for(pid: int, deadline: float) -> None:
    """Reap the child ``pid`` once it ends, waiting until ``deadline`` at most (woken by its
    pidfd when it ends, not by polling)."""
    try:
        pidfd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        pidfd = None
    try:
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    if pidfd is None:
                        time.sleep(0.01)
                    else:
                        select.select([pidfd], [], [], max(0.0, deadline - time.monotonic()))
                    continue
            return
    finally:
        if pidfd is not None:
            os.close(pidfd)


MADV_HUGEPAGE, MADV_COLLAPSE = 14, 25
HUGE_PAGE = 2 << 20


def _huge_pages() -> None:
    """Move this process's heap and its large anonymous mappings (about 150 MB once torch is
    imported) into transparent huge pages: every sandbox is a fork of this process, and a fork
    copies, and an exit frees, one page-table entry per 4 KB page mapped (about 8 ms of CPU each
    on 2 cores, measured) but one per 2 MB huge page. A copy-on-write fault in a sandbox still
    copies 4 KB (the kernel splits the huge page). Best effort: without ``MADV_COLLAPSE`` (Linux
    6.1) or with transparent huge pages turned off nothing changes. About 0.3 s, once."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    try:
        with open("/proc/self/maps") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return
    for line in lines:
        fields = line.split()
        name = fields[5] if len(fields) > 5 else ""
        if name not in ("", "[heap]") or not fields[1].startswith("rw"):
            continue  # files, stacks, read-only: left as they are
        low, high = (int(bound, 16) for bound in fields[0].split("-"))
        start, end = (low + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), high & ~(HUGE_PAGE - 1)
        if end - start >= HUGE_PAGE:
            libc.madvise(start, end - start, MADV_HUGEPAGE)
            libc.madvise(start, end - start, MADV_COLLAPSE)


def _warm_up_reading(notebooks: bool) -> None:
    """Import here what reading a submission imports (its codec; with ``notebooks``, nbformat's
    and IPython's one-time set-up, about 90 ms), not in every sandbox, where the fallback's student
    may not even read the standard library."""
    from grader.intake.notebook import cells_of

    cells_of(b"x = 1\n", "py", "warm-up.py")
    if notebooks:
        import nbformat

        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\nx = 1")])
        cells_of(nbformat.writes(notebook).encode(), "ipynb", "warm-up.ipynb")


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


def _supervise(pid: int, fds: tuple[int, int, int], result_file: BinaryIO, timeout: float,
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
            _kill(target)
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


def _kill(pid: int) -> None:
    for target in (-pid, pid):
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


if __name__ == "__main__":
    main()
