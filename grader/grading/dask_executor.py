"""Past one machine: the same work units (one submission each) on a Dask distributed cluster.

Each task carries one submission's bytes to a worker, which runs it in a sandbox forked from a
warm server of its own (started on the worker's first task and kept for the next ones) and sends
back how the sandbox ended and the observations' bytes. Nothing is judged on the workers: the
judge, the reference's observations and the journal stay in the grading process. A worker lost
mid-batch costs nothing: Dask runs its tasks again elsewhere.

A folder submission travels whole (its entry, helper modules and data files, up to
``MAX_FOLDER_BYTES``), laid out on the worker as it is here. The assignment travels too: its
``assignment.toml``, tests (and the modules beside them) and ``data/``, as bytes with its
fingerprint, sent once to the cluster and written once per worker; never the reference, whose
observations this machine computes. So a worker needs only the grader installed (``pip install
torch==2.13.0`` then the grader), whatever the assignment: bundled, a course folder's own or any
path. A worker whose grader or torch version differs from this machine's is refused in one line.

A work unit the cluster cannot run (a worker that cannot run the assignment, the cluster gone) is
an infrastructure failure (:attr:`Run.infrastructure`): never judged nor journaled as the
student's result, so ``grader grade`` exits 2 naming how many and a rerun grades only those.
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
from grader.intake.assignment import Assignment, load_assignment
from grader.intake.notebook import MAX_SOURCE_BYTES
from grader.intake.submissions import Submission, folder_files, read_source
from grader.sandbox.pool import SandboxPool, SandboxRequest

MAX_FOLDER_BYTES = 64 * 1024 * 1024  # of a folder submission's files sent to a worker
MAX_ASSIGNMENT_BYTES = 512 * 1024 * 1024  # of an assignment's files sent to the workers


class WorkerMismatch(Exception):
    """A worker whose grader or torch differs from the grading machine's (one line)."""

_pools: dict[tuple, SandboxPool] = {}
_logs: dict[tuple, Path] = {}  # each pool's folder (its servers' logs), removed with it
_lock = threading.Lock()


def sandbox_runs(scheduler: str | None, assignment: Assignment, submissions: list[Submission],
                 work: Path, timeout: float, memory: int, device: str,
                 environment: dict | None = None, probes: Collection[str] | None = None) -> Iterator[Run]:
    """Runs of ``submissions`` on the cluster at ``scheduler``, in the order they finish
    (``environment``: this machine's, to which the workers' are added as ``workers``;
    ``probes``: the assignment's probe names, a frame under another name is forged)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise GraderError("--executor dask needs Dask: pip install 'torchgrader[dask]'") from None
    if not scheduler:
        raise GraderError("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
    try:
        client = Client(scheduler, timeout="20s")
    except OSError as error:
        raise GraderError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    try:
        wanted = versions()
        workers = _check_workers(client, wanted)
        if environment is not None:
            environment["workers"] = workers
        files = [s.path for s in submissions if s.path is not None]
        bundle = client.scatter(assignment_bundle(assignment, wanted, assignment.warm_imports(files)),
                                broadcast=True, hash=False)
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
            future = client.submit(sandbox_task, bundle, submission.path.name, submission.kind,
                                   source, timeout, memory, device, helpers,
                                   key=f"grader-{index}-{submission.student}", retries=2, pure=False)
            waiting[future.key] = (index, submission)
            futures.append(future)
        done: set[str] = set()
        try:
            for future in as_completed(futures):
                index, submission = waiting[future.key]
                done.add(future.key)
                try:
                    response, observations = future.result()
                except Exception as error:  # the task failed on every worker it was tried on
                    yield _unrun(submission, f"the cluster could not run it: {_one_line(error)}")
                    continue
                result_path = work / f"{index}.obs"
                result_path.write_bytes(observations)
                yield run_from_response(submission, response, result_path, timeout, probes)
        except Exception as error:  # noqa: BLE001 - the cluster is gone: what is left is not run
            for key, (_, submission) in waiting.items():
                if key not in done:
                    yield _unrun(submission, f"the cluster stopped answering: {_one_line(error)}")
    finally:
        client.close()


def _unrun(submission: Submission, why: str) -> Run:
    return Run(submission, status="error", message=why, infrastructure=why)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]


def versions() -> dict[str, str | None]:
    """What a worker must share with the grading machine: the grader's and torch's versions."""
    from grader.version import environment

    found = environment()
    return {"grader": found["grader"], "torch": found["torch"]}


def worker_environment() -> dict:
    """On a worker (``client.run``): its environment."""
    from grader.version import environment

    return environment()


def _check_workers(client, wanted: dict) -> dict[str, dict]:
    """Every worker's environment; a worker whose grader or torch differs refuses the batch."""
    try:
        found = client.run(worker_environment)
    except Exception as error:  # noqa: BLE001 - an old grader on a worker cannot even answer
        raise GraderError(f"the Dask workers cannot report their grader and torch versions "
                          f"({_one_line(error)}): install the grader there, the same version as "
                          "here") from None
    for address, env in sorted(found.items()):
        differs = _differs(env, wanted)
        if differs:
            raise GraderError(f"the Dask worker {address} {differs}: install the same versions "
                              "there (or remove that worker) and grade again")
    return found


