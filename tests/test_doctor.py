"""``grader doctor``: the sandbox protections as a real sandbox measured them, and what
``grader grade`` will do here; always exit status 0."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from grader.cli import doctor
from grader.cli import main as cli
from grader.sandbox import protocol
from grader.sandbox.pool import measure_sandbox
from grader.sandbox.selftest import PROTECTIONS


def run_doctor(capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "240")  # one table row per line
    with pytest.raises(SystemExit) as exited:
        cli.main(["doctor"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_doctor_shows_every_protection_and_exits_0(capsys, monkeypatch):
    out = run_doctor(capsys, monkeypatch)
    lines = out.splitlines()
    for row in ["running as root", *doctor.LABELS.values(), "torch", "CUDA visible"]:
        assert any(row in line for line in lines), row
    import torch

    assert f"torch {torch.__version__}" in out


def test_doctor_says_what_grade_will_do_here(capsys, monkeypatch):
    """The same set-up as grader grade: the full sandbox where it measured every protection."""
    out = run_doctor(capsys, monkeypatch)
    hello = measure_sandbox()
    if hello.namespaces and all(hello.protections.get(name) for name in PROTECTIONS):
        assert "grader grade will use the full sandbox" in out
    elif hello.namespaces:  # e.g. an ordinary user without a delegated cgroup: never "full"
        assert "grader grade will use the sandbox without" in out and "full sandbox" not in out
    else:
        assert "grader grade will use the fallback sandbox" in out
    if all(hello.protections.get(name) for name in PROTECTIONS):
        assert "Missing" not in out
    root_row = next(line for line in out.splitlines() if "running as root" in line)
    assert (" yes " in root_row) == (os.geteuid() == 0)


def test_without_namespaces_doctor_explains_the_fallback(capsys, monkeypatch):
    """As on a kernel that forbids user namespaces: the plan names what the fallback lacks."""
    fallback = protocol.Hello([], False, "unshare: Operation not permitted",
                              {name: name not in doctor.NAMESPACE_PROTECTIONS for name in PROTECTIONS},
                              {name: "measured" for name in PROTECTIONS})
    monkeypatch.setattr("grader.sandbox.pool.measure_sandbox", lambda: fallback)
    out = run_doctor(capsys, monkeypatch)
    assert "unshare: Operation not permitted" in out
    assert "grader grade will use the fallback sandbox" in out
    assert "dedicated account" in out
    missing = " ".join(out[out.index("Missing"):].split())
    for name in doctor.NAMESPACE_PROTECTIONS:
        assert " ".join(PROTECTIONS[name].split()[:3]) in missing


def test_the_fallback_sandbox_measures_what_it_lacks():
    """--no-namespaces (the fallback): measured, not assumed, from inside its sandbox."""
    hello = measure_sandbox(namespaces=False)
    assert not hello.namespaces
    assert not hello.protections["namespaces"] and not hello.protections["allowlist_fs"]
    assert hello.protections["rlimits"] and hello.protections["scrubbed_env"]


def test_doctor_is_listed_and_light():
    """`grader --help` shows it, and importing the verb's module does not import torch."""
    help_text = subprocess.run([sys.executable, "-m", "grader", "--help"], capture_output=True,
                               text=True, check=True).stdout
    assert "doctor" in help_text
    probe = "import sys, grader.cli.doctor; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_without_a_cgroup_doctor_never_says_full_sandbox_and_gives_the_fix(capsys, monkeypatch):
    """An ordinary user without a delegated cgroup (namespaces work): the plan names what is
    missing and the systemd-run line that fixes it on this machine."""
    hello = protocol.Hello([], True, "", {name: name != "cgroup" for name in PROTECTIONS},
                           {name: "measured" for name in PROTECTIONS})
    monkeypatch.setattr("grader.sandbox.pool.measure_sandbox", lambda: hello)
    monkeypatch.setattr("grader.sandbox.advice.machine", lambda: (1000, True, True))
    out = " ".join(run_doctor(capsys, monkeypatch).split())
    assert "full sandbox" not in out
    assert "grader grade will use the sandbox without cgroup limits (memory, processes, CPU)" in out
    assert "Fix: start the grader in a delegated cgroup: systemd-run --user --scope -p Delegate=yes" in out


@pytest.mark.parametrize("facts, missing, words", [
    ((1000, True, True), "cgroup", "systemd-run --user --scope -p Delegate=yes grader"),
    ((1000, False, False), "cgroup", "cgroup v2 subtree delegated to you"),
    ((0, True, False), "cgroup", "mount the memory, pids and cpu cgroup controllers"),
    ((1000, True, True), "namespaces", "enable unprivileged user namespaces"),
])
def test_the_warning_is_one_line_with_the_fix_for_this_machine(monkeypatch, facts, missing, words):
    from grader.sandbox import advice

    monkeypatch.setattr(advice, "machine", lambda: facts)
    line = advice.warning_line({name: name != missing for name in PROTECTIONS})
    assert line.startswith("warning: sandbox protections missing on this machine: ")
    assert "\n" not in line and advice.LABELS[missing] in line and words in line, line
    assert advice.warning_line(dict.fromkeys(PROTECTIONS, True)) is None
