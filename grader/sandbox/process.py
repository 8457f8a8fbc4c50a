"""The processes of one sandbox, forked from the warm server (see :mod:`grader.sandbox.forkserver`).

The first joins the sandbox's cgroup, enters new mount, PID, network, IPC and UTS namespaces (and,
without root, a user namespace), builds the allow-listed root (:mod:`grader.sandbox.filesystem`)
and forks the second, the student's process: PID 1 of its namespace, so everything it starts dies
with it. That one mounts its ``/proc``, pivots into the new root, gives up root (as root: becomes
an unused uid; in a user namespace: drops every capability), sets ``no_new_privs``, loads the
seccomp filter and runs the submission (:mod:`grader.sandbox.child`). The first waits for it and
reports its PID and exit status to the server.

As root (``direct``), the server forks the sandbox straight into a new PID namespace: its one
process is PID 1 there, does all of the above itself (the same walls, in the same order) and runs
the submission; the server waits for it. One fork and one exit of a torch-warm process less.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from grader.sandbox import filesystem, isolation
from grader.sandbox.cgroups import SandboxGroup
from grader.sandbox.policy import WORKDIR, Policy, data_hint, visible_files
from grader.sandbox.protocol import SandboxRequest

SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
    "OMP_NUM_THREADS": "1",
    "GRADER_SANDBOX": "1",  # check() in a submitted notebook does nothing while it is graded
}
NAMESPACES = (isolation.CLONE_NEWNS | isolation.CLONE_NEWPID | isolation.CLONE_NEWNET
              | isolation.CLONE_NEWIPC | isolation.CLONE_NEWUTS)


@dataclass
class Walls:
    """How this server's sandboxes are built: decided once, when the server starts."""

    mode: str
    """``root`` (the grader is root: namespaces without a user namespace, student as an unused
    uid), ``userns`` (an ordinary user: a user namespace, capabilities dropped) or ``fallback``
    (no namespaces: a process group, rlimits, and the same uid as the grader)."""
    root: str
    """The empty folder each sandbox mounts its new root on (in its own mount namespace)."""
    policies: dict[bool, Policy]
    """The allow-list, without and with a GPU."""
    seccomp: Any = None
    """The seccomp filter to load in each student's process, or None where unavailable."""
    student_uid: int = isolation.SANDBOX_ID

    @property
    def namespaces(self) -> bool:
        return self.mode != "fallback"

    @property
    def direct(self) -> bool:
        """As root, the server forks each sandbox straight into a new PID namespace: one torch-warm
        process a sandbox, not two (a fork and an exit of one cost about 7 ms of CPU). An ordinary
        user's server cannot make a PID namespace: its sandboxes make their own, and fork again."""
        return self.mode == "root"


def run_sandbox(walls: Walls, request: SandboxRequest, source: bytes | int, probes: dict,
                group: SandboxGroup | None, scratch: str, result_w: int, output_w: int,
                control_w: int, student: Any = None, direct: bool = False) -> None:  # pragma: no cover
    """First sandbox process: isolate, then fork the student's process and wait for it.
    ``source``: the submission's bytes, or a descriptor to read them from (here, not in the server).
    ``student``: what the student's process runs instead of a submission (the server's self-test).
    ``direct``: the server forked this process into a new PID namespace already (as root: see
    :attr:`Walls.direct`), so it is PID 1 there and becomes the student's process itself, without
    a second fork; the server waits for it."""
    try:
        os.write(control_w, f"running {time.monotonic()}\n".encode())
        if isinstance(source, int):
            source = _read_source(source)
        os.setsid()
        isolation.die_with_parent()
        if group is not None:
            group.join()
        if walls.mode == "root":
            isolation.unshare(NAMESPACES & ~isolation.CLONE_NEWPID if direct else NAMESPACES)
        elif walls.mode == "userns":
            uid, gid = os.getuid(), os.getgid()
            isolation.unshare(isolation.CLONE_NEWUSER | NAMESPACES)
            isolation.map_user("self", uid, uid, gid, gid)
        if walls.namespaces:
            isolation.mount("none", "/", None, isolation.MS_REC | isolation.MS_PRIVATE)
            gpu = request.device.startswith("cuda")
            filesystem.build_root(walls.root, walls.policies[gpu], request.scratch_bytes,
                                  visible_files(request.files))
        if direct:
            student_process(walls, request, source, probes, scratch, result_w, output_w, student,
                            cpu_counted=group is not None, control_w=control_w, direct=True)
        pid = os.fork()
        if pid == 0:
            student_process(walls, request, source, probes, scratch, result_w, output_w, student,
                            cpu_counted=group is not None, control_w=control_w)
        os.close(result_w), os.close(output_w)
        os.write(control_w, f"pid {pid}\n".encode())
        _, status = os.waitpid(pid, 0)
        os.write(control_w, f"exit {status}\n".encode())
        os._exit(0)
    except BaseException as error:  # noqa: B036
        os.write(control_w, f"fail {type(error).__name__}: {error}\n".encode())
        os._exit(1)


