"""A large class: the sandbox server moves its memory into transparent huge pages before serving,
so each sandbox's fork and exit copy and free far fewer page-table entries. Grades are the same,
every protection is still measured active, and where the kernel cannot (no MADV_COLLAPSE, huge
pages turned off) nothing changes but the speed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES
from grader.grading import batch as grading
from grader.grading.options import GradeOptions
from grader.intake import submissions
from grader.intake.assignment import find_assignment


def huge_pages_possible() -> bool:
    """Transparent huge pages not turned off, and MADV_COLLAPSE (Linux 6.1)."""
    try:
        mode = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
        major, minor = (int(part) for part in os.uname().release.split(".")[:2])
    except (OSError, ValueError):
        return False
    return "[never]" not in mode and (major, minor) >= (6, 1)


def test_the_server_moves_its_memory_into_huge_pages():
    if not huge_pages_possible():
        pytest.skip("transparent huge pages are turned off here, or the kernel is older than 6.1")
    script = (
        "import torch\n"
        "from grader.sandbox.warm import huge_pages\n"
        "def huge():\n"
        "    lines = open('/proc/self/smaps').read().splitlines()\n"
        "    return sum(int(l.split()[1]) for l in lines if l.startswith('AnonHugePages:'))\n"
        "before = huge(); huge_pages(); print(before, huge())\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    before, after = map(int, result.stdout.split())
    assert after >= before + 32 * 1024  # kB: tens of MB of torch's heap


def test_a_large_class_is_graded_the_same_with_every_protection(tmp_path, monkeypatch):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("alice.py", "rupert.py", "bob.ipynb"):
        shutil.copy(EXAMPLES / "custom_layer" / name, folder / name)
    assignment = find_assignment("custom_layer")
    found = submissions.discover(folder, assignment.entry_rule)
    options = GradeOptions(jobs=2, timeout=20)
    plain = grading.grade(assignment, found, options)
    monkeypatch.setattr(grading, "HUGE_PAGES_FROM", 1)
    huge = grading.grade(assignment, found, options)
    assert "server_huge_pages" in huge.timings["steps"] and "server_huge_pages" not in plain.timings["steps"]
    scores = [{(o.student, o.test): o.passed for o in batch.outcomes} for batch in (plain, huge)]
    assert scores[0] == scores[1] and any(scores[0].values())
    assert huge.protections == plain.protections
