"""System calls a student never needs, refused with ``EPERM`` (pyseccomp over libseccomp).

A deny-list on top of the allow-listed file system and the unprivileged user: each entry closes a
way out or a way to reach the kernel's less-tested corners, chosen from Docker's default profile
(``profiles/seccomp/default.json``: what needs ``CAP_SYS_ADMIN`` and friends) and PrairieLearn's
grading containers. Everything else is allowed: torch, NumPy, threads and ``fork`` must work.

Socket families are an allow-list (:data:`SOCKET_FAMILIES`): ``socket`` and ``socketpair`` are
refused with ``EPERM`` for every other family, as Docker's and containerd's profiles refuse
``AF_VSOCK``. The network namespace does not cover every family: vsock, for one, reaches the
machine's hypervisor from any namespace.
"""

from __future__ import annotations

import errno
from typing import Any

# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
CLONE_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000,
                         0x40000000)

REFUSED: dict[str, str] = {
    # Looking into or steering other processes.
    "ptrace": "read and write another process's memory and registers",
    "process_vm_readv": "read another process's memory",
    "process_vm_writev": "write another process's memory",
    "kcmp": "compare kernel objects of other processes (an information leak)",
    "pidfd_getfd": "steal a file descriptor from another process",
    # Changing the sandbox's own walls.
    "mount": "mount file systems (uncover what is hidden)",
    "umount2": "unmount what hides the host",
    "pivot_root": "change the root again",
    "chroot": "change the root again",
    "unshare": "new namespaces: a user namespace gives back every capability inside it",
    "setns": "join another namespace",
    "open_tree": "new mount API: clone a mount",
    "move_mount": "new mount API: attach a mount",
    "fsopen": "new mount API",
    "fsconfig": "new mount API",
    "fsmount": "new mount API",
    "fspick": "new mount API: reconfigure a mount",
    "mount_setattr": "make a read-only mount writable",
    "name_to_handle_at": "open files by handle, around path checks (the 'shocker' escape)",
    "open_by_handle_at": "open files by handle, around path checks (the 'shocker' escape)",
    # The kernel's attack surface.
    "bpf": "load programs into the kernel",
    "perf_event_open": "performance counters: side channels and kernel bugs",
    "userfaultfd": "pause the kernel mid-copy: a staple of kernel exploits",
    "io_uring_setup": "io_uring: a second system-call path that seccomp cannot see",
    "io_uring_enter": "io_uring",
    "io_uring_register": "io_uring",
    "keyctl": "the kernel keyring is not namespaced",
    "add_key": "the kernel keyring is not namespaced",
    "request_key": "the kernel keyring is not namespaced",
    "lookup_dcookie": "kernel internals",
    "fanotify_init": "watch the whole file system",
    "quotactl": "disk quotas of the host",
    "syslog": "the kernel log",
    "personality": "turn off address-space randomisation",
    "vm86": "legacy CPU modes", "vm86old": "legacy CPU modes",
    "modify_ldt": "legacy segment tables: kernel bugs",
    "iopl": "direct hardware I/O", "ioperm": "direct hardware I/O",
    # The machine itself.
    "kexec_load": "replace the running kernel", "kexec_file_load": "replace the running kernel",
    "init_module": "load kernel modules", "finit_module": "load kernel modules",
    "delete_module": "unload kernel modules",
    "reboot": "reboot the machine",
    "swapon": "host swap", "swapoff": "host swap",
    "acct": "process accounting of the host",
    "settimeofday": "the host's clock", "clock_settime": "the host's clock",
    "clock_adjtime": "the host's clock", "adjtimex": "the host's clock",
    "sethostname": "the host name", "setdomainname": "the host name",
    "nfsservctl": "kernel NFS server", "uselib": "obsolete loader",
}


AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
NETLINK_ROUTE = 0
SOCKET_FAMILIES = {
    AF_UNIX: "AF_UNIX: multiprocessing, DataLoader workers and torch's own pipes use it; it reaches "
             "only what exists inside the sandbox (no host socket is shown)",
    AF_INET: "AF_INET: loopback inside the empty network namespace; code that downloads must fail "
             "fast with 'network unreachable', not with an unknown error",
    AF_INET6: "AF_INET6: as AF_INET",
    # glibc's getaddrinfo (its AI_ADDRCONFIG check) and if_nameindex open a NETLINK_ROUTE socket;
    # in the empty network namespace it shows only ``lo`` and, without CAP_NET_ADMIN, changes
    # nothing. Every other netlink protocol (audit, uevents, netfilter, crypto...) is a kernel
    # surface no student needs: refused.
    AF_NETLINK: "AF_NETLINK, NETLINK_ROUTE only: glibc's getaddrinfo and if_nameindex; it sees "
                "only the namespace's loopback",
}
# Kernel memory outside the address space, which only a cgroup would count: a socket's buffers
# stay at the default size (net.core.wmem_default, about 208 KB) and a pipe's at 64 KB.
SOL_SOCKET, SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE = 1, 7, 8, 32, 33
F_SETPIPE_SZ = 1031
FAMILY_LIMIT = 64  # AF_MAX is 46 on Linux 6.x: everything from here up is one rule


def available() -> bool:
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, OSError):  # the binding, or libseccomp itself, is missing
        return False
    return True


def build_filter() -> Any:
    """The filter, built once in the warm server (libseccomp loaded there), loaded per sandbox."""
    import pyseccomp as seccomp

    refuse = seccomp.ERRNO(errno.EPERM)
    syscall_filter = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in REFUSED:
        try:
            syscall_filter.add_rule(refuse, name)
        except (ValueError, RuntimeError, OSError):  # unknown on this architecture or libseccomp
            continue
    # clone with a namespace flag: new namespaces, as unshare. clone3 passes its flags in memory,
    # which seccomp cannot read: refuse it with ENOSYS so that libc falls back to clone (as Docker).
    for flag in CLONE_NAMESPACE_FLAGS:
        syscall_filter.add_rule(refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    try:
        syscall_filter.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    except (ValueError, RuntimeError, OSError):
        pass
    _refuse_socket_families(syscall_filter, seccomp)
    for option in (SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE):
        syscall_filter.add_rule(refuse, "setsockopt", seccomp.Arg(1, seccomp.EQ, SOL_SOCKET),
                                seccomp.Arg(2, seccomp.EQ, option))
    syscall_filter.add_rule(refuse, "fcntl", seccomp.Arg(1, seccomp.EQ, F_SETPIPE_SZ))
    return syscall_filter


def refused_families() -> list[int]:
    """The families below :data:`FAMILY_LIMIT` refused one by one (the rest: one rule)."""
    return [family for family in range(FAMILY_LIMIT) if family not in SOCKET_FAMILIES]


def _refuse_socket_families(syscall_filter: Any, seccomp: Any) -> None:
    """``socket``/``socketpair`` with a family not in :data:`SOCKET_FAMILIES`: ``EPERM``.
    libseccomp takes one comparison per argument per rule, so the allow-list is written as the
    families it refuses: each one below ``FAMILY_LIMIT``, and everything at or above it (a value
    with any of the upper 32 bits set included). A netlink socket of another protocol than
    NETLINK_ROUTE is refused by its third argument."""
    refuse = seccomp.ERRNO(errno.EPERM)
    for call in ("socket", "socketpair"):
        for family in refused_families():
            syscall_filter.add_rule(refuse, call, seccomp.Arg(0, seccomp.EQ, family))
        syscall_filter.add_rule(refuse, call, seccomp.Arg(0, seccomp.GE, FAMILY_LIMIT))
        syscall_filter.add_rule(refuse, call, seccomp.Arg(0, seccomp.EQ, AF_NETLINK),
                                seccomp.Arg(2, seccomp.NE, NETLINK_ROUTE))
