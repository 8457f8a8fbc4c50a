"""The student's self-check: the public tests of a release, in a notebook or from the command line.

``check("custom_layer")`` / ``check(".")`` inside a notebook runs the public probes on the
notebook's live objects (no saved file needed) and sends their observations, as data, to a judge
process that compares them with the release's reference observations and returns a table. The
judge stays warm for the kernel's life, and the release's probes stay loaded: a second call costs
the probes and a judging, not a Python start. ``grader check RELEASE FILE`` runs the file's cells
and the probes in the sandbox (Linux) or in a plain time-limited process (macOS, Windows: see
:mod:`grader.selfcheck.platforms`), then judges here.

What counts is a *release* (:mod:`grader.authoring.release`): a folder, or a bundled one by name. Given an
assignment folder (an instructor's checkout), the release is made once and cached. The score shown
counts the public tests only: hidden tests count when the work is graded.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.selfcheck.probes import load_probes
from grader.selfcheck.results import CheckResult, footer

JUDGE_TIMEOUT = 300.0  # seconds for one judging in the warm judge


# --- finding the release --------------------------------------------------------------------------


def resolve(name_or_path: str):
    """The release to check against: a release folder, a bundled release, or one made (once, and
    cached) from an assignment folder or a checkout's assignment."""
    from grader.authoring.release import find_release

    found = find_release(name_or_path)
    if found is not None:
        return found
    from grader.authoring.release import is_release, load_release, make_release
    from grader.intake.assignment import find_assignment
    from grader.selfcheck.platforms import sandbox_unavailable

    assignment = find_assignment(name_or_path)
    cached = _cache_dir() / f"{assignment.name}-{assignment.fingerprint}"
    if is_release(cached):
        return load_release(cached)
    if sandbox_unavailable():
        raise GraderError(f"{assignment.name} is an assignment folder, not a release, and its "
                          "reference can only run in the sandbox (Linux): check against its "
                          "release (`grader release` writes one)")
    return make_release(str(assignment.root), cached)


def release_and_question(what: str) -> tuple[Any, str | None]:
    """``what`` as a question of the release in the working folder (then: that release and the
    question), else as a release or assignment (then: its release and None)."""
    from grader.authoring.release import is_release, load_release

    here = Path(".")
    local = load_release(here) if is_release(here) and what != "." else None
    if local is not None and what in local.questions:
        return local, what
    try:
        return resolve(what), None
    except GraderError:
        if local is not None:
            raise GraderError(f"{what!r} is not a question of this release ({', '.join(local.questions)}) "
                              "nor a release: write check() for every question, or check(\"QUESTION\")"
                              ) from None
        raise


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    folder = Path(base) / "grader" / "releases"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    except OSError:
        folder = Path(tempfile.gettempdir()) / f"grader-releases-{os.getuid() if hasattr(os, 'getuid') else 0}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder


# --- probes, run where the student's code is ----------------------------------------------------


def run_probe(name: str, probe: Any, namespace: dict, device: Any) -> bytes:
    """One probe's frame, as the sandbox makes it (seeded as the reference was; no alarm)."""
    from grader.sandbox.child import run_probe as run

    return run(name, probe, namespace, device, None)


# --- check() in a notebook -------------------------------------------------------------------------


def check(assignment: str = ".", namespace: dict[str, Any] | None = None, device: str = "cpu") -> Any:
    """Run the public tests on this notebook's objects and show the results: those of one question
    of the release in the working folder (``check("q1")``), or all of ``assignment`` (a release
    folder, by default the working folder, or a name)."""
    if os.environ.get("GRADER_SANDBOX"):  # the notebook is being graded: the grader checks it
        return None
    import torch

    from grader.sandbox.wire import encode_frame

    namespace = namespace if namespace is not None else _notebook_namespace()
    from grader.probing import reset_decisions

    reset_decisions()  # what grace decided for an earlier check() of this kernel
    release, question = release_and_question(assignment)
    probes = load_probes(release.test_files)
    with tempfile.TemporaryDirectory(prefix="grader-check-") as folder:
        frames = Path(folder) / "observations.bin"
        with open(frames, "wb") as handle, torch.random.fork_rng(devices=[]):  # keep their RNG
            handle.write(encode_frame("load", value={"cells": 1, "errors": [], "notes": []}))
            started = time.monotonic()
            for name, probe in sorted(probes.items()):
                handle.write(run_probe(name, probe, namespace, torch.device(device)))
            handle.write(encode_frame("done", seconds=time.monotonic() - started))
        report = _warm_judge().judge(str(release.root), str(frames))
    if question is not None:
        chosen = set(release.questions[question])
        report = {**report, "tests": [t for t in report["tests"] if t["test"] in chosen],
                  "title": f"{report['title']}, question {question}"}
    from grader.selfcheck.platforms import sandbox_unavailable

    return CheckResult(report, notes=[] if sandbox_unavailable() is None else
                       ["the probes ran in this kernel, not in a sandbox"])


def _notebook_namespace() -> dict[str, Any]:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    import __main__

    return vars(__main__)


