"""``grader doctor``: which sandbox protections this machine gives, and what ``grader grade`` will
do here (the full sandbox, or the weaker fallback).

It starts the warm sandbox server exactly as ``grader grade`` does and shows what that server
measured from inside a real sandbox (:mod:`grader.sandbox.selftest`): nothing is guessed, and
the two cannot disagree. The verb changes nothing on the machine and always exits 0.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from grader.sandbox.advice import LABELS, NAMESPACE_PROTECTIONS  # noqa: F401  (the doctor's table)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: could not tell
    detail: str
    neutral: bool = False  # a fact, neither good nor bad: shown without colour


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "doctor", help="show which sandbox protections this machine gives",
        description="Start the sandbox server as `grader grade` does, show each protection as "
        "measured inside a real sandbox, and say what `grader grade` will do: the full sandbox or "
        "the fallback.")
    parser.set_defaults(command=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    checks, lines = diagnose()
    console = Console(highlight=False)
    table = Table(title="grader doctor: sandbox protections on this machine")
    for column in ("check", "result", "detail"):
        table.add_column(column, overflow="fold")
    marks = {True: "[green]yes[/]", False: "[red]no[/]", None: "[dim]-[/]"}
    for check in checks:
        mark = {True: "yes", False: "no", None: "-"}[check.ok] if check.neutral else marks[check.ok]
        table.add_row(check.name, mark, escape(check.detail))
    console.print(table)
    for line in lines:
        console.print(escape(line))
    return 0


def diagnose() -> tuple[list[Check], list[str]]:
    """Every check, in the order the table shows them, and what ``grader grade`` will do."""
    from grader.errors import GraderError
    from grader.sandbox.pool import measure_sandbox
    from grader.sandbox.selftest import PROTECTIONS

    checks = [_root()]
    try:
        hello = measure_sandbox()
    except GraderError as error:
        checks.append(Check("sandbox server", False, str(error).splitlines()[0]))
        return checks + _torch_checks(), ["The sandbox server does not start here: grader grade cannot "
                                          "run. See the detail above."]
    for name, label in LABELS.items():
        checks.append(Check(label, hello.protections.get(name), hello.details.get(name, "")))
    return checks + _torch_checks(), plan(hello.namespaces, hello.why, hello.protections, PROTECTIONS)


def plan(namespaces: bool, why: str, protections: dict[str, bool], texts: dict[str, str]) -> list[str]:
    """What ``grader grade`` will do, in a few lines."""
    from grader.sandbox.advice import fixes
    from grader.sandbox.advice import missing as missing_names

    absent = missing_names({name: bool(protections.get(name)) for name in texts})
    missing = [texts[name] for name in absent]
    if namespaces and not missing:
        lines = ["grader grade will use the full sandbox."]
    elif namespaces:
        lines = [f"grader grade will use the sandbox without {', '.join(LABELS[n] for n in absent)}."]
    else:
        lines = [f"grader grade will use the fallback sandbox ({why}).",
                 "Student code then runs as you, with the network: it can read and write your files "
                 "and signal your processes. Grade under a dedicated account, or where namespaces work."]
    if missing:
        lines.append("Missing (run.json and the summary say so too): " + "; ".join(missing) + ".")
        lines += [f"Fix: {fix}." for fix in fixes(absent)]
    if os.geteuid() == 0 and namespaces:
        lines.append("Running as root: student code runs as an unused uid with no capabilities, in a "
                     "root holding only the Python installation and the grader.")
    return lines


def _root() -> Check:
    uid = os.geteuid()
    if uid == 0:
        return Check("running as root", True, "uid 0: sandboxes run student code as an unused uid", True)
    return Check("running as root", False, f"uid {uid}: the sandbox needs unprivileged user namespaces",
                 True)


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
