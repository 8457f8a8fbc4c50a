"""Kernel primitives the sandbox is built from: namespaces, mounts, identity, capabilities, limits.

Thin wrappers over the system calls Python does not expose (``unshare``, ``mount``,
``mount_setattr``, ``pivot_root``, ``capset``), each raising :class:`IsolationError` with the
call's name. Which calls run in which process, and in what order, is :mod:`grader.sandbox.process`'s.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 1, 38, 36
PR_CAPBSET_DROP, PR_SET_DUMPABLE = 24, 4
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 1, 2, 4
_SYSCALLS = {  # numbers Python's os module has no wrapper for
    "x86_64": {"pivot_root": 155, "mount_setattr": 442, "capset": 126},
    "aarch64": {"pivot_root": 41, "mount_setattr": 442, "capset": 91},
}
SANDBOX_ID = 61_000  # the uid and gid student code runs as when the grader runs as root

_libc = ctypes.CDLL(None, use_errno=True)


class IsolationError(OSError):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise IsolationError(errno, f"{what}: {os.strerror(errno)}")


def _syscall(name: str, *args: object) -> int:
    numbers = _SYSCALLS.get(platform.machine())
    if numbers is None:
        raise IsolationError(38, f"{name}: not supported on {platform.machine()}")
    return _libc.syscall(numbers[name], *args)


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, kind: int) -> None:
    """Join the namespace ``fd`` refers to (for the PID namespace: the one children are born in)."""
    _check(_libc.setns(fd, kind), "setns")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode(), target.encode(), fstype.encode() if fstype else None,
            ctypes.c_ulong(flags), data.encode() if data else None,
        ),
        f"mount {target}",
    )


def bind(source: str, target: str) -> None:
    mount(source, target, None, MS_BIND | MS_REC)


def set_mount_attributes(path: str, set_flags: int, clear_flags: int = 0, recursive: bool = True) -> None:
    """``mount_setattr``: e.g. make a whole tree read-only, then one mount of it writable again."""
    attr = (ctypes.c_uint64 * 4)(set_flags, clear_flags, 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    result = _syscall("mount_setattr", AT_FDCWD, path.encode(), flags, ctypes.byref(attr), 32)
    _check(0 if result == 0 else -1, f"mount_setattr {path}")


def enter_root(new_root: str) -> None:
    """Make ``new_root`` this mount namespace's ``/`` and drop every trace of the old one."""
    os.chdir(new_root)
    _check(0 if _syscall("pivot_root", b".", b".") == 0 else -1, "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")


def map_user(pid: str, inside: int, outside: int, gid_inside: int, gid_outside: int) -> None:
    """Write a user namespace's one-line uid and gid maps (``pid``: ``self`` or a number)."""
    Path(f"/proc/{pid}/setgroups").write_text("deny")
    Path(f"/proc/{pid}/uid_map").write_text(f"{inside} {outside} 1")
    Path(f"/proc/{pid}/gid_map").write_text(f"{gid_inside} {gid_outside} 1")


def become(uid: int, gid: int) -> None:
    """As real root: become an unprivileged user with no supplementary groups (drops every capability)."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # its /proc/self stays its own (ptrace is refused anyway)


def drop_capabilities() -> None:
    """No capability left in any set, and none to be gained back from the bounding set."""
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:
            break  # EINVAL: past the last capability this kernel knows
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable; two 32-bit words each
    _check(0 if _syscall("capset", ctypes.byref(header), ctypes.byref(data)) == 0 else -1, "capset")


def no_new_privileges() -> None:
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def become_subreaper() -> None:
    """Orphaned descendants are re-parented to us rather than to init."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def die_with_parent() -> None:
    _libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)


OPEN_FILES = 256  # descriptors per process: each socket holds at most its default buffers
PROCESSES_WITHOUT_CGROUP = 32  # tasks of a sandbox in its own user namespace, where no cgroup counts


def limit_resources(memory_bytes: int, file_bytes: int, address_space: bool = True,
                    processes: int | None = None) -> None:
    """Per-process limits: memory beyond what is mapped now, file size, open files, no core dumps;
    ``processes``: the tasks of this user (in a user namespace of its own: of this sandbox).

    Within a cgroup they only make a large allocation fail with ``MemoryError`` (the student's
    cell reports it) before the cgroup's limit kills the whole sandbox. On the CPU the limit is on
    address space; CUDA reserves vast address ranges it never uses, so with a GPU it is on data.
    Without a cgroup, what the kernel holds for a process outside its address space (socket and
    pipe buffers) is bounded by the open files (and the seccomp filter's fixed buffer sizes).
    """
    kind = resource.RLIMIT_AS if address_space else resource.RLIMIT_DATA
    mapped = _mapped_bytes("VmSize:" if address_space else "VmData:")
    resource.setrlimit(kind, (mapped + memory_bytes, mapped + memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    if processes is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))


def _mapped_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0
