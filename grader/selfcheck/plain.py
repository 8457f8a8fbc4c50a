"""Public checks where the sandbox cannot run (macOS, Windows: see :mod:`grader.selfcheck.platforms`): the
student's file and the release's public probes in a plain child process with a time limit, its
observations judged as usual. Student code then runs as the student, which is their own machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def check_plainly(release, submission, frames: Path, timeout: float, device: str):
    """Where the sandbox cannot run: the file and the probes in a plain process, time-limited."""
    from grader.grading.runs import Run, run_from_response
    from grader.sandbox.protocol import SandboxEnded

    if submission.problem or submission.path is None:
        return Run(submission, status="error", message=submission.problem or "no file to check")
    command = [sys.executable, "-m", "grader.selfcheck.plain", str(submission.path), str(frames),
               device, str(timeout), *map(str, release.test_files)]
    env = {**os.environ, "MPLBACKEND": "Agg", "GRADER_SANDBOX": "plain"}
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=timeout, env=env,
                              cwd=submission.path.parent)
        ended: dict[str, Any] = {"output": (done.stdout + done.stderr)[-4000:]}
    except subprocess.TimeoutExpired:
        ended = {"timed_out": True}
    return run_from_response(submission, SandboxEnded(**ended), frames, timeout)


def run_plain(file: Path, frames: Path, device: str, timeout: float, test_files: list[Path]) -> None:
    """``python -m grader.selfcheck.plain FILE FRAMES DEVICE TIMEOUT TEST...``: what the sandbox's
    student process runs (:func:`grader.sandbox.child.run_submission`), without the sandbox."""
    from grader.sandbox import child
    from grader.selfcheck.runner import load_probes

    child.WALL_FACTOR = 1.0  # the parent kills at the wall-time limit: the alarms must come first

    kind = "ipynb" if file.suffix == ".ipynb" else "py"
    with open(frames, "wb") as out:
        child.run_submission(file.read_bytes(), kind, file.name, load_probes(tuple(test_files)), out.fileno(),
                       device, timeout)

if __name__ == "__main__":
    if len(sys.argv) < 6:
        print("usage: python -m grader.selfcheck.plain FILE FRAMES DEVICE TIMEOUT TEST...", file=sys.stderr)
        sys.exit(2)
    run_plain(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], float(sys.argv[4]),
              [Path(p) for p in sys.argv[5:]])
