"""``grader doctor``: which sandbox protections this machine supports, and what ``grader grade``
will do here (the full sandbox, or the weaker fallback).

Each kernel feature is tried for real, in a throwaway child process (as
:func:`grader.sandbox.isolation.namespaces_supported` does), never guessed from version numbers. The verb
changes nothing on the machine and always exits 0: it informs, it does not judge.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# What the sandbox loses without namespaces (as grader.grading reports it in run.json).
NAMESPACE_PROTECTIONS = ("namespaces", "readonly_fs", "hidden_paths")
USERNS_SETTINGS = (  # kernel settings that turn unprivileged user namespaces off, and their "on" value
    ("/proc/sys/kernel/unprivileged_userns_clone", "1"),
    ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0"),
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: could not tell
    detail: str
    neutral: bool = False  # a fact, neither good nor bad: shown without colour


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "doctor", help="show which sandbox protections this machine supports",
        description="Try each kernel feature the sandbox uses (in throwaway processes), show which "
        "work here, and say what `grader grade` will do: the full sandbox or the fallback.")
    parser.set_defaults(command=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    checks = diagnose()
    console = Console(highlight=False)
    table = Table(title="grader doctor: sandbox protections on this machine")
    for column in ("check", "result", "detail"):
        table.add_column(column, overflow="fold")
    marks = {True: "[green]yes[/]", False: "[red]no[/]", None: "[dim]-[/]"}
    for check in checks:
        mark = {True: "yes", False: "no", None: "-"}[check.ok] if check.neutral else marks[check.ok]
        table.add_row(check.name, mark, escape(check.detail))
    console.print(table)
    for line in plan(checks):
        console.print(escape(line))
    return 0


def diagnose() -> list[Check]:
    """Every check, in the order the table shows them."""
    return [_root(), *_namespace_checks(), _cgroup_v2(), *_torch_checks()]


def plan(checks: list[Check]) -> list[str]:
    """What ``grader grade`` will do with these checks' results, in a few lines."""
    from grader.sandbox.isolation import PROTECTIONS

    by_name = {check.name: check for check in checks}
    full = by_name["sandbox set-up (as grader grade tries it)"].ok
    locked = by_name["student process: own /proc, locked mounts"].ok
    if full and locked:
        lines = ["grader grade will use the full sandbox: " + "; ".join(PROTECTIONS.values()) + "."]
    elif full:
        lines = ["grader grade will try the full sandbox, but the student's process cannot lock it here: "
                 "every submission would end before grading. Run the grader elsewhere, or report this."]
    else:
        active = [text for name, text in PROTECTIONS.items() if name not in NAMESPACE_PROTECTIONS]
        missing = [PROTECTIONS[name] for name in NAMESPACE_PROTECTIONS]
        lines = ["grader grade will use the fallback sandbox: " + "; ".join(active) + ".",
                 "Missing (run.json and the summary say so too): " + "; ".join(missing) + ".",
                 "Student code then runs as you, with the network: it can read and write your files "
                 "and signal your processes. Grade under a dedicated account, or where namespaces work."]
    if by_name["running as root"].ok:
        lines.append("Running as root: student code runs as uid 0 in its own user namespace and can read "
                     "every file root can read that the sandbox does not hide; prefer an ordinary user.")
    return lines


def _root() -> Check:
    uid = os.geteuid()
    if uid == 0:
        return Check("running as root", True, "uid 0: see the note below the table", True)
    return Check("running as root", False, f"uid {uid}: the sandbox needs unprivileged user namespaces",
                 True)


