"""The two processes of one sandbox, forked from the warm server (see :mod:`grader.sandbox.forkserver`).

The first enters new namespaces (see :mod:`grader.sandbox.isolation`) and forks the second, the student's
process: PID 1 of its namespace, with locked mounts, resource limits, a scrubbed environment,
standard input at end-of-file and its output captured, which runs the submission
(:mod:`grader.sandbox.child`). The first waits for it and reports its PID and exit status to the server.
"""

from __future__ import annotations

import os
import sys

from grader.sandbox import isolation

SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
    "OMP_NUM_THREADS": "1",
    "GRADER_SANDBOX": "1",  # check() in a submitted notebook does nothing while it is graded
}


def run_sandbox(request: dict, source: bytes, probes: dict, namespaces: bool, scratch: str,
                result_w: int, output_w: int, control_w: int) -> None:  # pragma: no cover
    """First sandbox process: isolate, then fork the student's process and wait for it."""
    try:
        os.setsid()
        isolation.die_with_parent()
        if namespaces:
            isolation.enter_namespaces(request["hide"], scratch, request["scratch_bytes"])
        student = os.fork()
        if student == 0:
            student_process(request, source, probes, namespaces, scratch, result_w, output_w)
        os.close(result_w), os.close(output_w)
        os.write(control_w, f"pid {student}\n".encode())
        _, status = os.waitpid(student, 0)
        os.write(control_w, f"exit {status}\n".encode())
        os._exit(0)
    except BaseException as error:  # noqa: B036
        os.write(control_w, f"fail {type(error).__name__}: {error}\n".encode())
        os._exit(1)


def student_process(request: dict, source: bytes, probes: dict, namespaces: bool, scratch: str,
             result_w: int, output_w: int) -> None:  # pragma: no cover
    """The student's process (PID 1 of its namespace): lock down, then run the submission."""
    from grader.sandbox.child import run_submission

    code = 0
    try:
        isolation.die_with_parent()
        if namespaces:
            isolation.lock_namespaces()
        os.setsid()  # its own process group: kill(0, ...) cannot reach the first sandbox process
        os.chdir(scratch)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        for fd in _open_fds():
            if fd > 2 and fd != result_w:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.environ.clear()
        os.environ.update(SANDBOX_ENV, HOME=scratch, TMPDIR=scratch)
        if request.get("gpu") is not None:  # before CUDA starts, which only ever happens here
            os.environ["CUDA_VISIBLE_DEVICES"] = str(request["gpu"])
        isolation.limit_resources(request["memory"], request["file_bytes"],
                                  address_space=request["device"] == "cpu")
        run_submission(source, request["kind"], request["name"], probes, result_w,
                       request["device"], request["timeout"], request.get("gpu_memory_fraction"))
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


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 256))
