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
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from grader.intake.notebook import MAX_SOURCE_BYTES
from grader.intake.submissions import open_source
from grader.sandbox import cgroups, isolation, protocol, seccomp, selftest, warm
from grader.sandbox.policy import WORKDIR, python_paths, sandbox_policy, visible_files
from grader.sandbox.probes import load_probes
from grader.sandbox.process import SANDBOX_ENV, Walls, run_sandbox
from grader.sandbox.protocol import (
    Cloned,
    CloneRequest,
    Hello,
    SandboxEnded,
    SandboxRequest,
    output_of,
)
from grader.sandbox.supervise import PrintedOutput, kill, watch


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
        warm.reading(notebooks=not options.no_notebooks)
        started["warm_up"] = time.monotonic()
        server.probes = load_probes(options.test_files)
        started["probes"] = time.monotonic()
        if options.huge_pages:
            warm.huge_pages()
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
                    ended = watch(pid, (result_r, output_r, control_r), result_file,
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
                kill(int(entry))
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


if __name__ == "__main__":
    main()