class WarmJudge:
    """``python -m grader.selfcheck.runner serve``: a judge process kept for the kernel's life."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.selfcheck.runner", "serve"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.log, text=True, encoding="utf-8")
        atexit.register(self.close)

    def alive(self) -> bool:
        return self.process.poll() is None

    def judge(self, release: str, frames: str) -> dict:
        try:
            self.process.stdin.write(json.dumps({"release": release, "frames": frames}) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except OSError:
            line = ""
        if not line:
            self.log.seek(0)
            detail = self.log.read().strip()[-500:]
            raise GraderError(f"the self-check's judge stopped: {detail or 'no message'}")
        answer = json.loads(line)
        if "error" in answer:
            raise GraderError(answer["error"])
        return answer

    def close(self) -> None:
        if self.alive():
            try:
                self.process.stdin.close()
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()


_judge: WarmJudge | None = None


def _warm_judge() -> WarmJudge:
    global _judge
    if _judge is None or not _judge.alive():
        _judge = WarmJudge()
    return _judge


def serve() -> None:
    """The warm judge's loop: one JSON request a line on stdin, one JSON answer a line."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what the tests print cannot reach the protocol
    from grader.authoring.release import load_release

    releases: dict[str, Any] = {}
    for line in sys.stdin:
        try:
            request = json.loads(line)
            root = request["release"]
            if root not in releases:
                releases[root] = load_release(Path(root))
            answer = report_of(releases[root], judge_frames(releases[root], Path(request["frames"])))
        except GraderError as error:
            answer = {"error": str(error)}
        except Exception as error:  # noqa: BLE001 - a bug here must not hang the notebook
            answer = {"error": f"the self-check failed ({type(error).__name__}: {error})"}
        protocol.write(json.dumps(answer) + "\n")
        protocol.flush()


# --- judging -----------------------------------------------------------------------------------------


def judge_frames(release, frames: Path, run=None):
    """The public tests' outcomes for the observations in ``frames``."""
    from grader.grading.runs import ObservationSource, Run
    from grader.intake.submissions import Submission
    from grader.judge.plugin import judge

    run = run or Run(Submission("notebook", frames), result_path=frames)
    source = ObservationSource(release.reference, {run.submission.student: run})
    return judge(release.test_files, source, [run.submission.student], public_only=True)


def report_of(release, outcomes) -> dict:
    tests = [{"test": o.test, "description": o.description, "score": o.points if o.passed else 0.0,
              "max_score": o.points, "passed": o.passed, "message": o.message} for o in outcomes]
    from grader.version import environment

    return {"title": release.title, "name": release.name, "tests": tests,
            "hidden_points": release.hidden_points, "environment": environment()}


# --- grader check RELEASE FILE ---------------------------------------------------------------------


def check_file(release, file: Path, options) -> tuple[Any, dict, list[str]]:
    """Run ``file`` against ``release``: (the run, the report, notes for the student: a line
    starting ``warning:`` when a protection is missing, or the sandbox is off)."""
    from grader.intake import submissions
    from grader.sandbox.advice import NOT_SANDBOXED, warning_line
    from grader.selfcheck.platforms import sandbox_unavailable

    submission = submissions.single(file, release.entry_rule)
    timeout = options.timeout or release.timeout
    memory = options.memory or release.memory
    off = sandbox_unavailable()
    with tempfile.TemporaryDirectory(prefix="grader-check-") as work:
        frames = Path(work) / "student.obs"
        if off is None:
            run, protections = _sandboxed(release, submission, Path(work), frames, timeout, memory, options)
            warning = warning_line(protections)
        else:
            from grader.selfcheck.plain import check_plainly

            run = check_plainly(release, submission, frames, timeout, options.device,
                                visible_files(release, submission))
            warning = f"warning: {NOT_SANDBOXED}; {off}"
        outcomes = judge_frames(release, frames, run)
        return run, report_of(release, outcomes), [warning] if warning else []


def _sandboxed(release, submission, work: Path, frames: Path, timeout: float, memory: int, options):
    from grader.grading.runs import run_submission
    from grader.sandbox.pool import SandboxPool

    pool = SandboxPool(release.test_files, 1, work, options.namespaces)
    try:
        run = run_submission(submission, pool, frames, timeout, memory, options.device,
                             visible_files(release, submission))
        return run, dict(pool.hello.protections)
    finally:
        pool.close()


def visible_files(release, submission) -> tuple[str, ...]:
    """What the sandbox shows in its working folder, as when graded: the release's ``data/``
    folder and a folder submission's other files (as :func:`grader.grading.executors.visible_files`)."""
    from grader.authoring.release import DATA_DIR
    from grader.grading.runs import sandbox_layout

    return sandbox_layout(submission, release.root / DATA_DIR)



def check_command(name_or_path: str, file: Path, options) -> int:
    """``grader check RELEASE FILE``: print the table; exit status 0 only when every check passed."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from grader.report.escaping import terminal, terminal_lines

    release = resolve(name_or_path)
    run, report, notes = check_file(release, file, options)
    console = Console(highlight=False)
    table = Table(title=f"{release.title}: public checks on {file.name}", show_lines=True)
    for column in ("test", "points", "result", "why"):
        table.add_column(column, overflow="fold")
    for t in report["tests"]:
        mark = "[green]passed[/]" if t["passed"] else "[red]failed[/]"
        table.add_row(terminal(t["description"]), f"{t['score']:g} / {t['max_score']:g}", mark,
                      terminal_lines(t["message"]))
    console.print(table)
    if run.status != "graded" or run.message:
        console.print(f"[red]{run.status}[/]: {escape(run.message)}")
    for note in [*notes, *run.notes]:
        if str(note).startswith("warning:"):
            console.print(f"[yellow]{escape(str(note))}[/]")
        else:
            console.print(f"[dim]note: {escape(str(note))}[/]")
    env = report["environment"]
    console.print(f"[dim]checked with grader {escape(str(env['grader']))}, torch "
                  f"{escape(str(env['torch']))}, Python {escape(str(env['python']))}[/]")
    console.print(escape(footer(report)))
    return 0 if CheckResult(report).passed else 1


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        serve()
    else:
        print("usage: python -m grader.selfcheck.runner serve", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