def student_process(walls: Walls, request: SandboxRequest, source: bytes, probes: dict, scratch: str,
                    result_w: int, output_w: int, student: Any = None,
                    cpu_counted: bool = False, control_w: int = -1,
                    direct: bool = False) -> None:  # pragma: no cover
    """The student's process (PID 1 of its namespace): lock down, then run the submission.
    ``cpu_counted``: its cgroup's CPU time is what the server's hard limit counts (else wall time).
    ``control_w``: where it says when it is locked down; closed before the submission runs.
    ``direct``: this is the sandbox's first process too (already its session's leader)."""
    from grader.sandbox import child
    from grader.sandbox.child import run_submission

    if not cpu_counted:  # the server kills at the wall-time limit: the alarms must come first
        child.WALL_FACTOR = 1.0
    code = 0
    try:
        isolation.die_with_parent()
        if request.files:  # read on the host's side of the root, for a failed download's message
            from grader.sandbox import headless

            headless.DATA_FOLDER_HINT = data_hint(request.files)
        if walls.namespaces:
            filesystem.enter_root(walls.root)
            home = WORKDIR
        else:
            os.chdir(scratch)
            home = scratch
        if not direct:
            os.setsid()  # its own process group: kill(0, ...) cannot reach the first sandbox process
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        for fd in _open_fds():
            if fd > 2 and fd not in (result_w, control_w):
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.environ.clear()
        os.environ.update(SANDBOX_ENV, HOME=home, TMPDIR=home)
        if request.gpu is not None:  # before CUDA starts, which only ever happens here
            os.environ["CUDA_VISIBLE_DEVICES"] = str(request.gpu)
        # Without a cgroup, a user namespace of its own counts the sandbox's tasks (Linux 5.14+).
        tasks = isolation.PROCESSES_WITHOUT_CGROUP if walls.mode == "userns" and not cpu_counted else None
        isolation.limit_resources(request.memory, request.file_bytes,
                                  address_space=request.device == "cpu", processes=tasks)
        if os.getuid() == 0 and walls.mode != "userns":  # real root: become nobody in particular
            isolation.become(walls.student_uid, walls.student_uid)
        elif walls.mode == "userns":
            isolation.drop_capabilities()
        isolation.no_new_privileges()
        if walls.seccomp is not None:
            walls.seccomp.load()
        if control_w >= 0:
            os.write(control_w, f"locked {time.monotonic()}\n".encode())
            os.close(control_w)
        sys.path.insert(0, home)  # a folder submission's helper modules, the assignment's data
        child.HELPER_FOLDER = home
        if student is not None:
            student(result_w)
        else:
            run_submission(source, request.kind, request.name, probes, result_w, request.device,
                           request.timeout, request.gpu_memory_fraction)
    except BaseException:  # noqa: B036 - a fault of the sandbox set-up, shown in the output
        import traceback

        traceback.print_exc()
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _read_source(fd: int) -> bytes:  # pragma: no cover - in the sandbox
    from grader.intake.notebook import MAX_SOURCE_BYTES

    chunks, size = [], 0
    while size <= MAX_SOURCE_BYTES:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    os.close(fd)
    return b"".join(chunks)[:MAX_SOURCE_BYTES]


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 256))
