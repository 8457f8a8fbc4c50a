"""Escape attempts against the allow-listed sandbox, graded in one batch beside honest students.

Each file of ``tests/data/escape/`` tries one way out (kernel settings, host sockets, the installed
package's references, any solution on disk, home folders, memory over several processes and the
tmpfs mounts, a fork bomb, each refused system call), graded with ``alice.py`` and ``bob.ipynb``,
who must keep 10/10. A neighbour that hogs the CPU is graded in a batch of its own at ``-j 2`` with
a short time limit. CI runs this file twice: as root and as an ordinary user (``.ci/run``).
Where a protection is reported missing (no cgroup for an ordinary user), the test for it checks
that the report says so instead: a protection that silently fails is a failing test.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, grade_folder
from grader.sandbox.policy import python_paths
from grader.sandbox.pool import measure_sandbox
from grader.sandbox.seccomp import REFUSED

ESCAPE = ROOT / "tests" / "data" / "escape"
HONEST = {"alice": EXAMPLES / "custom_layer" / "alice.py", "bob": EXAMPLES / "custom_layer" / "bob.ipynb"}
OPTIONS = {"timeout": 8, "memory": 512 * 1024**2}
SOCKET_FOLDER = Path("/var/tmp/grader-escape")
HELD_MB = 200  # what each child of memory_sum.py holds


@pytest.fixture(scope="module")
def hello():
    measured = measure_sandbox()
    if not measured.namespaces:
        pytest.skip("no sandbox namespaces here: the escape attempts would act on this machine")
    return measured


class Listener:
    """Unix sockets on the host (a path outside the submissions, and an abstract name): a
    connection from a sandbox is recorded."""

    def __init__(self) -> None:
        self.connections: list[str] = []
        self.sockets = []
        SOCKET_FOLDER.mkdir(mode=0o777, exist_ok=True)
        for address in (str(SOCKET_FOLDER / "host.sock"), "\0grader-escape"):
            if not address.startswith("\0") and os.path.exists(address):
                os.remove(address)
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(address)
            if not address.startswith("\0"):
                os.chmod(address, 0o777)  # anyone may connect: only the sandbox's walls stop it
            server.listen()
            server.settimeout(0.2)
            self.sockets.append((address, server))
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.running:
            for address, server in self.sockets:
                try:
                    connection, _ = server.accept()
                except OSError:
                    continue
                self.connections.append(repr(address))
                connection.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        for _, server in self.sockets:
            server.close()
        shutil.rmtree(SOCKET_FOLDER, ignore_errors=True)


def host_settings() -> dict[str, str]:
    return {name: Path(f"/proc/sys/kernel/{name}").read_text() for name in ("hostname", "core_pattern")}


@pytest.fixture(scope="module")
def escaped(hello):
    """The batch: every escape file, alice and bob, graded once, with a listener on the host."""
    folder = Path(tempfile.mkdtemp(prefix="grader-escape-"))
    for path in ESCAPE.glob("*.py"):
        if path.stem not in ("cpu_hog", "slow_honest"):
            shutil.copy(path, folder)
    for student, path in HONEST.items():
        shutil.copy(path, folder / f"{student}{path.suffix}")
    before = host_settings()
    listener = Listener()
    try:
        graded = grade_folder("custom_layer", folder, **OPTIONS)
    finally:
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)
    return graded, before, host_settings(), listener.connections


def said(graded, student: str) -> dict[str, str]:
    """The ``ESCAPE key: value`` lines a submission printed."""
    output = next(run.output for run in graded.batch.runs if run.submission.student == student)
    return dict(re.findall(r"^ESCAPE (.+?): (.*)$", output, re.MULTILINE))


def test_honest_students_keep_full_marks(escaped):
    graded = escaped[0]
    for student in HONEST:
        row = graded.row(student)
        assert (row.score, row.status, row.message) == (10, "graded", "all tests passed"), student


def test_every_protection_was_active(escaped, hello):
    """run.json's source: every protection measured inside a real sandbox (cgroups need root)."""
    graded = escaped[0]
    missing = {name for name, active in graded.batch.protections.items() if not active}
    expected_missing = set() if os.geteuid() == 0 else {"cgroup"} - set(
        name for name, active in hello.protections.items() if active)
    assert missing == expected_missing, hello.details


def test_kernel_settings_of_the_host_are_untouched(escaped):
    graded, before, after, _ = escaped
    assert after == before
    seen = said(graded, "sysctl")
    assert set(seen) == {"kernel/hostname", "kernel/core_pattern", "sethostname"}, seen
    assert all(value.startswith("refused") for value in seen.values()), seen
    assert graded.row("sysctl").score == 10  # its own correct code still counts


