"""Past one machine: the same work units (one submission each) on a Dask distributed cluster.

Each task carries one submission's bytes to a worker, which runs it in a sandbox forked from a
warm server of its own (started on the worker's first task and kept for the next ones) and sends
back how the sandbox ended and the observations' bytes. Nothing is judged on the workers: the
judge, the reference's observations and the journal stay in the grading process. A worker lost
mid-batch costs nothing: Dask runs its tasks again elsewhere.

A folder submission travels whole (its entry, helper modules and data files, up to
``MAX_FOLDER_BYTES``); the assignment's ``data/`` folder is the worker's own copy. Workers need
the grader installed (``pip install torch==2.13.0`` then the grader) and the assignment under the
same name or path.
"""

from __future__ import annotations

import atexit
import shutil
import threading
from collections.abc import Collection, Iterator
from pathlib import Path

from grader.errors import GraderError
from grader.grading import workdirs
from grader.grading.runs import Run, run_from_response
from grader.intake.assignment import Assignment, find_assignment
from grader.intake.notebook import MAX_SOURCE_BYTES
from grader.intake.submissions import Submission, folder_files, read_source
from grader.sandbox.pool import SandboxPool, SandboxRequest

MAX_FOLDER_BYTES = 64 * 1024 * 1024  # of a folder submission's files sent to a worker

_pools: dict[tuple, SandboxPool] = {}
_logs: dict[tuple, Path] = {}  # each pool's folder (its servers' logs), removed with it
_lock = threading.Lock()


def sandbox_runs(scheduler: str | None, assignment: Assignment, submissions: list[Submission],
                 work: Path, timeout: float, memory: int, device: str,
                 probes: Collection[str] | None = None) -> Iterator[Run]:
    """Runs of ``submissions`` on the cluster at ``scheduler``, in the order they finish;
    ``probes``: the assignment's probe names (a frame under another name is forged)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise GraderError("--executor dask needs Dask: pip install 'distributed>=2024.1'") from None
    if not scheduler:
        raise GraderError("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
    try:
        client = Client(scheduler, timeout="20s")
    except OSError as error:
        raise GraderError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    reference = _assignment_reference(assignment)
    try:
        waiting, futures = {}, []
        for index, submission in enumerate(submissions):
            if submission.problem or submission.path is None:
                yield Run(submission, status="error", message=submission.problem or "no file to grade")
                continue
            try:
                source = read_source(submission.path, MAX_SOURCE_BYTES + 1)
                helpers = _helper_files(submission)
            except OSError as error:
                yield Run(submission, status="error", message=f"cannot read it: {error.strerror}")
                continue
            future = client.submit(sandbox_task, reference, submission.path.name, submission.kind,
                                   source, timeout, memory, device, helpers,
                                   key=f"grader-{index}-{submission.student}", retries=2, pure=False)
            waiting[future.key] = (index, submission)
            futures.append(future)
        for future in as_completed(futures):
            index, submission = waiting[future.key]
            try:
                response, observations = future.result()
            except Exception as error:  # the task failed on every worker it was tried on
                yield Run(submission, status="error", message=f"the cluster could not run it: {error}")
                continue
            result_path = work / f"{index}.obs"
            result_path.write_bytes(observations)
            yield run_from_response(submission, response, result_path, timeout, probes)
    finally:
        client.close()


def _helper_files(submission: Submission) -> dict[str, bytes]:
    """A folder submission's other files, by their path inside its folder (none for a file)."""
    if submission.folder is None:
        return {}
    files, total = {}, 0
    for path in folder_files(submission.folder):
        if path == submission.path:
            continue
        data = read_source(path, MAX_FOLDER_BYTES + 1 - total)
        total += len(data)
        if total > MAX_FOLDER_BYTES:
            raise OSError(0, f"its folder holds more than {MAX_FOLDER_BYTES >> 20} MB: hand in the "
                          "notebook and its helper modules only", str(path))
        files[path.relative_to(submission.folder).as_posix()] = data
    return files


def _assignment_reference(assignment: Assignment) -> str:
    """How workers find the assignment: by bundled name when it is bundled, else by path."""
    try:
        if find_assignment(assignment.name).root == assignment.root:
            return assignment.name
    except GraderError:
        pass
    return str(assignment.root)


def sandbox_task(assignment_name: str, file_name: str, kind: str, source: bytes, timeout: float,
                 memory: int, device: str, helpers: dict[str, bytes] | None = None) -> tuple[dict, bytes]:
    """On a worker: run one submission in a sandbox; return how it ended and its observations.
    ``helpers``: a folder submission's other files, shown beside the entry as they are locally."""
    from grader.grading.batch import visible_files

    assignment = find_assignment(assignment_name)
    folder = workdirs.make_workdir("grader-task-")
    try:
        entry_folder = folder / "submission"
        entry_folder.mkdir()
        path = entry_folder / file_name
        path.write_bytes(source)
        for relative, data in (helpers or {}).items():
            target = (entry_folder / relative).resolve()
            if not target.is_relative_to(entry_folder.resolve()) or target == path.resolve():
                continue  # the grading side sends paths inside the folder: anything else is dropped
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        shown = Submission("task", path, folder=entry_folder) if helpers else None
        request = SandboxRequest(
            source=path, kind=kind, name=file_name, result=folder / "observations.bin",
            timeout=timeout, memory=memory, device=device,
            files=visible_files(assignment, shown),
        )
        response = _worker_pool(assignment).run(request)
        return response, request.result.read_bytes() if request.result.exists() else b""
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _worker_pool(assignment: Assignment) -> SandboxPool:
    """This worker's warm sandbox servers for ``assignment``, started on first use."""
    key = (assignment.root, assignment.fingerprint)
    with _lock:
        if key not in _pools:
            try:
                from distributed import get_worker

                slots = get_worker().state.nthreads
            except (ImportError, ValueError, AttributeError):
                slots = 1
            if not _pools:  # this worker's first pool: what a crashed worker left behind goes
                workdirs.remove_stale()
            logs = workdirs.make_workdir("grader-worker-")
            try:
                _pools[key] = SandboxPool(assignment.test_files, max(1, slots), logs,
                                          preload=assignment.warm_imports(everything=True))
            except BaseException:
                shutil.rmtree(logs, ignore_errors=True)
                raise
            _logs[key] = logs
        return _pools[key]


@atexit.register
def _close_pools() -> None:
    for key, pool in list(_pools.items()):
        pool.close()
        logs = _logs.pop(key, None)
        if logs is not None:
            shutil.rmtree(logs, ignore_errors=True)
    _pools.clear()