def _differs(env: dict, wanted: dict) -> str:
    for name in ("grader", "torch"):
        if env.get(name) != wanted.get(name):
            return f"has {name} {env.get(name)}, this machine {wanted.get(name)}"
    return ""


def assignment_bundle(assignment: Assignment, wanted: dict | None = None,
                      preload: tuple[str, ...] | None = None) -> dict:
    """What a worker needs of ``assignment``, as bytes: ``assignment.toml``, the ``.py`` files
    beside it (its tests and their helpers) and ``data/``; never the reference. ``preload``: what
    the workers' warm servers import (chosen here, from the class's code; None: everything)."""
    reference = assignment.reference.resolve()
    files: dict[str, bytes] = {}
    total = 0
    paths = [assignment.root / "assignment.toml", *sorted(assignment.root.glob("*.py"))]
    if assignment.data is not None:
        paths += sorted(p for p in assignment.data.rglob("*") if p.is_file() and not p.is_symlink())
    for path in paths:
        if path.is_symlink() or not path.is_file() or path.resolve() == reference:
            continue
        data = path.read_bytes()
        total += len(data)
        if total > MAX_ASSIGNMENT_BYTES:
            raise GraderError(f"assignment {assignment.name} is more than {MAX_ASSIGNMENT_BYTES >> 20} "
                              "MB (data/ included): too large to send to the Dask workers")
        files[path.relative_to(assignment.root).as_posix()] = data
    return {"name": assignment.name, "fingerprint": assignment.fingerprint, "files": files,
            "versions": wanted or versions(), "preload": preload}


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


def sandbox_task(bundle: dict, file_name: str, kind: str, source: bytes, timeout: float,
                 memory: int, device: str, helpers: dict[str, bytes] | None = None) -> tuple[dict, bytes]:
    """On a worker: run one submission in a sandbox; return how it ended and its observations.
    ``bundle``: the assignment (:func:`assignment_bundle`); ``helpers``: a folder submission's
    other files, shown beside the entry as they are locally."""
    from grader.grading.runs import visible_files

    differs = _differs(versions(), bundle.get("versions", {}))
    if differs:
        raise WorkerMismatch(f"this worker {differs}: install the same versions here")
    assignment = _worker_assignment(bundle)
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
        response = _worker_pool(assignment, bundle["fingerprint"], bundle.get("preload")).run(request)
        return response, request.result.read_bytes() if request.result.exists() else b""
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_assignments: dict[str, Assignment] = {}


def _worker_assignment(bundle: dict) -> Assignment:
    """The assignment a bundle carries, written once on this worker (a private folder)."""
    fingerprint = str(bundle["fingerprint"])
    with _lock:
        if fingerprint not in _assignments:
            root = workdirs.make_workdir("grader-assignment-") / str(bundle["name"])
            atexit.register(shutil.rmtree, root.parent, True)
            for relative, data in bundle["files"].items():
                target = (root / relative).resolve()
                if not target.is_relative_to(root.resolve()):
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            _assignments[fingerprint] = load_assignment(root, need_reference=False)
        return _assignments[fingerprint]


def _worker_pool(assignment: Assignment, fingerprint: str,
                 preload: list[str] | tuple[str, ...] | None = None) -> SandboxPool:
    """This worker's warm sandbox servers for ``assignment``, started on first use."""
    preload = tuple(preload) if preload is not None else assignment.warm_imports(everything=True)
    key = (assignment.root, fingerprint, preload)
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
                _pools[key] = SandboxPool(assignment.test_files, max(1, slots), logs, preload=preload)
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