def test_host_sockets_cannot_be_reached(escaped):
    graded, _, _, connections = escaped
    assert connections == []
    seen = said(graded, "host_socket")
    assert len(seen) == 3 and all(value.startswith("refused") for value in seen.values()), seen


def test_no_way_back_to_the_graders_namespaces(escaped):
    """The student's process holds no descriptor but its output and its results' (the sandbox's
    own, the server's PID namespace included, are closed before it runs), joins no namespace, is
    PID 1 with no parent in view, and sees no process outside its sandbox."""
    seen = said(escaped[0], "namespaces")
    fds = [int(fd) for fd in seen["fds"].split()]
    assert fds[:3] == [0, 1, 2] and len(fds) <= 5, seen  # + the result pipe, + listdir's own
    assert seen["joined"] == "none", seen
    assert seen["parent"] == "0", seen
    assert seen["pids"].split()[0] == "1" and len(seen["pids"].split()) <= 2, seen
    assert escaped[0].row("namespaces").score == 10


def test_the_installed_references_cannot_be_read(escaped):
    graded = escaped[0]
    assert said(graded, "bundled_reference") == {}  # not one candidate could be opened
    assert graded.row("bundled_reference").score == 0


def test_no_solution_is_found_anywhere(escaped):
    graded = escaped[0]
    assert said(graded, "find_solution") == {"found": "None"}
    assert graded.row("find_solution").score == 0


def test_home_folders_and_host_secrets_do_not_exist(escaped):
    """Only the folders leading to the Python installation exist (empty but for that path)."""
    seen = said(escaped[0], "home")
    for path in ("/root", "/home", "/etc/shadow", "/var/tmp", "/run", "/srv", "/opt", "/mnt", "/work"):
        leads_to = sorted({p[len(path) + 1:].split("/")[0] for p in python_paths() if p.startswith(path + "/")})
        expected = str(leads_to) if leads_to else f"refused {errno.ENOENT}"
        assert seen[path] == expected, (path, seen[path])
    assert "root:" in seen["/etc/passwd"] and "student" in seen["/etc/passwd"]  # the sandbox's own


def test_memory_is_limited_for_the_whole_sandbox(escaped, hello):
    seen = said(escaped[0], "memory_sum")
    if not hello.protections.get("cgroup"):
        assert "cgroup" not in escaped[0].batch.protections or not escaped[0].batch.protections["cgroup"]
        pytest.skip(f"no cgroup here ({hello.details.get('cgroup')}): per-process limits only, as reported")
    holding = int(seen.get("children_holding", "0").split()[0]) if "children_holding" in seen else 0
    assert holding * HELD_MB <= OPTIONS["memory"] >> 20, seen
    assert int(seen.get("tmpfs_mb", "0")) <= 256, seen


def test_a_fork_bomb_stops_at_the_process_limit(escaped, hello):
    seen = said(escaped[0], "fork_count")
    if not hello.protections.get("cgroup"):
        pytest.skip(f"no cgroup here ({hello.details.get('cgroup')}): no process limit, as reported")
    assert int(seen["forked"]) < 128, seen
    assert seen.get("fork_refused") == str(errno.EAGAIN), seen
    assert escaped[0].row("fork_count").score == 10


def test_each_refused_system_call_is_refused(escaped, hello):
    if os.uname().machine != "x86_64":
        pytest.skip("the escape file knows x86_64's system call numbers")
    seen = said(escaped[0], "syscalls")
    calls = {key.removeprefix("syscall "): value for key, value in seen.items() if key.startswith("syscall ")}
    assert len(calls) >= 25, seen
    for name, value in calls.items():
        assert name in REFUSED or name == "clone_newuser", name
        assert value == f"errno {errno.EPERM}", (name, value)
    assert hello.protections["seccomp"], hello.details["seccomp"]


def test_a_cpu_hog_does_not_slow_its_neighbours(hello, tmp_path):
    """12 busy processes in their own sessions, graded at -j 2 beside three honest students who
    each need about a second of CPU: they keep what they get alone."""
    shutil.copy(ESCAPE / "cpu_hog.py", tmp_path)
    for name in ("honest1", "honest2", "honest3"):
        shutil.copy(ESCAPE / "slow_honest.py", tmp_path / f"{name}.py")
    graded = grade_folder("custom_layer", tmp_path, timeout=4, memory=OPTIONS["memory"])
    if not hello.protections.get("cgroup"):
        pytest.skip(f"no cgroup here ({hello.details.get('cgroup')}): no CPU fairness, as reported")
    for name in ("honest1", "honest2", "honest3"):
        row = graded.row(name)
        assert (row.score, row.status) == (10, "graded"), (name, row.message)
    assert graded.row("cpu_hog").status == "timeout"
