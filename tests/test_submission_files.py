"""What a submission reads beside its own code (issue 12): an assignment's data/ folder, a folder
submission's helper modules and its entry (`[submission] entry`), and `[environment] requires`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from grader import report
from grader.authoring.release import load_release
from grader.errors import GraderError
from grader.grading import batch as grading
from grader.intake import submissions
from grader.intake.assignment import find_assignment, load_assignment
from grader.selfcheck import runner as selfcheck

CUSTOM_LAYER = ROOT / "assignments" / "custom_layer"

# The scale of the layer's output is read from the assignment's data/data.csv at top level: without
# the file, `SCALE` is never defined and every forward fails.
READS_DATA = '''
import torch
from torch import nn

with open("data.csv") as handle:
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

LAYER = '''
import torch
from torch import nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x):
        out = x @ self.weights
        return out + self.bias if self.bias is not None else out
'''

DOWNLOADS = '''
import urllib.request

urllib.request.urlopen("https://download.pytorch.org/tutorial/data.zip", timeout=5)
''' + LAYER


def make_assignment(folder: Path, toml_extra: str = "", data: bool = True) -> Path:
    """A copy of custom_layer in ``folder`` (its reference by absolute path), with data/data.csv."""
    shutil.copytree(CUSTOM_LAYER, folder, ignore=shutil.ignore_patterns("__pycache__"))
    toml = (folder / "assignment.toml").read_text()
    reference = (ROOT / "reference" / "custom_layer.py").as_posix()
    toml = toml.replace('reference = "../../reference/custom_layer.py"', f'reference = "{reference}"')
    toml = toml.replace("[limits]", toml_extra + "\n[limits]")
    (folder / "assignment.toml").write_text(toml)
    if data:
        (folder / "data").mkdir()
        (folder / "data" / "data.csv").write_text("name,value\nscale,1.0\n")
    return folder


def grade_folder(assignment_folder: Path, students: Path) -> tuple:
    assignment = load_assignment(assignment_folder)
    batch = grading.grade(assignment, submissions.discover(students, assignment.entry),
                          grading.GradeOptions(jobs=2, timeout=20))
    results = report.results_table(batch)
    return report.scores_table(batch, results).set_index("student"), results


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """An assignment with data/ and `[submission] entry = "main.py"`, and a class graded once."""
    root = tmp_path_factory.mktemp("course")
    assignment = make_assignment(root / "custom_layer_data", '[submission]\nentry = "main.py"\n')
    students = root / "students"
    students.mkdir()
    (students / "reads_data.py").write_text(READS_DATA)
    (students / "downloads.py").write_text(DOWNLOADS)
    project = students / "project"  # only modules: the assignment's entry picks main.py
    project.mkdir()
    (project / "layers.py").write_text(LAYER)
    (project / "main.py").write_text("from layers import MyLinear\n\nprint(MyLinear(3, 2))\n")
    (project / "scratch.py").write_text("raise RuntimeError('never run: not the entry')\n")
    broken = students / "broken_helper"  # the helper's forward raises: its file and line are named
    broken.mkdir()
    (broken / "layers.py").write_text(LAYER.replace("        out = x @ self.weights\n",
                                                    "        out = x @ self.weights.T\n"))
    (broken / "main.py").write_text("from layers import MyLinear\n")
    scores, results = grade_folder(assignment, students)
    return assignment, students, scores, results


def test_top_level_open_of_the_assignments_data_gets_full_marks(course):
    _, _, scores, _ = course
    row = scores.loc["reads_data"]
    assert (row.score, row.status) == (10, "graded"), row.message


def test_the_entry_named_by_the_assignment_runs_and_imports_its_helpers(course):
    _, _, scores, _ = course
    row = scores.loc["project"]
    assert (row.score, row.status) == (10, "graded"), row.message


def test_an_error_in_a_helper_module_names_its_file_and_line(course):
    _, _, scores, results = course
    assert scores.loc["broken_helper"].score < 10
    messages = "\n".join(results[results.student == "broken_helper"].message.fillna(""))
    assert "RuntimeError (layers.py, line 13: `out = x @ self.weights.T`)" in messages, messages


def test_a_failed_download_says_where_the_assignments_data_is(course):
    _, _, scores, _ = course
    row = scores.loc["downloads"]
    assert row.score == 10, row.message  # what the script defines after the download still counts
    assert "there is no network while grading" in row.message
    assert "the assignment's data files are in data/, as in the release: data/data.csv" in row.message


def test_without_the_data_folder_the_same_code_fails(tmp_path):
    assignment = make_assignment(tmp_path / "no_data", data=False)
    students = tmp_path / "students"
    students.mkdir()
    (students / "reads_data.py").write_text(READS_DATA)
    scores, _ = grade_folder(assignment, students)
    row = scores.loc["reads_data"]
    assert row.score < 10 and "FileNotFoundError" in row.message and "data.csv" in row.message


def test_grader_check_from_the_release_shows_the_data_and_the_entry(course, tmp_path):
    assignment, students, _, _ = course
    made = subprocess.run([sys.executable, "-m", "grader", "release", str(assignment), "-o",
                           str(tmp_path / "release")], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    release = load_release(tmp_path / "release")
    assert (release.root / "data" / "data.csv").read_text() == "name,value\nscale,1.0\n"
    assert release.entry == "main.py"
    for work in (students / "reads_data.py", students / "project"):
        run, checked, _ = selfcheck.check_file(release, work, grading.GradeOptions(jobs=1))
        assert run.status == "graded", run.message
        assert checked["tests"] and all(t["passed"] for t in checked["tests"]), checked["tests"]


def test_a_folder_with_one_notebook_and_helper_modules_runs_the_notebook(tmp_path):
    folder = tmp_path / "ann"
    folder.mkdir()
    for name in ("model.py", "config.py", "work.ipynb"):
        (folder / name).write_text("{}" if name.endswith(".ipynb") else "")
    found = submissions.single(folder)
    assert found.problem is None and found.path.name == "work.ipynb" and found.folder == folder.absolute()


def test_a_folder_of_modules_needs_the_assignments_entry(tmp_path):
    folder = tmp_path / "bob"
    folder.mkdir()
    for name in ("main.py", "model.py"):
        (folder / name).write_text("")
    assert submissions.single(folder, "main.py").path.name == "main.py"
    problem = submissions.single(folder).problem
    assert problem == "folder bob/ holds main.py, model.py: none is clearly the entry; keep one " \
                      "notebook (helper modules may stay beside it)"
    assert "none is run.py, the file this assignment runs" in submissions.single(folder, "run.py").problem


def test_entry_in_assignment_toml_must_be_a_file_inside_the_folder(tmp_path):
    assert load_assignment(make_assignment(tmp_path / "a", '[submission]\nentry = "main.py"\n',
                                           data=False)).entry == "main.py"
    with pytest.raises(GraderError, match=r"\[submission\] entry must name a .py or .ipynb file"):
        load_assignment(make_assignment(tmp_path / "b", '[submission]\nentry = "../x.py"\n', data=False))


def test_a_missing_required_package_stops_the_batch_in_one_line(tmp_path, capsys):
    from grader.cli.main import main

    toml = '[environment]\nrequires = ["torch", "no_such_package_for_grader"]\n'
    assignment = make_assignment(tmp_path / "needs", toml, data=False)
    students = tmp_path / "students"
    students.mkdir()
    (students / "ann.py").write_text(LAYER)
    with pytest.raises(SystemExit) as ended:
        main(["grade", str(assignment), str(students), "-o", str(tmp_path / "out")])
    assert ended.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "grader: error: assignment custom_layer needs the package(s) no_such_package_for_grader, "
        "which are not installed here: pip install no_such_package_for_grader")
    assert not (tmp_path / "out" / "scores.csv").exists()


# --- the entry: one rule for every door (grader.intake.submissions.choose_entry) -----------------

RULE = submissions.EntryRule(names=("MyLinear",))


def folder_of(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "sub"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def notebook_text(*cells: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [],
                                  "execution_count": None, "source": c} for c in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.mark.parametrize("files, entry", [
    # a script and the helper it imports: the script, though the helper was handed in later
    ({"simple.py": "from sim_config import SIZE\nclass MyLinear:\n    pass\n",
      "sim_config.py": "SIZE = 3\n"}, "simple.py"),
    # the layer lives in the helper module: the notebook imports it
    ({"work.ipynb": notebook_text("from layers import MyLinear"),
      "layers.py": "import torch\nclass MyLinear(torch.nn.Module):\n    pass\n"}, "work.ipynb"),
    # a scratch notebook beside the real one: the one that defines the task's names
    ({"scratch.ipynb": notebook_text("print(1)"),
      "hw.ipynb": notebook_text("import torch.nn\nclass MyLinear(torch.nn.Module):\n    pass")}, "hw.ipynb"),
    # a module and a script that imports everything from it
    ({"run.py": "from model import *\nMyLinear(3, 2)\n", "model.py": "class MyLinear:\n    pass\n"},
     "run.py"),
    # a misspelled name: the only file nothing imports (grace grades MyLiner, at the cost of a test)
    ({"main.py": "import utils\nclass MyLiner:\n    pass\n", "utils.py": "X = 1\n"}, "main.py"),
])
def test_the_entry_is_the_file_nothing_imports_that_binds_the_tasks_names(tmp_path, files, entry):
    found = submissions.single(folder_of(tmp_path, files), RULE)
    assert found.problem is None and found.path.name == entry
    assert found.label == f"sub/{entry}" and found.folder == (tmp_path / "sub").absolute()


def test_when_no_file_is_the_entry_the_row_says_which_files_and_why(tmp_path):
    two = folder_of(tmp_path, {"a.py": "class MyLinear:\n    pass\n", "b.py": "class MyLinear:\n    pass\n"})
    assert submissions.single(two, RULE).problem == (
        "folder sub/ holds a.py, b.py: none is clearly the entry; several define MyLinear: keep one "
        "(helper modules may stay beside it)")
    shutil.rmtree(two)
    none = folder_of(tmp_path, {"a.py": "import b\nx = 1\n", "b.py": "y = 2\n", "c.py": "z = 3\n"})
    assert submissions.single(none, RULE).problem == (
        "folder sub/ holds a.py (defines none of MyLinear), b.py (imported by a.py), c.py (defines "
        "none of MyLinear): none is clearly the entry; none defines or imports MyLinear: hand in "
        "the file that does")


def test_the_tasks_names_come_from_names_else_from_the_probes(tmp_path):
    assert find_assignment("custom_layer").names == ("MyLinear",)  # [names] aliases = { MyLinear = [] }
    assert set(find_assignment("training_loop").names) >= {"train", "manual_sgd_step"}  # defined(ns, ...)
    assert submissions.task_names((), {"aliases": {"Net": ["Model", "LeNet"]}}) == ("Net", "Model", "LeNet")
