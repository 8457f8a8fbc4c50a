"""The reference's observations: run once in a sandbox before any student, judged against itself
(a broken reference stops the batch, and its run time sets the default time limit), and kept in
the report folder for the next batch of the same assignment.

``OUT/.grader/reference/`` holds the reference's result file as its sandbox wrote it and its run
time, under a key of everything that could change them: the assignment's fingerprint (tests,
reference, settings, data), the grader's, torch's and Python's versions, and the device. A regrade,
``--only`` or a second batch into the same folder reads them again (checked like any result file)
instead of running and judging the reference again; anything else runs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.files import atomic_write
from grader.grading.options import GradeOptions
from grader.grading.runs import (
    ObservationSource,
    Run,
    frames_of,
    probe_error_text,
    run_submission,
    visible_files,
)
from grader.intake.assignment import Assignment
from grader.intake.submissions import Submission
from grader.sandbox.pool import SandboxPool

FOLDER = Path(".grader") / "reference"


def reference_observations(assignment: Assignment, pool: SandboxPool, work: Path,
                           options: GradeOptions, out_dir: Path | None = None,
                           environment: dict | None = None) -> tuple[dict[str, Any], float]:
    """The reference's observations for every probe, and its run time; its failure is ours. With
    ``out_dir`` (and the ``environment`` the batch runs in), kept there and read from there."""
    key = _key(assignment, environment) if out_dir is not None and environment is not None else None
    if key is not None and (kept := _kept(out_dir, key, pool)) is not None:
        return kept
    reference = Submission(f"reference:{assignment.name}", assignment.reference)
    run = run_submission(reference, pool, work / "reference.obs", 120.0,
                         assignment.limits.memory, options.device, visible_files(assignment, None))
    frames = frames_of(run)
    problems = [f"{f.name}: {_probe_problem(f.error)}" for f in frames if f.error]
    if run.cell_errors:
        problems.insert(0, f"loading: {run.cell_errors[0].text_for(reference.kind)}")
    if run.status != "graded" or problems:
        detail = "; ".join(problems) or f"{run.message}; output: {run.output[-1500:]}"
        raise GraderError(f"the reference of {assignment.name} failed ({detail}): fix the "
                          f"reference or the assignment's probes ({assignment.reference})")
    observations = {f.name: f.value for f in frames if f.kind == "probe"}
    done = next((f for f in frames if f.kind == "done"), None)
    seconds = float(done.extra.get("seconds", run.seconds)) if done else run.seconds
    judge_reference_against_itself(assignment, observations, run)
    if key is not None and run.result_path is not None:
        _keep(out_dir, key, run.result_path, {"seconds": seconds, "probes": sorted(observations)})
    return observations, seconds


def _key(assignment: Assignment, environment: dict) -> str:
    parts = [assignment.fingerprint, *(str(environment.get(name)) for name in
                                       ("grader", "torch", "python", "device"))]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _kept(out_dir: Path, key: str, pool: SandboxPool) -> tuple[dict[str, Any], float] | None:
    """What an earlier batch kept under ``key``, read as a result file is (None if unreadable)."""
    folder = out_dir / FOLDER
    try:
        record = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        seconds, probes = float(record["seconds"]), set(record["probes"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    run = Run(Submission("reference", folder / f"{key}.obs"), result_path=folder / f"{key}.obs",
              probes=frozenset(pool.hello.probes))
    frames = frames_of(run)
    if run.tampered or any(f.error for f in frames) or seconds < 0:
        return None
    observations = {f.name: f.value for f in frames if f.kind == "probe"}
    return (observations, seconds) if set(observations) == probes else None


def _keep(out_dir: Path, key: str, result: Path, record: dict) -> None:
    """Keep this key's files only (an older key's are of a changed assignment or grader)."""
    folder = out_dir / FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder.parent, 0o700)
        for old in folder.iterdir():
            if old.stem != key:
                old.unlink(missing_ok=True)
        temporary = folder / f".{key}.obs"
        shutil.copyfile(result, temporary)
        os.replace(temporary, folder / f"{key}.obs")
        atomic_write(folder / f"{key}.json", json.dumps(record))
    except OSError:  # a cache: the next batch runs the reference again
        pass


def _probe_problem(error: dict) -> str:
    """A reference's probe that raised, for the author: where in the probe, else as students read it."""
    if not error.get("check_file"):
        return probe_error_text(error)
    code = f": `{error['check_text']}`" if error.get("check_text") else ""
    message = f": {error['message']}" if error.get("message") else ""
    return f"{error.get('type')} at {error['check_file']}, line {error.get('check_line')}{code}{message}"


def judge_reference_against_itself(assignment: Assignment, observations: dict[str, Any], run: Run) -> None:
    """Before any student is graded: the reference must get full marks from its own observations,
    else the batch stops naming the failing tests (an author's bug must not score a class 0)."""
    from grader.judge.plugin import judge

    source = ObservationSource(observations, {"reference": run})
    failed = [o for o in judge(assignment.test_files, source, ["reference"]) if not o.passed]
    if failed:
        named = "; ".join(f"{o.test}: {o.assignment_error or o.diagnosis()[0]}" for o in failed[:5])
        raise GraderError(f"the reference of {assignment.name} does not get full marks from its "
                          f"own tests ({named}): fix the tests in {assignment.root} or the "
                          f"reference ({assignment.reference}) before grading students")
