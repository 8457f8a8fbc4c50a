"""The warm process: imports torch and the assignment's probes once, then forks one sandbox per
submission, so no submission pays torch's import.

Protocol (JSON lines): the judge writes a request on stdin, the server answers on stdout. The
student's observations never pass through this process's memory: they are spliced, inside the
kernel, from the sandbox's pipe into the result file the judge named. Run as
``python -m grader.sandbox.forkserver TEST_FILE...``; the judge starts it (see :mod:`grader.sandbox.pool`).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import json
import os
import select
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO

from grader.sandbox import isolation
from grader.api import probes_of
from grader.notebook import MAX_SOURCE_BYTES
from grader.sandbox.process import run_sandbox

OUTPUT_KEEP = 16 * 1024  # bytes of the student's printed output kept, head and tail each
RESULT_CAP = 512 * 1024 * 1024
GRACE_SECONDS = 2.0
def load_probes(test_files: list[str]) -> dict[str, Any]:
    probes: dict[str, Any] = {}
    for index, path in enumerate(test_files):
        spec = importlib.util.spec_from_file_location(f"grader_probes_{index}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, probe in probes_of(module).items():
            if name in probes:
                raise SystemExit(f"probe {name} is defined twice in the assignment's tests")
            probes[name] = probe
    return probes


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.sandbox.forkserver")
    parser.add_argument("test_files", nargs="+", help="the assignment's test files (their probes)")
    parser.add_argument("--no-namespaces", action="store_true", help="the weaker fallback sandbox")
    parser.add_argument("--preload", default="", help="modules to import once, comma-separated")
    options = parser.parse_args()
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # nothing but the protocol may reach the judge
    import torch  # noqa: F401 - warm: every sandbox forks with torch imported

    import grader.sandbox.child  # noqa: F401
    import grader.sandbox.wire  # noqa: F401

    for module in filter(None, options.preload.split(",")):
        try:
            importlib.import_module(module)  # e.g. torch._dynamo: every optimizer imports it (2-3 s)
        except ImportError:
            pass
    _warm_up_notebook_reading()
    probes = load_probes(options.test_files)
    if options.no_namespaces:
        namespaces, why = False, "turned off"
    else:
        namespaces, why = isolation.namespaces_supported()
    hello = {"ready": True, "probes": sorted(probes), "namespaces": namespaces, "why": why}
    gc.freeze()  # the warm objects: no collection in a sandbox walks (and so copies) their pages
    serve_forever(sys.stdin.buffer, protocol_out, hello, probes, namespaces)
    os._exit(0)  # nothing left to clean up; tearing down torch's modules would take a second or two


def serve_forever(requests: BinaryIO, responses: BinaryIO, hello: dict, probes: dict,
                  namespaces: bool) -> None:
    """Answer requests until the judge closes its end: grade one submission, or clone myself."""
    if not namespaces:  # orphans of a sandbox become our children, to be killed at its end
        isolation.become_subreaper()
    _send(responses, hello)
    for line in requests:
        request = json.loads(line)
        try:
            if "clone" in request:
                response = _clone(request["clone"], hello, probes, namespaces, (requests, responses))
            else:
                response = serve(request, probes, namespaces)
        except Exception as error:  # a fault of the grader, reported per submission
            response = {"fault": f"{type(error).__name__}: {error}"}
        _send(responses, response)


def _clone(fifos: dict, hello: dict, probes: dict, namespaces: bool,
           mine: tuple[BinaryIO, BinaryIO]) -> dict:
    """Fork another warm server that talks through two named pipes: torch is imported only once."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the clone; ends when the judge closes its pipe
        try:
            isolation.die_with_parent()
            for stream in mine:
                stream.close()
            with open(fifos["input"], "rb") as requests, open(fifos["output"], "wb", buffering=0) as responses:
                serve_forever(requests, responses, hello, probes, namespaces)
        finally:
            os._exit(0)
    _clones.add(pid)
    return {"cloned": pid}


def _warm_up_notebook_reading() -> None:
    """Pay nbformat's and IPython's one-time set-up (about 90 ms) here, not in every sandbox."""
    import nbformat

    from grader.notebook import cells_of

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\nx = 1")])
    cells_of(nbformat.writes(notebook).encode(), "ipynb", "warm-up.ipynb")


