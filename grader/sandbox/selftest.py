"""Each protection, measured from inside a real sandbox (never assumed): what ``run.json``,
the summary and ``grader doctor`` report. The warm server runs it once when it starts."""

from __future__ import annotations

import errno
import json
import os
import resource
import socket
from collections.abc import Callable

PROTECTIONS = {
    "namespaces": "own mount, PID, network, IPC and UTS namespaces: no network; its processes die with it",
    "unprivileged": "student code runs as an unprivileged user with no capabilities (never the real root)",
    "allowlist_fs": "an allow-listed read-only root: Python, its packages and the grader only "
                    "(no reference, tests, submissions, report, home folder, checkout or host socket)",
    "private_tmp": "a private size-limited tmpfs for /tmp (the working folder) and /dev/shm",
    "proc": "its own read-only /proc: no host kernel settings, no other processes",
    "seccomp": "system calls it never needs are refused (seccomp)",
    "socket_families": "only the socket families it needs (unix, IPv4, IPv6, netlink route): "
                       "vsock and the rest refused",
    "no_new_privs": "no new privileges (set-uid programs give none)",
    "cgroup": "cgroup limits on the whole sandbox: memory (tmpfs included), process count, one CPU core",
    "rlimits": "per-process memory, file size, open files and core-dump limits",
    "scrubbed_env": "environment variables scrubbed",
    "session": "own session and process group, killed at the end",
}
TOP_LEVEL = {"usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32", "etc", "dev", "proc", "tmp", "sys"}


def measure(secrets: list[str], allowed_top: set[str], group_name: str | None, env_keys: set[str],
            scratch_bytes: int) -> Callable[[int], None]:
    """What the student's process of the self-test sandbox runs: every check, as one JSON line."""

    def run(result_fd: int) -> None:
        results: dict[str, tuple[bool, str]] = {}
        checks = {
            "namespaces": _namespaces,
            "unprivileged": _unprivileged,
            "allowlist_fs": lambda: _allowlist(secrets, allowed_top),
            "private_tmp": lambda: _private_tmp(scratch_bytes),
            "proc": _proc,
            "seccomp": lambda: _status_field("Seccomp", "2", "filter mode"),
            "socket_families": _socket_families,
            "no_new_privs": lambda: _status_field("NoNewPrivs", "1", "set"),
            "cgroup": lambda: _cgroup(group_name),
            "rlimits": _rlimits,
            "scrubbed_env": lambda: _environment(env_keys),
            "session": lambda: (os.getsid(0) == os.getpid(), f"session {os.getsid(0)}"),
        }
        for name, check in checks.items():
            try:
                results[name] = check()
            except Exception as error:  # noqa: BLE001 - a check that cannot run did not pass
                results[name] = (False, f"{type(error).__name__}: {error}")
        os.write(result_fd, json.dumps(results).encode())

    return run


def _namespaces() -> tuple[bool, str]:
    with open("/proc/net/dev") as handle:
        interfaces = sorted(line.split(":")[0].strip() for line in handle.readlines()[2:])
    try:
        with socket.create_connection(("10.0.0.1", 53), timeout=0.2):
            network = True
    except OSError:
        network = False
    ok = os.getpid() == 1 and interfaces == ["lo"] and not network
    return ok, f"PID {os.getpid()} in its namespace; network interfaces {interfaces}"


AF_VSOCK = 40
REFUSED_FAMILIES = {AF_VSOCK: "vsock", 17: "packet", 31: "bluetooth", 38: "alg"}


def _socket_families() -> tuple[bool, str]:
    """A vsock socket (only created: never bound or connected) refused with ``EPERM``: that is the
    filter; ``EAFNOSUPPORT`` would be a kernel without vsock, which proves nothing. A unix socket
    must still work."""
    answers = {}
    for family, name in REFUSED_FAMILIES.items():
        try:
            socket.socket(family, socket.SOCK_STREAM if family == AF_VSOCK else socket.SOCK_RAW).close()
            answers[name] = "created"
        except OSError as error:
            answers[name] = errno.errorcode.get(error.errno or 0, str(error.errno))
    try:
        for end in socket.socketpair(socket.AF_UNIX):
            end.close()
        answers["unix"] = "created"
    except OSError as error:
        answers["unix"] = errno.errorcode.get(error.errno or 0, str(error.errno))
    ok = answers["vsock"] == "EPERM" and answers["unix"] == "created"
    return ok, ", ".join(f"{name}: {answer}" for name, answer in answers.items())


def _unprivileged() -> tuple[bool, str]:
    uid, caps = os.getuid(), _status("CapEff")
    return uid != 0 and int(caps or "1", 16) == 0, f"uid {uid}, effective capabilities {caps}"


def _allowlist(secrets: list[str], allowed_top: set[str]) -> tuple[bool, str]:
    visible = [path for path in secrets if os.path.exists(path)]
    extra = sorted(set(os.listdir("/")) - allowed_top)
    try:
        with open("/grader-write-test", "w"):
            writable = True
    except OSError:
        writable = False
    if visible or extra or writable:
        return False, f"visible: {visible + extra}; root writable: {writable}"
    return True, f"/ holds {sorted(os.listdir('/'))}, read-only"


def _private_tmp(scratch_bytes: int) -> tuple[bool, str]:
    stats = os.statvfs("/tmp")
    size = stats.f_blocks * stats.f_frsize
    with open("/tmp/.grader-write-test", "w") as handle:
        handle.write("x")
    os.remove("/tmp/.grader-write-test")
    return size <= scratch_bytes * 1.05 and os.getcwd() == "/tmp", f"/tmp: {size >> 20} MB, writable"


def _proc() -> tuple[bool, str]:
    try:
        with open("/proc/sys/kernel/hostname", "w") as handle:
            handle.write("escaped")
        return False, "/proc/sys is writable"
    except OSError:
        pass
    others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) > 64]
    return not others, f"/proc/sys read-only; {len(others)} other high PIDs visible"


def _cgroup(group_name: str | None) -> tuple[bool, str]:
    if group_name is None:
        return False, "no cgroup available"
    with open("/proc/self/cgroup") as handle:
        lines = handle.read().splitlines()
    inside = [line for line in lines if group_name in line]
    return bool(inside), f"in {group_name} ({len(inside)} hierarchies)"


def _rlimits() -> tuple[bool, str]:
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    core, _ = resource.getrlimit(resource.RLIMIT_CORE)
    files, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    tasks, _ = resource.getrlimit(resource.RLIMIT_NPROC)
    shown_tasks = "unlimited" if tasks == resource.RLIM_INFINITY else tasks
    ok = soft != resource.RLIM_INFINITY and core == 0 and files <= 4096
    return ok, f"file size {soft}, core {core}, open files {files}, tasks {shown_tasks}"


def _environment(keys: set[str]) -> tuple[bool, str]:
    extra = sorted(set(os.environ) - keys)
    return not extra, f"variables {sorted(os.environ)}"


def _status(field: str) -> str:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return ""


def _status_field(field: str, wanted: str, meaning: str) -> tuple[bool, str]:
    value = _status(field)
    return value == wanted, f"{field}: {value or '?'}" + (f" ({meaning})" if value == wanted else "")
