"""Limits on a whole sandbox, not one process: a cgroup per sandbox.

Each sandbox gets its own group beneath the grader's own (read from ``/proc/self/cgroup``, as
systemd's delegation model expects), under one folder per batch (``grader-PID``) that is removed
when the batch ends: memory for everything it holds (its processes and its tmpfs), a process count
(a fork bomb stops there), and one CPU core at most with an equal share, so one submission's
processes cannot slow another's. Its CPU time is what the time limit counts.

cgroup v2 where a delegated subtree has the ``memory``, ``pids`` and ``cpu`` controllers; else
cgroup v1 where those hierarchies are writable (root on a hybrid host); else none, and the
sandbox falls back to per-process limits (``grader doctor`` and ``run.json`` say which).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

PERIOD_US = 100_000
V2_CONTROLLERS = ("memory", "pids", "cpu")
V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")


@dataclass(frozen=True)
class SandboxGroup:
    """One sandbox's cgroup: one folder on v2, one per hierarchy on v1."""

    version: int
    folders: dict[str, str]  # controller -> folder (v2: every controller -> the same folder)

    def join(self) -> None:
        """Move the calling process (and so all it will start) into the group.

        On v1, a process of one thread (the sandbox's first process, a fork) is moved through
        ``tasks``: the same move, without ``cgroup.procs``' lock on every thread group, which waits
        for an RCU grace period (12-16 ms a sandbox, measured; 0.2 ms through ``tasks``)."""
        procs = "tasks" if self.version == 1 and _threads() == 1 else "cgroup.procs"
        for folder in dict.fromkeys(self.folders.values()):
            _write(f"{folder}/{procs}", "0")

    def cpu_seconds(self) -> float:
        try:
            if self.version == 2:
                for line in Path(self.folders["cpu"], "cpu.stat").read_text().splitlines():
                    if line.startswith("usage_usec "):
                        return int(line.split()[1]) / 1e6
                return 0.0
            return int(Path(self.folders["cpuacct"], "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError, KeyError):
            return 0.0

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of the group for exceeding its memory."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            text = Path(self.folders["memory"], name).read_text()
        except (OSError, KeyError):
            return False
        counts = dict(line.split()[:2] for line in text.splitlines() if len(line.split()) >= 2)
        if "oom_kill" in counts:
            return counts["oom_kill"] != "0"
        return self.version == 1 and _read(f"{self.folders['memory']}/memory.failcnt") not in ("0", "")

    def remove(self) -> None:
        """Delete the group once its processes are gone (they are being killed: retry briefly)."""
        for folder in dict.fromkeys(self.folders.values()):
            for _ in range(50):
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.002)


class BatchGroups:
    """The batch's folder of sandbox groups (created by the warm server, shared by its clones)."""

    def __init__(self, version: int, parents: dict[str, str]) -> None:
        self.version, self.parents, self._count = version, parents, 0

    @classmethod
    def create(cls) -> tuple[BatchGroups | None, str]:
        """The batch's groups, or None and why this machine cannot have them."""
        reasons = []
        for attempt in (_create_v2, _create_v1):
            try:
                return attempt(), ""
            except OSError as error:
                reasons.append(error.strerror or str(error))
        return None, "; ".join(reasons)

    @property
    def description(self) -> str:
        where = os.path.commonpath(list(self.parents.values())) if self.version == 2 else \
            self.parents.get("memory", "")
        return f"cgroup v{self.version} ({where})"

    def sandbox(self, memory: int, processes: int) -> SandboxGroup:
        """A new group for one sandbox: ``memory`` bytes in all, ``processes`` tasks, one core."""
        self._count += 1
        name = f"s{os.getpid()}-{self._count}"
        if self.version == 2:
            folder = f"{self.parents['cpu']}/{name}"
            os.mkdir(folder)
            group = SandboxGroup(2, dict.fromkeys(V2_CONTROLLERS, folder))
            _write(f"{folder}/memory.max", str(memory))
            with contextlib.suppress(OSError):
                _write(f"{folder}/memory.swap.max", "0")
            _write(f"{folder}/pids.max", str(processes))
            _write(f"{folder}/cpu.max", f"{PERIOD_US} {PERIOD_US}")
            return group
        folders = {controller: f"{parent}/{name}" for controller, parent in self.parents.items()}
        for folder in dict.fromkeys(folders.values()):
            os.mkdir(folder)
        group = SandboxGroup(1, folders)
        _write(f"{folders['memory']}/memory.limit_in_bytes", str(memory))
        with contextlib.suppress(OSError):  # only with swap accounting
            _write(f"{folders['memory']}/memory.memsw.limit_in_bytes", str(memory))
        _write(f"{folders['pids']}/pids.max", str(processes))
        _write(f"{folders['cpu']}/cpu.cfs_period_us", str(PERIOD_US))
        _write(f"{folders['cpu']}/cpu.cfs_quota_us", str(PERIOD_US))
        return group

    def remove(self) -> None:
        SandboxGroup(self.version, self.parents).remove()


def _create_v2() -> BatchGroups:
    mount = _mount_point("cgroup2")
    if mount is None:
        raise OSError(2, "cgroup v2: not mounted")
    own = next((line[3:] for line in _own() if line.startswith("0::")), None)
    if own is None:
        raise OSError(2, "cgroup v2: this process is in no v2 group")
    here = os.path.join(mount, own.lstrip("/"))
    available = _read(f"{here}/cgroup.controllers").split()
    missing = [c for c in V2_CONTROLLERS if c not in available]
    if missing:
        raise OSError(95, f"cgroup v2: {here} lacks the {', '.join(missing)} controller(s)")
    enabled = _read(f"{here}/cgroup.subtree_control").split()
    try:
        if any(c not in enabled for c in V2_CONTROLLERS):
            _write(f"{here}/cgroup.subtree_control", " ".join(f"+{c}" for c in V2_CONTROLLERS))
        parent = f"{here}/grader-{os.getpid()}"
        os.mkdir(parent)
    except OSError as error:
        raise OSError(error.errno, f"cgroup v2: cannot create groups in {here} ({error.strerror}); "
                      "start the grader in a delegated group (systemd-run --user -p Delegate=yes)") from None
    try:
        _write(f"{parent}/cgroup.subtree_control", " ".join(f"+{c}" for c in V2_CONTROLLERS))
    except OSError as error:
        os.rmdir(parent)
        raise OSError(error.errno, f"cgroup v2: cannot enable controllers in {parent}") from None
    return BatchGroups(2, dict.fromkeys(V2_CONTROLLERS, parent))


def _create_v1() -> BatchGroups:
    own = {}
    for line in _own():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            own[controller] = path
    parents: dict[str, str] = {}
    try:
        for controller in V1_CONTROLLERS:
            mount = _mount_point("cgroup", controller)
            if mount is None or controller not in own:
                raise OSError(2, f"cgroup v1: no {controller} hierarchy")
            parent = os.path.join(mount, own[controller].lstrip("/"), f"grader-{os.getpid()}")
            if parent not in parents.values():  # cpu and cpuacct are often mounted together
                try:
                    os.mkdir(parent)
                except OSError as error:
                    raise OSError(error.errno, f"cgroup v1: cannot create {parent} ({error.strerror})") \
                        from None
            parents[controller] = parent
    except OSError:
        BatchGroups(1, parents).remove()
        raise
    return BatchGroups(1, parents)


def _mount_point(fstype: str, controller: str | None = None) -> str | None:
    for line in _read("/proc/self/mounts").splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == fstype:
            if controller is None or controller in fields[3].split(","):
                return fields[1]
    return None


def _own() -> list[str]:
    return _read("/proc/self/cgroup").splitlines()


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0  # unknown: moved as a whole process


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _write(path: str, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)
