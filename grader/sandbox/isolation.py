"""Kernel protections for the sandbox: namespaces, mounts and resource limits.

Runs in the forked sandbox process, before student code. Works as root and, where the kernel
allows unprivileged user namespaces, without root; where it cannot, the sandbox still runs, with
fewer protections, and the report says which ones were active.

Layout: the first sandbox process enters new user, mount, PID and network namespaces, makes the
whole file system read-only, hides the secret paths (reference, tests, other submissions, the
output folder) under empty tmpfs mounts, and gives the student a private tmpfs as scratch space.
The student's process is PID 1 of the new PID namespace, so when it ends, every process it started
ends too, new sessions included. It then enters one more user and mount namespace, which locks
those mounts: the student cannot unmount or remount them.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 1, 38, 36
SYS_MOUNT_SETATTR = 442  # x86_64 and aarch64 share this number
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY = 1

_libc = ctypes.CDLL(None, use_errno=True)

PROTECTIONS = {
    "namespaces": "own user, mount, PID and network namespaces (no network; its processes die with it)",
    "readonly_fs": "the file system is read-only; scratch space is a private tmpfs",
    "hidden_paths": "reference, tests, other submissions and the output folder are hidden",
    "rlimits": "memory, file size and core-dump limits",
    "scrubbed_env": "environment variables scrubbed",
    "session": "own session and process group, killed at the end",
}


class IsolationError(OSError):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise IsolationError(errno, f"{what}: {os.strerror(errno)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode(), target.encode(), fstype.encode() if fstype else None,
            ctypes.c_ulong(flags), data.encode() if data else None,
        ),
        f"mount {target}",
    )


def make_tree_readonly(path: str = "/") -> None:
    attr = (ctypes.c_uint64 * 4)(MOUNT_ATTR_RDONLY, 0, 0, 0)
    result = _libc.syscall(
        SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), AT_RECURSIVE, ctypes.byref(attr), 32
    )
    _check(0 if result == 0 else -1, "mount_setattr")


def map_identity(uid: int, gid: int) -> None:
    """Keep our uid and gid inside a new user namespace."""
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


def become_subreaper() -> None:
    """Orphaned descendants are re-parented to us rather than to init."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def die_with_parent() -> None:
    _libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)


def enter_namespaces(hide: list[str], scratch: str, scratch_bytes: int) -> None:
    """In the first sandbox process: new namespaces, read-only root, hidden paths, scratch."""
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET)
    map_identity(uid, gid)
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    for path in hide:
        if os.path.isdir(path):
            mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=000")
        elif os.path.exists(path):
            mount("/dev/null", path, None, MS_BIND)
    make_tree_readonly("/")
    writable = f"size={scratch_bytes},mode=1777"
    for path in ("/tmp", "/dev/shm"):
        if os.path.isdir(path) and not _holds_python(path):  # a venv in /tmp must stay visible
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, writable)
    if os.path.isdir(scratch):  # /tmp kept (it holds Python): the scratch gets a tmpfs of its own
        mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, writable)
    else:  # inside the fresh /tmp
        os.makedirs(scratch, mode=0o700)


def _holds_python(folder: str) -> bool:
    """Whether the Python installation, its packages or the grader live inside ``folder``."""
    import site

    inside = [sys.prefix, sys.base_prefix, os.path.dirname(os.path.abspath(__file__)),
              *site.getsitepackages()]
    root = os.path.realpath(folder)
    return any(os.path.realpath(path).startswith(root + os.sep) for path in inside)


def lock_namespaces() -> None:
    """In the student's process (PID 1 of the new namespace): own /proc, then lock the mounts."""
    uid, gid = os.getuid(), os.getgid()
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    unshare(CLONE_NEWUSER | CLONE_NEWNS)
    map_identity(uid, gid)


def limit_resources(memory_bytes: int, file_bytes: int, address_space: bool = True) -> None:
    """Memory beyond what is mapped now, file size, no core dumps.

    On the CPU the limit is on address space; CUDA reserves vast address ranges it never uses,
    so with a GPU the limit is on the data segment instead.
    """
    kind = resource.RLIMIT_AS if address_space else resource.RLIMIT_DATA
    mapped = _mapped_bytes("VmSize:" if address_space else "VmData:")
    resource.setrlimit(kind, (mapped + memory_bytes, mapped + memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _mapped_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0


def namespaces_supported() -> tuple[bool, str]:
    """Whether this machine lets us create the sandbox's namespaces (tried in a throwaway child)."""
    pid = os.fork()
    if pid == 0:
        try:
            enter_namespaces([], "/tmp", 4096)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return True, "user, mount, PID and network namespaces available"
    return False, "this kernel does not let this user create namespaces (unprivileged user namespaces off?)"
