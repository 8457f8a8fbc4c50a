"""The temporary folders of a batch, a Dask task, a Dask worker and the assignment it received:
named for the process that owns them (``grader-batch-PID-XXXX``), removed when it is done, and,
when a crash left one behind, removed by the next start once that process is gone. A folder of a
live process is never touched: several grading runs (and test runs) may share this machine's
temporary folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PREFIXES = ("grader-batch-", "grader-task-", "grader-worker-", "grader-assignment-")


def make_workdir(prefix: str) -> Path:
    """A new private folder ``{prefix}{pid}-XXXX`` in the temporary folder (0700)."""
    assert prefix in PREFIXES
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))


def remove_stale(folder: str | None = None) -> list[str]:
    """Remove the folders of :data:`PREFIXES` in ``folder`` (the temporary folder) that this user
    owns and whose owner process no longer exists; returns their names."""
    folder = folder or tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        prefix = next((p for p in PREFIXES if entry.name.startswith(p)), None)
        if prefix is None:
            continue
        owner = entry.name[len(prefix):].split("-", 1)[0]
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if (not owner.isdigit() or not entry.is_dir(follow_symlinks=False)
                or info.st_uid != os.geteuid() or _alive(int(owner))):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not a process id this module wrote: leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
