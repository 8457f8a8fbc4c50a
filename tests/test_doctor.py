"""``grader doctor``: a table of the sandbox protections this machine supports, and what
``grader grade`` will do here; always exit status 0."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from grader import cli, doctor
from grader.sandbox import isolation

ROWS = ["running as root", "user namespaces", "mount, PID and network namespaces",
        "read-only mounts (mount_setattr)", "sandbox set-up (as grader grade tries it)",
        "student process: own /proc, locked mounts", "cgroup v2 writable", "torch", "CUDA visible"]


def run_doctor(capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "240")  # one table row per line
    with pytest.raises(SystemExit) as exited:
        cli.main(["doctor"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_doctor_shows_every_check_and_exits_0(capsys, monkeypatch):
    out = run_doctor(capsys, monkeypatch)
    lines = out.splitlines()
    for row in ROWS:
        assert any(row in line for line in lines), row
    import torch

    assert f"torch {torch.__version__}" in out


def test_doctor_says_what_grade_will_do_here(capsys, monkeypatch):
    out = run_doctor(capsys, monkeypatch)
    supported, _ = isolation.namespaces_supported()
    if supported:
        assert "grader grade will use the full sandbox" in out
        assert "Missing" not in out
    else:
        assert "grader grade will use the fallback sandbox" in out
    root_row = next(line for line in out.splitlines() if "running as root" in line)
    assert (" yes " in root_row) == (os.geteuid() == 0)


def test_without_user_namespaces_doctor_explains_the_fallback(capsys, monkeypatch):
    """As on a kernel that forbids unprivileged user namespaces: the first step fails, the later
    ones are not tried, and the plan names what the fallback sandbox lacks."""
    monkeypatch.setattr(doctor, "_in_child", lambda step: "IsolationError: [Errno 1] unshare: Operation "
                        "not permitted")
    monkeypatch.setattr(isolation, "namespaces_supported", lambda: (False, "unprivileged user namespaces off"))
    out = run_doctor(capsys, monkeypatch)
    assert "unshare: Operation not permitted" in out
    assert out.count("not tried: an earlier step failed") == 4
    assert "grader grade will use the fallback sandbox" in out
    assert "dedicated account" in out
    missing = out[out.index("Missing"):]
    for name in doctor.NAMESPACE_PROTECTIONS:
        assert " ".join(isolation.PROTECTIONS[name].split()[:3]) in " ".join(missing.split())


def test_a_failing_lock_is_reported_not_hidden(capsys, monkeypatch):
    real = doctor._in_child
    monkeypatch.setattr(doctor, "_in_child", lambda step: "OSError: mount /proc: Operation not permitted"
                        if step is doctor._student_lock else real(step))
    out = run_doctor(capsys, monkeypatch)
    if isolation.namespaces_supported()[0]:
        assert "mount /proc: Operation not permitted" in out
        assert "cannot lock it here" in out


def test_doctor_is_listed_and_light():
    """`grader --help` shows it, and importing the verb's module does not import torch."""
    help_text = subprocess.run([sys.executable, "-m", "grader", "--help"], capture_output=True,
                               text=True, check=True).stdout
    assert "doctor" in help_text
    probe = "import sys, grader.doctor; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
