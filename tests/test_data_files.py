"""Data files in one place (issue 19, item 3): the release's layout is the contract. A student's code
finds the assignment's files at the same relative path (``data/data.csv``) in the release folder,
when graded (and so on Gradescope, whose ``run_autograder`` grades with ``grader ci``), and in
``grader check`` with the sandbox and in its plain fallback (macOS, Windows); the old place (the
working folder, ``data.csv``) keeps working too, so no graded work changes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT
from grader import report
from grader.authoring.release import load_release
from grader.cli.main import main
from grader.grading import batch as grading
from grader.intake import submissions
from grader.intake.assignment import load_assignment
from grader.selfcheck import platforms
from grader.selfcheck import runner as selfcheck

# The layer's scale is read from the assignment's data file at top level: without the file, SCALE
# is never defined and every forward fails.
READS = '''
import torch
from torch import nn

with open({path!r}) as handle:
    SCALE = float(handle.read().splitlines()[1].split(",")[1])


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x):
        out = (x @ self.weights) * SCALE
        return out + self.bias if self.bias is not None else out
'''
STUDENTS = {"release_layout": READS.format(path="data/data.csv"),  # as the release folder has it
            "old_place": READS.format(path="data.csv")}  # as grading showed it before issue 19


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """custom_layer with data/data.csv, its release, and a class of two (one file each)."""
    root = tmp_path_factory.mktemp("course")
    folder = make_assignment(root / "layer_with_data")
    students = root / "students"
    students.mkdir()
    for name, source in STUDENTS.items():
        (students / f"{name}.py").write_text(source)
    made = subprocess.run([sys.executable, "-m", "grader", "release", str(folder), "-o",
                           str(root / "release")], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    return folder, students, load_release(root / "release")


def make_assignment(folder: Path) -> Path:
    """custom_layer in ``folder`` with data/data.csv, its reference by absolute path."""
    shutil.copytree(ROOT / "assignments" / "custom_layer", folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text().replace('"../../reference/custom_layer.py"',
                                             json.dumps((ROOT / "reference" / "custom_layer.py").as_posix())))
    (folder / "data").mkdir()
    (folder / "data" / "data.csv").write_text("name,value\nscale,1.0\n")
    return folder


def grade_both(folder: Path, students: Path, namespaces: bool = True) -> None:
    batch = grading.grade(load_assignment(folder), submissions.discover(students),
                          grading.GradeOptions(jobs=2, timeout=20, namespaces=namespaces))
    scores = report.scores_table(batch, report.results_table(batch)).set_index("student")
    for student in STUDENTS:
        assert scores.loc[student].score == 10, scores.loc[student].message


def test_graded_the_release_layout_and_the_old_place_both_find_the_data(course):
    folder, students, _ = course
    grade_both(folder, students)


def test_the_fallback_sandbox_shows_the_same_paths():
    """Without namespaces, links in a scratch folder stand in for the binds: data/ is a folder of
    links there. Its student user must be able to read the host's files: a folder open to all."""
    parent = "/var/tmp" if os.access("/var/tmp", os.W_OK) else None
    root = Path(tempfile.mkdtemp(prefix="grader-data-", dir=parent))
    try:
        root.chmod(0o755)
        folder = make_assignment(root / "layer_with_data")
        students = root / "students"
        students.mkdir()
        for name, source in STUDENTS.items():
            (students / f"{name}.py").write_text(source)
        grade_both(folder, students, namespaces=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_release_keeps_the_layout_and_its_starter_says_where_the_data_is(course):
    _, _, release = course
    assert (release.root / "data" / "data.csv").read_text() == "name,value\nscale,1.0\n"
    starter = json.loads(release.starter.read_text())
    first = "".join(starter["cells"][0]["source"])
    assert "**Data files** are in the folder `data/` beside this notebook (`data/data.csv`)" in first
    assert 'open("data/data.csv")' in first


@pytest.mark.parametrize("sandbox", ["sandbox", "plain"])
@pytest.mark.parametrize("where", ["in_the_release", "elsewhere"])
def test_grader_check_finds_the_data_where_the_release_has_it(course, tmp_path, monkeypatch, sandbox,
                                                               where):
    """With the sandbox and in the plain fallback, from a file in the release folder or another
    folder: the same paths work as when graded."""
    _, students, release = course
    if sandbox == "plain":
        monkeypatch.setattr(platforms, "system", lambda: "Darwin")
    for student in STUDENTS:
        folder = release.root if where == "in_the_release" else tmp_path
        work = folder / f"{student}_work.py"
        shutil.copy(students / f"{student}.py", work)
        try:
            run, checked, notes = selfcheck.check_file(release, work, grading.GradeOptions(jobs=1))
        finally:
            work.unlink()
        assert bool(notes) == (sandbox == "plain")
        assert run.status == "graded" and not run.message, (student, run.message, run.output[-500:])
        assert all(t["passed"] for t in checked["tests"]), (student, checked["tests"])


def test_grader_ci_as_gradescope_runs_it_finds_the_data(course, tmp_path, capsys):
    folder, students, _ = course
    out = tmp_path / "results.json"
    with pytest.raises(SystemExit) as ended:
        main(["ci", str(folder), str(students / "release_layout.py"), "--format", "gradescope",
              "-o", str(out)])
    assert ended.value.code == 0, capsys.readouterr()
    assert json.loads(out.read_text())["score"] == 10


def test_the_working_folder_shows_data_twice_and_never_a_hidden_file_or_a_link(tmp_path):
    from grader.sandbox.policy import visible_files

    data = tmp_path / "assignment" / "data"
    (data / "images").mkdir(parents=True)
    (data / "x.csv").write_text("a,b\n")
    (data / ".answers.csv").write_text("hidden")
    (data / "solution.py").symlink_to(ROOT / "reference" / "custom_layer.py")
    student = tmp_path / "student"
    (student / "data").mkdir(parents=True)  # the student's own data/ cannot cover the assignment's
    (student / "helper.py").write_text("")
    shown = {inside: host for host, inside in visible_files([str(data), str(student)])}
    assert shown == {"/tmp/data/images": str(data / "images"), "/tmp/images": str(data / "images"),
                     "/tmp/data/x.csv": str(data / "x.csv"), "/tmp/x.csv": str(data / "x.csv"),
                     "/tmp/helper.py": str(student / "helper.py")}