def _namespace_checks() -> list[Check]:
    from grader.sandbox import isolation

    steps: list[tuple[str, Callable[[], None], str]] = [
        ("user namespaces", _user_namespace, "this user can create user namespaces"),
        ("mount, PID and network namespaces", _all_namespaces, "own mounts, processes and no network"),
        ("read-only mounts (mount_setattr)", _readonly_tree, "the whole tree can be made read-only"),
        ("sandbox set-up (as grader grade tries it)", _sandbox_setup,
         "hidden paths, private /tmp, scratch space"),
        ("student process: own /proc, locked mounts", _student_lock,
         "PID 1 of its namespace; mounts locked by a nested user namespace"),
    ]
    checks, failed = [], False
    for name, step, success in steps:
        if failed:
            checks.append(Check(name, False, "not tried: an earlier step failed"))
            continue
        error = _in_child(step)
        if error is None:
            checks.append(Check(name, True, success))
        else:
            failed = True
            checks.append(Check(name, False, error + _userns_hint(name)))
    supported, why = isolation.namespaces_supported()
    if supported != checks[3].ok:  # isolation's own test disagrees with ours: trust it, and say so
        checks[3] = Check(checks[3].name, supported, why)
    return checks


def _user_namespace() -> None:
    from grader.sandbox import isolation

    uid, gid = os.getuid(), os.getgid()
    isolation.unshare(isolation.CLONE_NEWUSER)
    isolation.map_identity(uid, gid)


def _all_namespaces() -> None:
    from grader.sandbox import isolation

    uid, gid = os.getuid(), os.getgid()
    isolation.unshare(isolation.CLONE_NEWUSER | isolation.CLONE_NEWNS | isolation.CLONE_NEWPID
                      | isolation.CLONE_NEWNET)
    isolation.map_identity(uid, gid)
    isolation.mount("none", "/", None, isolation.MS_REC | isolation.MS_PRIVATE)


def _readonly_tree() -> None:
    from grader.sandbox import isolation

    _all_namespaces()
    isolation.make_tree_readonly("/")


def _sandbox_setup() -> None:
    from grader.sandbox import isolation

    isolation.enter_namespaces([], os.path.join(tempfile.gettempdir(), "grader-doctor"), 1 << 20)


def _student_lock() -> None:
    from grader.sandbox import isolation

    _sandbox_setup()
    error = _in_child(isolation.lock_namespaces)  # PID 1 of the new namespace, like a student
    if error is not None:
        raise OSError(error)


def _in_child(step: Callable[[], None]) -> str | None:
    """Run ``step`` in a throwaway child process: None if it worked, else why not (one line)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the throwaway child
        os.close(read_end)
        code = 0
        try:
            step()
        except BaseException as error:  # noqa: B036 - whatever happens, the parent hears of it
            os.write(write_end, f"{type(error).__name__}: {error}".encode()[:500])
            code = 1
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return None
    return message or f"the test process ended with status {os.waitstatus_to_exitcode(status)}"


def _userns_hint(step: str) -> str:
    if step != "user namespaces":
        return ""
    for path, wanted in USERNS_SETTINGS:
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value != wanted:
            return f" ({path} is {value}; {wanted} allows them)"
    return " (container or kernel policy forbids them?)"


def _cgroup_v2() -> Check:
    """Whether this process could create cgroup v2 groups (a future pids/memory limit; unused today)."""
    name = "cgroup v2 writable"
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        own = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError as error:
        return Check(name, None, f"cannot tell: {error.strerror}", True)
    mount = next((line.split()[1] for line in mounts if line.split()[2:3] == ["cgroup2"]), None)
    if mount is None:
        return Check(name, False, "no cgroup v2 mounted (cgroup v1 only); the grader does not use cgroups",
                     True)
    group = next((line.partition("::")[2] for line in own if line.startswith("0::")), "/")
    where = os.path.join(mount, group.lstrip("/"))
    if os.access(where, os.W_OK):
        return Check(name, True, f"{where} is writable; the grader does not use cgroups (yet)", True)
    return Check(name, False, f"{where} is read-only; the grader does not use cgroups (yet)", True)


def _torch_checks() -> list[Check]:
    try:
        import torch
    except ImportError as error:
        return [Check("torch", False, f"cannot import torch: {error}"),
                Check("CUDA visible", None, "torch is needed first", True)]
    checks = [Check("torch", True, f"torch {torch.__version__}")]
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        checks.append(Check("CUDA visible", True, f"{torch.cuda.device_count()} GPU(s): {names}"))
    else:
        build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU-only build"
        checks.append(Check("CUDA visible", False, f"no GPU visible ({build}): --device cpu", True))
    return checks
