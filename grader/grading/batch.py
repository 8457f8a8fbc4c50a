"""Grading a batch: the reference once, every submission in a sandbox, then the judge."""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.grading import workdirs
from grader.grading.executors import DaskExecutor, Executor, Limits, LocalExecutor
from grader.grading.journal import Journal, outcomes_of
from grader.grading.options import TIMEOUT_FLOOR, GradeOptions, student_timeout
from grader.grading.reference import reference_observations
from grader.grading.runs import (
    ObservationSource,
    Run,
    load_of,
)
from grader.intake.assignment import Assignment
from grader.intake.submissions import Submission
from grader.model import TestOutcome
from grader.sandbox.pool import SandboxPool

# Submissions are judged (and journaled) together, in one pytest session (~0.1 s to start), while
# the next ones run: every JUDGE_CHUNK submissions, or sooner when the oldest waiting one finished
# JUDGE_EVERY seconds ago. A crash loses at most that much work; memory holds at most that many
# students' observations.
JUDGE_CHUNK = 64
JUDGE_EVERY = 2.0  # seconds
# From this many submissions, the sandbox server moves its memory into huge pages before serving
# (about 0.3 s once; then each fork and exit of a sandbox costs about 8 ms of CPU less).
HUGE_PAGES_FROM = 200




@dataclass
class BatchResult:
    assignment: Assignment
    runs: list[Run]
    outcomes: list[TestOutcome]
    protections: dict[str, bool]
    timeout: float
    device: str
    seconds: float
    reused: frozenset[str] = frozenset()  # students taken from the journal, not graded again
    environment: dict = field(default_factory=dict)  # grader.version.environment (+ "workers")
    unrun: list[Run] = field(default_factory=list)  # not run for an infrastructure reason: no row
    timings: dict = field(default_factory=dict)  # where the batch's time went (see _timings)

    def assignment_errors(self) -> Counter[tuple[str, str]]:
        """(test, where the assignment's own code raised) -> how many students it cost a test."""
        return Counter((o.test, o.assignment_error) for o in self.outcomes if o.assignment_error)


def grade(assignment: Assignment, submissions: list[Submission], options: GradeOptions,
          on_progress: Callable[[Run], None] | None = None,
          out_dir: Path | None = None) -> BatchResult:
    """Grade ``submissions``. With ``out_dir`` (where the report goes, hidden from the sandboxes),
    every judged submission is journaled there, and unchanged ones graded before are reused."""
    started = time.monotonic()
    marks: dict[str, float] = {"process_started": _process_start() or started}  # time.monotonic()
    check_environment(assignment)
    journal = Journal(out_dir, _journal_key(assignment, options)) if out_dir is not None else None
    reused = journal.completed(submissions) if journal and not options.regrade else {}
    if options.only:
        reused = {student: entry for student, entry in reused.items() if student not in options.only}
        stale = [s.student for s in submissions if s.student not in reused.keys() | options.only]
        if stale:
            raise GraderError(f"--only: {', '.join(stale[:5])}{' ...' if len(stale) > 5 else ''} "
                              "not graded into this folder yet (or changed since): grade the "
                              "whole class once without --only")
    runs: dict[str, Run] = {}
    outcomes: list[TestOutcome] = []
    protections: dict[str, bool] = {}
    for student, entry in reused.items():
        runs[student] = _run_from_entry(entry, submissions)
        outcomes += outcomes_of(entry)
        protections = protections or entry.get("protections", {})
        if on_progress:
            on_progress(runs[student])
    todo = [s for s in submissions if s.student not in reused]
    with ExitStack() as stack:
        # The sandbox server imports torch and measures its protections (a second or so) while
        # the submissions are copied and the environment is read here.
        marks["journal_read"] = time.monotonic()
        sandboxes = stack.enter_context(_sandboxes(assignment, todo, options)) if todo else None
        if out_dir is not None:
            from grader.grading import copies

            copies.keep(out_dir, todo)
            copies.keep(out_dir, [s for s in submissions if s.student in reused], refresh=False)
        environment = _environment(options)
        marks["copies_and_environment"] = time.monotonic()
        timeout = options.timeout or assignment.limits.timeout or TIMEOUT_FLOOR
        fresh: list[tuple[Run, list[TestOutcome]]] = []
        if sandboxes is not None:
            timeout, protections, fresh = _grade_fresh(assignment, todo, options, on_progress,
                                                       journal, environment, out_dir, marks,
                                                       *sandboxes)
    unrun: list[Run] = []
    for run, run_outcomes in fresh:  # none when everything was taken from the journal
        if run.infrastructure:
            unrun.append(run)
            continue
        runs[run.submission.student] = run
        outcomes += run_outcomes
    ordered = [runs[s.student] for s in submissions if s.student in runs]
    order = {s.student: i for i, s in enumerate(submissions)}
    outcomes.sort(key=lambda o: order.get(o.student, -1))
    return BatchResult(assignment, ordered, outcomes, protections, timeout, options.device,
                       time.monotonic() - started, reused=frozenset(reused),
                       environment=environment, unrun=unrun,
                       timings=_timings(started, marks, [run for run, _ in fresh]))


