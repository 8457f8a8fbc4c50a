"""Public checks where the sandbox cannot run (macOS, Windows: see :mod:`grader.selfcheck.platforms`): the
student's file and the release's public probes in a plain child process with a time limit, its
observations judged as usual. Student code then runs as the student, which is their own machine.

Its working folder is laid out as the sandbox's (:func:`grader.sandbox.policy.visible_files`): the
release's ``data/`` (and each of its files by name) and a folder submission's own files, linked (or
copied where links cannot be made), so that a path that works here works when graded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def check_plainly(release, submission, frames: Path, timeout: float, device: str,
                  files: tuple[str, ...] = ()):
    """Where the sandbox cannot run: the file and the probes in a plain process, time-limited, in
    a working folder beside ``frames`` that shows ``files`` as the sandbox does."""
    from grader.grading.runs import Run, run_from_response
    from grader.sandbox.protocol import SandboxEnded

    if submission.problem or submission.path is None:
        return Run(submission, status="error", message=submission.problem or "no file to check")
    workdir = working_folder(frames.parent / "work", files)
    command = [sys.executable, "-m", "grader.selfcheck.plain", str(submission.path.absolute()),
               str(frames.absolute()), device, str(timeout), *(str(p.absolute()) for p in release.test_files)]
    env = {**os.environ, "MPLBACKEND": "Agg", "GRADER_SANDBOX": "plain"}
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=timeout, env=env, cwd=workdir)
        ended: dict[str, Any] = {"output": (done.stdout + done.stderr)[-4000:]}
    except subprocess.TimeoutExpired:
        ended = {"timed_out": True}
    return run_from_response(submission, SandboxEnded(**ended), frames, timeout)


def working_folder(folder: Path, files: tuple[str, ...]) -> Path:
    """``folder``, made, holding what the sandbox's working folder shows (``files``, as a request
    names them): a link to each, or a copy where this system cannot make links (Windows without
    the privilege)."""
    from grader.sandbox.policy import WORKDIR, visible_files

    folder.mkdir(parents=True, exist_ok=True)
    for host, inside in visible_files(files):
        target = folder / inside.removeprefix(WORKDIR + "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(host, target, target_is_directory=os.path.isdir(host))
        except (OSError, NotImplementedError):
            if os.path.isdir(host):
                shutil.copytree(host, target, symlinks=False, dirs_exist_ok=True)
            else:
                shutil.copyfile(host, target)
    return folder


def run_plain(file: Path, frames: Path, device: str, timeout: float, test_files: list[Path]) -> None:
    """``python -m grader.selfcheck.plain FILE FRAMES DEVICE TIMEOUT TEST...``: what the sandbox's
    student process runs (:func:`grader.sandbox.child.run_submission`), without the sandbox."""
    from grader.sandbox import child
    from grader.selfcheck.probes import load_probes

    child.WALL_FACTOR = 1.0  # the parent kills at the wall-time limit: the alarms must come first
    child.HELPER_FOLDER = os.getcwd()  # the working folder: a folder submission's helper modules

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
