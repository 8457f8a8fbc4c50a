"""Where a batch's sandboxes run: one interface, :class:`Executor`, that this machine's pool
(:class:`LocalExecutor`) and a Dask cluster (:class:`DaskExecutor`, ``--executor dask``) implement.

An executor takes the submissions and the limits each runs under and yields one :class:`Run` per
submission as it finishes; the batch judges and journals them as they come. A run the machinery
could not make (``Run.infrastructure``) is not a student's result and is never journaled.
"""

from __future__ import annotations

import queue
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from grader.grading.runs import Run, run_submission, visible_files
from grader.intake.assignment import Assignment
from grader.intake.submissions import Submission
from grader.sandbox.pool import SandboxPool


@dataclass(frozen=True)
class Limits:
    """What each submission of a batch runs under."""

    timeout: float  # seconds
    memory: int  # bytes
    device: str  # "cpu" or "cuda"


class Executor(Protocol):
    def runs(self, submissions: list[Submission], work: Path, limits: Limits) -> Iterator[Run]:
        """One run per submission, as each finishes; observation files are written into ``work``."""
        ...


@dataclass
class LocalExecutor:
    """This machine's warm sandbox pool, ``jobs`` submissions at a time, yielded in order.

    On CUDA each sandbox sees one GPU, taken from a queue: with several GPUs submissions are
    spread across them, and no more than ``jobs / GPUs`` (at least one) share a GPU at a time."""

    pool: SandboxPool
    assignment: Assignment
    jobs: int

    def runs(self, submissions: list[Submission], work: Path, limits: Limits) -> Iterator[Run]:
        gpus: queue.Queue[int | None] = queue.Queue()
        count = _gpu_count() if limits.device.startswith("cuda") else 0
        for slot in range(self.jobs):
            gpus.put(slot % count if count else None)

        def run_one(index: int, submission: Submission) -> Run:
            gpu = gpus.get()
            try:
                return run_submission(submission, self.pool, work / f"{index}.obs", limits.timeout,
                                      limits.memory, limits.device,
                                      visible_files(self.assignment, submission), gpu)
            finally:
                gpus.put(gpu)

        with ThreadPoolExecutor(self.jobs) as executor:
            futures = [executor.submit(run_one, i, s) for i, s in enumerate(submissions)]
            for future in futures:
                yield future.result()


@dataclass
class DaskExecutor:
    """A Dask cluster's workers (:mod:`grader.grading.dask_executor`): the assignment travels to
    them as bytes; ``environment`` (this machine's) gains the workers' under ``workers``;
    ``probes``: the assignment's probe names (a frame under another name is forged)."""

    scheduler: str | None
    assignment: Assignment
    environment: dict | None = None
    probes: Collection[str] | None = None

    def runs(self, submissions: list[Submission], work: Path, limits: Limits) -> Iterator[Run]:
        from grader.grading import dask_executor

        return dask_executor.sandbox_runs(self.scheduler, self.assignment, submissions, work,
                                          limits.timeout, limits.memory, limits.device,
                                          self.environment, self.probes)


def _gpu_count() -> int:
    """GPUs visible here (this process is not the warm one: initialising CUDA here is safe)."""
    import torch

    return torch.cuda.device_count()
