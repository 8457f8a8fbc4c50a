"""Public checks where the sandbox cannot run (macOS, Windows: see :mod:`grader.platforms`): the
student's file and the release's public probes in a plain child process with a time limit, its
observations judged as usual. Student code then runs as the student, which is their own machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def check_plainly(release, submission, frames: Path, timeout: float, device: str):
    """Where the sandbox cannot run: the file and the probes in a plain process, time-limited."""
    from grader.runs import Run, run_from_response
    from grader.sandbox.protocol import SandboxEnded

    if submission.problem or submission.path is None:
        return Run(submission, status="error", message=submission.problem or "no file to check")
    command = [sys.executable, "-m", "grader.plain_check", str(submission.path), str(frames),
               device, *map(str, release.test_files)]
    env = {**os.environ, "MPLBACKEND": "Agg", "GRADER_SANDBOX": "plain"}
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=timeout, env=env,
                              cwd=submission.path.parent)
        ended: dict[str, Any] = {"output": (done.stdout + done.stderr)[-4000:]}
    except subprocess.TimeoutExpired:
        ended = {"timed_out": True}
    return run_from_response(submission, SandboxEnded(**ended), frames, timeout)


def run_plain(file: Path, frames: Path, device: str, test_files: list[Path]) -> None:
    """``python -m grader.plain_check FILE FRAMES DEVICE TEST...``: load, probe, write frames."""
    import types

    import torch

    from grader.notebook import NotebookError, Shell, cells_of
    from grader.sandbox.wire import encode_frame
    from grader.selfcheck import _describe, load_probes, run_probe

    kind = "ipynb" if file.suffix == ".ipynb" else "py"
    with open(frames, "wb") as out:
        started = time.monotonic()
        try:
            cells = cells_of(file.read_bytes(), kind, file.name)
        except NotebookError as error:
            out.write(encode_frame("load", error={"type": "NotebookError", "message": str(error)}))
            return
        module = types.ModuleType("__main__" if kind == "ipynb" else "submission")
        sys.modules[module.__name__] = module
        namespace = module.__dict__
        shell = Shell(namespace)
        namespace["get_ipython"] = lambda: shell
        errors = []
        for cell in cells:
            try:
                exec(compile(cell.source, cell.filename, "exec"), namespace)
            except Exception as error:  # noqa: BLE001 - the student's code may raise anything
                errors.append({"cell": cell.number, **_describe(error)})
        out.write(encode_frame("load", value={"cells": len(cells), "errors": errors, "notes": shell.notes}))
        out.flush()
        for name, probe in sorted(load_probes(tuple(test_files)).items()):
            out.write(run_probe(name, probe, namespace, torch.device(device)))
            out.flush()
        out.write(encode_frame("done", seconds=time.monotonic() - started))


if __name__ == "__main__":
    if len(sys.argv) < 5:
        print("usage: python -m grader.plain_check FILE FRAMES DEVICE TEST...", file=sys.stderr)
        sys.exit(2)
    run_plain(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], [Path(p) for p in sys.argv[4:]])
