"""What to say when a protection is missing: one line naming what is missing on this machine and
the fix for this machine, for the summary of ``grader grade``, ``grader ci`` (on stderr) and
``grader check``, and for ``grader doctor``. The protections are those measured inside a real
sandbox (:mod:`grader.sandbox.selftest`); nothing here is guessed about what is present.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys

# Each protection in a few words (the doctor's table, the warning line).
LABELS = {
    "namespaces": "own namespaces, no network",
    "unprivileged": "unprivileged user, no capabilities",
    "allowlist_fs": "allow-listed read-only root",
    "private_tmp": "private /tmp and /dev/shm",
    "proc": "own read-only /proc",
    "seccomp": "system-call filter (seccomp)",
    "socket_families": "socket families: unix, IP, netlink route only",
    "no_new_privs": "no new privileges",
    "cgroup": "cgroup limits (memory, processes, CPU)",
    "rlimits": "per-process limits",
    "scrubbed_env": "scrubbed environment",
    "session": "own session, killed at the end",
}
# What the fallback sandbox (no namespaces) lacks: the summary names them when they are missing.
NAMESPACE_PROTECTIONS = ("namespaces", "allowlist_fs", "private_tmp", "proc")
NOT_SANDBOXED = ("not sandboxed: your code runs in a plain process with a time limit, as you, "
                 "with your files and the network (the grade itself is computed in the sandbox)")


def missing(protections: dict[str, bool]) -> list[str]:
    """The protections measured missing, in :data:`LABELS`' order."""
    return [name for name in LABELS if name in protections and not protections[name]]


def this_command() -> str:
    """The command line that is running, as a person would type it again."""
    return shlex.join(["grader", *sys.argv[1:]]) if sys.argv[1:] else "grader grade ..."


def machine() -> tuple[int, bool, bool]:
    """The facts the fix depends on: the effective uid, whether systemd-run exists, whether the
    cgroup file system is unified (v2)."""
    return (os.geteuid(), shutil.which("systemd-run") is not None,
            os.path.exists("/sys/fs/cgroup/cgroup.controllers"))


def fixes(names: list[str]) -> list[str]:
    """How to get the missing protections ``names`` on this machine."""
    euid, systemd_run, unified = machine()
    found = []
    if any(name in (*NAMESPACE_PROTECTIONS, "unprivileged") for name in names):
        found.append("enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 "
                     "and user.max_user_namespaces > 0), or grade as root in a container")
    if "cgroup" in names:
        if euid != 0 and unified and systemd_run:
            found.append(f"start the grader in a delegated cgroup: systemd-run --user --scope -p "
                         f"Delegate=yes {this_command()}")
        elif euid != 0:
            found.append("start the grader in a cgroup v2 subtree delegated to you (with memory, pids "
                         "and cpu), or as root where the cgroup controllers are mounted")
        else:
            found.append("mount the memory, pids and cpu cgroup controllers (v1), or give the grader a "
                         "cgroup v2 subtree with them")
    if "seccomp" in names or "no_new_privs" in names:
        found.append("use a Linux kernel with seccomp filters (CONFIG_SECCOMP_FILTER)")
    return found


def warning_line(protections: dict[str, bool]) -> str | None:
    """One line: which protections are missing here, and the fix; None when none is missing."""
    names = missing(protections)
    if not names:
        return None
    fix = "; ".join(fixes(names)) or "see grader doctor"
    return (f"warning: sandbox protections missing on this machine: "
            f"{', '.join(LABELS[name] for name in names)}; fix: {fix}")