def _send(stream: BinaryIO, message: dict) -> None:
    stream.write(json.dumps(message).encode() + b"\n")


def serve(request: dict, probes: dict, namespaces: bool) -> dict:
    """Run one submission in a fresh sandbox; return how it ended."""
    source_path = request["source"]
    try:
        with open(source_path, "rb") as handle:
            source = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as error:
        return {"refused": f"cannot read {Path(source_path).name}: {error.strerror}"}
    if len(source) > MAX_SOURCE_BYTES:
        return {"refused": f"{Path(source_path).name} is larger than {MAX_SOURCE_BYTES >> 20} MB"}
    # Under /tmp whatever TMPDIR says: the sandbox either mounts a fresh /tmp or keeps it visible,
    # while a TMPDIR elsewhere may lie in a folder the sandbox hides.
    scratch = tempfile.mkdtemp(prefix="grader-scratch-", dir="/tmp")
    result_r, result_w = os.pipe()
    output_r, output_w = os.pipe()
    control_r, control_w = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the sandbox; reports through its pipes
        os.close(result_r), os.close(output_r), os.close(control_r)
        run_sandbox(request, source, probes, namespaces, scratch, result_w, output_w, control_w)
    for fd in (result_w, output_w, control_w):
        os.close(fd)
    try:
        with open(request["result"], "wb") as result_file:
            ended = _supervise(pid, result_r, output_r, control_r, result_file,
                               deadline=started + request["timeout"] + GRACE_SECONDS)
        if not namespaces:  # in a PID namespace, everything the student started died with it
            _kill_orphans()
    finally:
        for fd in (result_r, output_r, control_r):
            os.close(fd)
        _remove_tree(scratch)
    ended["seconds"] = time.monotonic() - started
    return ended


def _supervise(pid: int, result_r: int, output_r: int, control_r: int, result_file: BinaryIO,
               deadline: float) -> dict:
    head, tail, dropped = bytearray(), bytearray(), 0
    control, result_bytes, student_pid = b"", 0, None
    open_fds = {result_r, output_r, control_r}
    timed_out = too_large = False
    exit_deadline = None
    while open_fds:
        now = time.monotonic()
        limit = deadline if exit_deadline is None else min(deadline, exit_deadline)
        if now >= limit:
            timed_out = exit_deadline is None
            break
        ready, _, _ = select.select(list(open_fds), [], [], limit - now)
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
                chunk = os.read(output_r, 1 << 16)
                if not chunk:
                    open_fds.discard(fd)
                elif len(head) < OUTPUT_KEEP:
                    head += chunk
                else:
                    tail = (tail + chunk)[-OUTPUT_KEEP:]
                    dropped += len(chunk)
            else:
                chunk = os.read(control_r, 4096)
                control += chunk
                if not chunk:
                    open_fds.discard(fd)
                    exit_deadline = time.monotonic() + 0.5  # drain what is left, briefly
                student_pid = _student_pid(control) or student_pid
    for target in (student_pid, pid):
        if target:
            _kill(target)
    _, status = os.waitpid(pid, 0)
    report = _control_report(control)
    output = bytes(head).decode("utf-8", "replace")
    if tail:
        skipped = max(0, dropped - len(tail))
        output += f"\n[... {skipped} bytes of output skipped ...]\n" + bytes(tail).decode("utf-8", "replace")
    return {
        "timed_out": timed_out,
        "too_large": too_large,
        "exit_status": report.get("exit"),
        "setup_failure": report.get("fail"),
        "output": output,
    }


def _student_pid(control: bytes) -> int | None:
    for line in control.decode(errors="replace").splitlines():
        if line.startswith("pid "):
            return int(line.split()[1])
    return None


def _control_report(control: bytes) -> dict:
    report: dict[str, Any] = {}
    for line in control.decode(errors="replace").splitlines():
        key, _, value = line.partition(" ")
        report[key] = int(value) if key == "exit" else value
    return report


def _kill(pid: int) -> None:
    for target in (-pid, pid):
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


_clones: set[int] = set()


def _kill_orphans() -> None:
    """Kill whatever a sandbox left behind (only reaches us without a PID namespace)."""
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in _clones:
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = handle.read().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        if parent == me:
            _kill(int(entry))
            try:
                os.waitpid(int(entry), 0)
            except ChildProcessError:
                pass


def _remove_tree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
