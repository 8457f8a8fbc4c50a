"""The sandbox's root: a new tree built from the :mod:`grader.sandbox.policy`, then ``pivot_root``.

:func:`build_root` runs in the sandbox's first process, in its own mount namespace, so the tree
exists for that sandbox only and vanishes with it. :func:`enter_root` runs in the student's
process, PID 1 of the new PID namespace: it mounts a ``/proc`` of that namespace (read-only, a
few files masked), then makes the tree its root and detaches the old one, so no path leads back.
About twenty mounts: a millisecond or two per sandbox.
"""

from __future__ import annotations

import os

from grader.sandbox import isolation
from grader.sandbox.isolation import (
    MOUNT_ATTR_NOSUID,
    MOUNT_ATTR_RDONLY,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_RDONLY,
)
from grader.sandbox.policy import PROC_MASKED, WORKDIR, Policy

SHM = ".shm"  # /dev/shm is this folder of the scratch tmpfs: one size limit for both


def build_root(root: str, policy: Policy, scratch_bytes: int, files: list[tuple[str, str]]) -> None:
    """Mount the sandbox's tree at ``root`` (an existing empty folder): read-only but ``/tmp``."""
    isolation.mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    scratch = root + WORKDIR
    os.makedirs(scratch)
    isolation.mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch_bytes},mode=1777")
    os.mkdir(f"{scratch}/{SHM}", 0o1777)
    os.chmod(f"{scratch}/{SHM}", 0o1777)
    for path in policy.read_only:
        _bind(path, root + path)
    for path, target in policy.symlinks:
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        os.symlink(target, root + path)
    for path in policy.masked:
        isolation.mount("tmpfs", root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=000")
    _etc(root, policy.etc_files)
    _dev(root, policy.devices)
    if policy.sysfs:
        _bind("/sys", root + "/sys")
    for host, inside in files:
        _bind(host, root + inside)
    os.makedirs(root + "/proc", exist_ok=True)
    isolation.set_mount_attributes(root, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID)
    for writable in (scratch, f"{root}/dev/shm"):
        isolation.set_mount_attributes(writable, 0, MOUNT_ATTR_RDONLY, recursive=False)


def enter_root(root: str) -> None:
    """In the student's process (PID 1 of its namespace): own ``/proc``, then ``root`` becomes ``/``."""
    proc = root + "/proc"
    isolation.mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_MASKED:
        if os.path.isfile(f"{proc}/{name}"):
            isolation.mount(root + "/dev/null", f"{proc}/{name}", None, MS_BIND)
    isolation.set_mount_attributes(proc, MOUNT_ATTR_RDONLY)  # /proc/sys included
    isolation.enter_root(root)
    os.chdir(WORKDIR)


def _bind(host: str, target: str) -> None:
    """Bind ``host`` at ``target``, creating the mount point (a folder, or an empty file)."""
    if os.path.isdir(host):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "a"):
            pass
    isolation.bind(host, target)


def _etc(root: str, files: dict[str, str]) -> None:
    os.makedirs(root + "/etc", exist_ok=True)
    for name, text in files.items():
        with open(f"{root}/etc/{name}", "w") as handle:
            handle.write(text)


def _dev(root: str, devices: tuple[str, ...]) -> None:
    os.makedirs(root + "/dev", exist_ok=True)
    for device in devices:
        _bind(device, root + device)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{name}")
    os.makedirs(root + "/dev/shm")
    isolation.bind(f"{root}{WORKDIR}/{SHM}", root + "/dev/shm")
