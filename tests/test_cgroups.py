"""The cgroup a sandbox gets, on a cgroup v2 host and on a v1 (hybrid) host.

The real hierarchy of this machine is whatever it is (v1 here, measured by tests/test_escape.py);
these tests build a fake hierarchy of plain files in a temporary folder, so that both layouts are
checked everywhere: what is created, under which parent, with which limits, and what is removed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.sandbox import cgroups

MEMORY, TASKS = 512 * 1024**2, 128


@pytest.fixture
def v2_host(tmp_path, monkeypatch):
    """A delegated v2 subtree: /sys/fs/cgroup/user.slice/grader.scope with all three controllers."""
    own = tmp_path / "user.slice" / "grader.scope"
    own.mkdir(parents=True)
    (own / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (own / "cgroup.subtree_control").write_text("")
    monkeypatch.setattr(cgroups, "_mount_point", lambda fstype, controller=None:
                        str(tmp_path) if fstype == "cgroup2" else None)
    monkeypatch.setattr(cgroups, "_own", lambda: ["0::/user.slice/grader.scope"])
    return own


def test_v2_groups_live_beneath_the_graders_own_group(v2_host):
    batch, why = cgroups.BatchGroups.create()
    assert batch is not None and batch.version == 2, why
    parent = Path(batch.parents["memory"])
    assert parent.parent == v2_host and parent.name.startswith("grader-")
    assert (v2_host / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (parent / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    group = batch.sandbox(MEMORY, TASKS)
    folder = Path(group.folders["memory"])
    assert folder.parent == parent
    assert (folder / "memory.max").read_text() == str(MEMORY)
    assert (folder / "pids.max").read_text() == str(TASKS)
    assert (folder / "cpu.max").read_text() == "100000 100000"  # one core
    (folder / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\n")
    assert group.cpu_seconds() == 2.5
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.out_of_memory()


def test_v2_without_the_controllers_says_why(v2_host):
    (v2_host / "cgroup.controllers").write_text("cpuset io\n")
    batch, why = cgroups.BatchGroups.create()
    assert batch is None
    assert "lacks the memory, pids, cpu controller(s)" in why


def test_v1_groups_one_per_hierarchy(tmp_path, monkeypatch):
    """A hybrid host: v1 hierarchies for memory, pids, cpu and cpuacct, the grader in /ci/job."""
    mounts = {}
    for controller in cgroups.V1_CONTROLLERS:
        (tmp_path / controller / "ci" / "job").mkdir(parents=True)
        mounts[controller] = str(tmp_path / controller)
    monkeypatch.setattr(cgroups, "_mount_point", lambda fstype, controller=None:
                        mounts.get(controller) if fstype == "cgroup" else None)
    monkeypatch.setattr(cgroups, "_own", lambda: [f"{i}:{c}:/ci/job" for i, c in
                                                  enumerate(cgroups.V1_CONTROLLERS)] + ["0::/"])
    batch, why = cgroups.BatchGroups.create()
    assert batch is not None and batch.version == 1, why
    group = batch.sandbox(MEMORY, TASKS)
    memory = Path(group.folders["memory"])
    assert memory.parent.parent == tmp_path / "memory" / "ci" / "job"
    assert (memory / "memory.limit_in_bytes").read_text() == str(MEMORY)
    assert (Path(group.folders["pids"]) / "pids.max").read_text() == str(TASKS)
    assert (Path(group.folders["cpu"]) / "cpu.cfs_quota_us").read_text() == "100000"
    (Path(group.folders["cpuacct"]) / "cpuacct.usage").write_text("1500000000")
    assert group.cpu_seconds() == 1.5
    for folder in group.folders.values():  # a real kernel removes the files with the folder
        for file in Path(folder).iterdir():
            file.unlink()
    group.remove()
    batch.remove()
    assert not any(list((tmp_path / c / "ci" / "job").iterdir()) for c in cgroups.V1_CONTROLLERS)


def test_v1_moves_a_process_of_one_thread_through_tasks(tmp_path, monkeypatch):
    """cgroup.procs would wait for an RCU grace period (12-16 ms) on every sandbox; a process of one
    thread (the sandbox's first process, a fork) moves wholly through ``tasks``. A process of more
    threads never does: its other threads would stay outside the group."""
    folders = {name: tmp_path / name for name in ("memory", "pids")}
    for folder in folders.values():
        folder.mkdir()
    group = cgroups.SandboxGroup(1, {name: str(folder) for name, folder in folders.items()})
    monkeypatch.setattr(cgroups, "_threads", lambda: 1)
    group.join()
    assert all((f / "tasks").read_text() == "0" and not (f / "cgroup.procs").exists()
               for f in folders.values())
    monkeypatch.setattr(cgroups, "_threads", lambda: 3)
    group.join()
    assert all((f / "cgroup.procs").read_text() == "0" for f in folders.values())
    v2 = cgroups.SandboxGroup(2, dict.fromkeys(cgroups.V2_CONTROLLERS, str(tmp_path / "memory")))
    monkeypatch.setattr(cgroups, "_threads", lambda: 1)
    (folders["memory"] / "cgroup.procs").unlink()
    v2.join()  # v2 has no tasks file
    assert (folders["memory"] / "cgroup.procs").read_text() == "0"


def test_threads_counts_this_process(monkeypatch):
    import threading

    alone = cgroups._threads()
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:
        assert cgroups._threads() == alone + 1
    finally:
        stop.set()
        helper.join()