def _process_start() -> float | None:
    """When this process started, on ``time.monotonic()``'s clock (to 10 ms; Linux only)."""
    try:
        with open("/proc/self/stat") as stat:
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        since_boot = ticks / os.sysconf("SC_CLK_TCK")
        return since_boot - (time.clock_gettime(time.CLOCK_BOOTTIME) - time.monotonic())
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _timings(started: float, marks: dict[str, float], runs: list[Run]) -> dict:
    """run.json's ``timings``: when each step of the batch ended, in seconds from its start (the
    sandbox server's start-up steps included), and the median milliseconds each sandboxed
    submission spent in each part: ``fork``, ``isolation`` (cgroup, namespaces, root, lock-down),
    ``code`` (the student's code and the probes), ``exit_and_transfer`` (the rest of the sandbox:
    ending, results reaching the judge) and ``judge`` (its share of a judging session)."""
    import statistics

    parts: dict[str, list[float]] = {}
    for run in runs:
        if not run.phases.get("isolation"):
            continue  # not sandboxed here (a Dask worker's, or no sandbox at all)
        known = {"fork": run.phases["fork"], "isolation": run.phases["isolation"],
                 "code": run.code_seconds}
        known["exit_and_transfer"] = max(0.0, run.seconds - sum(known.values()))
        known["judge"] = run.phases.get("judge", 0.0)
        for name, seconds in known.items():
            parts.setdefault(name, []).append(seconds)
    return {"steps": {name: round(at - started, 3) for name, at in sorted(marks.items(), key=lambda m: m[1])},
            "per_submission_ms": {name: round(1000 * statistics.median(values), 1)
                                  for name, values in parts.items()}}


def _environment(options: GradeOptions) -> dict:
    from grader.version import environment

    found = environment(options.device)
    found["executor"] = options.executor
    return found


@contextmanager
def _sandboxes(assignment: Assignment, submissions: list[Submission],
               options: GradeOptions) -> Iterator[tuple[Path, SandboxPool, list[threading.Thread]]]:
    """The batch's working folder and its pool of sandbox servers, started (not waited for), and
    the background imports of what the judge and the report need, started meanwhile."""
    workdirs.remove_stale()  # what a crashed run left behind (its process gone)
    work = workdirs.make_workdir("grader-batch-")
    # No more servers than submissions: a clone is forked and greeted for nothing.
    local_jobs = 1 if options.executor == "dask" else max(1, min(options.jobs, len(submissions)))
    try:
        files = [s.path for s in submissions if s.path is not None]
        # The judge needs torch and pytest too: imported here while the server imports them there.
        imports = ("torch", "grader.judge.plugin", *options.background_imports)
        behind: list[threading.Thread] = []  # joined before the first chunk is judged
        pool = SandboxPool(assignment.test_files, local_jobs, work, options.namespaces,
                           assignment.warm_imports(files),
                           while_starting=lambda: behind.append(_import_behind(imports)),
                           notebooks=any(s.kind == "ipynb" for s in submissions),
                           huge_pages=len(submissions) >= HUGE_PAGES_FROM)
        try:
            yield work, pool, behind
        finally:
            pool.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _grade_fresh(assignment: Assignment, submissions: list[Submission], options: GradeOptions,
                 on_progress: Callable[[Run], None] | None, journal: Journal | None,
                 environment: dict, out_dir: Path | None, marks: dict[str, float], work: Path,
                 pool: SandboxPool, behind: list[threading.Thread]) -> tuple[float, dict[str, bool], list]:
    """Sandbox every submission, judging (and journaling) them chunk by chunk as they finish;
    ``marks`` gets when each step ended."""
    graded: list[tuple[Run, list[TestOutcome]]] = []
    local_jobs = pool.jobs
    protections = dict(pool.hello.protections)
    marks.update({f"server_{step}": at for step, at in pool.hello.started.items()})
    marks["server_ready"] = time.monotonic()
    reference, reference_seconds = reference_observations(assignment, pool, work, options, out_dir,
                                                          environment)
    marks["reference"] = time.monotonic()
    timeout = student_timeout(options.timeout or assignment.limits.timeout, reference_seconds)
    memory = options.memory or assignment.limits.memory
    executor: Executor = (
        DaskExecutor(options.scheduler, assignment, environment, pool.hello.probes)
        if options.executor == "dask" else LocalExecutor(pool, assignment, local_jobs))
    runs = executor.runs(submissions, work, Limits(timeout, memory, options.device))
    pending: list[Run] = []
    for run in runs:
        if on_progress:
            on_progress(run)
        if run.infrastructure:  # not the student's result: never judged nor journaled
            graded.append((run, []))
            continue
        if not pending:
            oldest = time.monotonic()
        pending.append(run)
        if len(pending) == JUDGE_CHUNK or time.monotonic() - oldest > JUDGE_EVERY:
            marks.setdefault("first_sandboxes", time.monotonic())
            _joined(behind)
            marks.setdefault("background_imports", time.monotonic())
            graded += _judge_chunk(assignment, reference, pending, options, journal, protections)
            pending = []
    marks.setdefault("first_sandboxes", time.monotonic())
    _joined(behind)  # no import of the judge's (or the report's, next) races one of theirs
    marks.setdefault("background_imports", time.monotonic())
    if pending:
        graded += _judge_chunk(assignment, reference, pending, options, journal, protections)
    marks["judged"] = time.monotonic()
    return timeout, protections, graded


def _import_behind(modules: tuple[str, ...]) -> threading.Thread:
    """Import ``modules`` in a background thread; an entry ``module:function`` also calls
    ``function()``, a set-up done ahead (what fails is done again, and reported, later)."""
    def run() -> None:
        for entry in modules:
            module, _, function = entry.partition(":")
            try:
                imported = importlib.import_module(module)
                if function:
                    getattr(imported, function)()
            except Exception:  # noqa: BLE001
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _joined(threads: list[threading.Thread]) -> None:
    """Wait for the background imports: two threads importing modules that import each other (IPython
    and matplotlib) can see a partly initialised module."""
    while threads:
        threads.pop().join()


def judge_observed(assignment: Assignment, student: str, frames: Path,
                   options: GradeOptions) -> BatchResult:
    """Judge observations a student made outside the sandbox (``grader.selfcheck.runner``): no code of
    theirs runs here; the reference runs in a sandbox as usual."""
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="grader-selfcheck-"))
    try:
        pool = SandboxPool(assignment.test_files, 1, work, options.namespaces,
                           assignment.warm_imports())
        try:
            reference, _ = reference_observations(assignment, pool, work, options)
        finally:
            pool.close()
        run = Run(Submission(student, frames), result_path=frames)
        (_, outcomes), = _judge_chunk(assignment, reference, [run], options, None, {}, keep=True)
        return BatchResult(assignment, [run], outcomes, {}, 0.0, options.device,
                           time.monotonic() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _judge_chunk(assignment: Assignment, reference: dict[str, Any], runs: list[Run],
                 options: GradeOptions, journal: Journal | None,
                 protections: dict[str, bool], keep: bool = False) -> list[tuple[Run, list[TestOutcome]]]:
    """Judge these runs, journal them, and free their observations (unless ``keep``)."""
    from grader.judge.plugin import judge  # pytest: imported behind the server's start

    source = ObservationSource(reference, {run.submission.student: run for run in runs})
    started = time.monotonic()
    outcomes = judge(assignment.test_files, source, [r.submission.student for r in runs],
                     public_only=options.public_only)
    for run in runs:
        run.phases["judge"] = (time.monotonic() - started) / len(runs)
    by_student: dict[str, list[TestOutcome]] = {r.submission.student: [] for r in runs}
    for outcome in outcomes:
        by_student[outcome.student].append(outcome)
    for run in runs:
        if journal is not None:
            journal.append(run.submission, _run_record(run), by_student[run.submission.student],
                           protections)
        if run.result_path is not None and not keep:
            run.result_path.unlink(missing_ok=True)
    return [(run, by_student[run.submission.student]) for run in runs]


def _journal_key(assignment: Assignment, options: GradeOptions) -> dict[str, Any]:
    """What makes a journaled grade valid: a new grader version grades everything again."""
    from grader.version import __version__

    return {"grader": __version__, "assignment": assignment.fingerprint, "device": options.device,
            "timeout": options.timeout, "memory": options.memory, "public_only": options.public_only}


def _run_record(run: Run) -> dict[str, Any]:
    return {"status": run.status, "message": run.message, "seconds": run.seconds,
            "code_seconds": run.code_seconds, "output": run.output[-4000:],
            "load": {"errors": [e.as_dict() for e in run.cell_errors], "notes": run.notes},
            "timeout": run.timeout}


def _run_from_entry(entry: dict, submissions: list[Submission]) -> Run:
    submission = next(s for s in submissions if s.student == entry["student"])
    record = entry.get("run", {})
    cell_errors, notes = load_of(record.get("load"))
    return Run(submission, status=record.get("status", "error"), message=record.get("message", ""),
               seconds=record.get("seconds", 0.0), code_seconds=record.get("code_seconds", 0.0),
               cell_errors=cell_errors, notes=notes, output=record.get("output", ""),
               timeout=record.get("timeout"))


def check_environment(assignment: Assignment) -> None:
    """``[environment] requires``: every package (by the name it is imported as) must be
    installed here (the sandbox runs this same Python), else the batch stops before it starts, in
    one line. Only the top-level package is looked up: nothing is imported."""
    import importlib.util

    missing = []
    for package in assignment.requires:
        try:
            found = importlib.util.find_spec(package.split(".")[0]) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(package)
    if missing:
        names = " ".join(missing)
        raise GraderError(f"assignment {assignment.name} needs the package(s) {', '.join(missing)}, "
                          f"which are not installed here: pip install {names}")
