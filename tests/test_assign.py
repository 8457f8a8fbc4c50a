"""`grader assign`: a solution notebook becomes a starter, a reference, tests and assignment.toml."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import report
from grader.authoring.assign import author, write
from grader.cli.main import main
from grader.errors import GraderError
from grader.grading import batch as grading
from grader.intake.assignment import load_assignment
from grader.intake.submissions import Submission

LAYER = """class MyLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        # BEGIN SOLUTION placeholder=self.weights = self.bias = None  # TODO
        self.weights = nn.Parameter(torch.randn(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return x @ self.weights + self.bias
        # END SOLUTION
"""
VISIBLE_TEST = '''# TEST points=2 name=forward_values
"""forward(x) returns x @ weights + bias"""
layer = MyLinear(3, 2)
with torch.no_grad(): layer.weights.fill_(0.5); layer.bias.fill_(1.0)
observe(out=layer(torch.linspace(-1, 1, 12).reshape(4, 3)))
'''
HIDDEN_TEST = """# TEST points=1 name=gradients hidden description="backward() gives the gradients"
layer = MyLinear(3, 2)
layer(torch.ones(5, 3)).pow(2).sum().backward()
observe(weights=layer.weights.grad, bias=layer.bias.grad)
"""


def solution_notebook(path: Path, layer: str = LAYER,
                      tests: tuple[str, ...] = (VISIBLE_TEST, HIDDEN_TEST)) -> Path:
    notebook = new_notebook()
    notebook.metadata["grader"] = {"name": "my_linear", "title": "My linear layer", "memory": "1G"}
    solved = new_code_cell(layer)
    solved.outputs = [nbformat.v4.new_output("stream", text="a saved output\n")]
    notebook.cells = [new_markdown_cell("# MyLinear\n\nWrite a linear layer."),
                      new_code_cell("import torch\nfrom torch import nn"), solved,
                      *map(new_code_cell, tests)]
    nbformat.write(notebook, str(path))
    return path


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder after `grader assign solution.ipynb -o assignments/my_linear`."""
    root = tmp_path_factory.mktemp("course")
    (root / "assignments").mkdir()
    (root / "reference").mkdir()
    notebook = solution_notebook(root / "solution.ipynb")
    with pytest.raises(SystemExit) as exit_info:
        main(["assign", str(notebook), "-o", str(root / "assignments" / "my_linear"),
              "--timeout", "20", "--memory", "1G"])
    return root, exit_info.value.code


def test_assign_writes_starter_reference_tests_and_toml(course, capsys):
    root, code = course
    folder = root / "assignments" / "my_linear"
    assert code == 0
    starter = nbformat.read(str(folder / "starter.ipynb"), as_version=4)
    source = "\n".join(c.source for c in starter.cells)
    assert "x @ self.weights" not in source and "BEGIN SOLUTION" not in source
    assert "raise NotImplementedError" in source
    assert "        self.weights = self.bias = None  # TODO" in source
    assert "observe(" not in source  # test cells are not in the starter
    assert all(c.outputs == [] for c in starter.cells if c.cell_type == "code")
    assert "grader" not in starter.metadata
    reference = (root / "reference" / "my_linear.py").read_text()
    assert "return x @ self.weights + self.bias" in reference
    assert "observe(" not in reference
    # the markers stay as comments, after a line naming the code cell, for grader audit
    assert "# %% cell 2\nclass MyLinear(nn.Module):" in reference
    assert "        # BEGIN SOLUTION\n        return x @ self.weights + self.bias\n" in reference
    tests = (folder / "test_my_linear.py").read_text()
    assert "@points(2)\ndef test_forward_values(observe):" in tests
    assert "@hidden\n@points(1)\ndef test_gradients(observe):" in tests
    toml = (folder / "assignment.toml").read_text()
    assert 'title = "My linear layer"' in toml and 'memory = "1G"' in toml


def test_assign_refuses_to_overwrite_and_force_bumps_the_version(course, capsys, monkeypatch):
    root, _ = course
    folder = root / "assignments" / "my_linear"
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text() + '\n[late]\ndeadline = "2025-03-14T23:59:00Z"\nper_day = 10\n')
    args = ["assign", str(root / "solution.ipynb"), "-o", str(folder), "--timeout", "20"]
    with pytest.raises(SystemExit) as refused:
        main(args)
    assert refused.value.code == 2
    assert "already holds an assignment (version 1): add --force" in capsys.readouterr().err
    with pytest.raises(SystemExit) as forced:
        main([*args, "--force"])
    assert forced.value.code == 0
    replaced = load_assignment(folder)
    assert replaced.version == "2" and "[late]" in toml.read_text()  # the author's own tables stay
    monkeypatch.chdir(root)  # `grader grade my_linear` from the course folder finds it
    from grader.intake.assignment import find_assignment

    assert find_assignment("my_linear").root == folder


def test_written_assignment_grades_reference_full_and_starter_zero(course, tmp_path):
    root, _ = course
    assignment = load_assignment(root / "assignments" / "my_linear")
    assert assignment.reference == root / "reference" / "my_linear.py"
    wrong = tmp_path / "no_bias.py"
    wrong.write_text((root / "reference" / "my_linear.py").read_text().replace(" + self.bias", ""))
    batch = grading.grade(assignment, [
        Submission("reference", assignment.reference),
        Submission("starter", root / "assignments" / "my_linear" / "starter.ipynb"),
        Submission("no_bias", wrong)], grading.GradeOptions(jobs=2, timeout=20))
    results = report.results_table(batch)
    scores = report.scores_table(batch, results).set_index("student").score
    assert scores.to_dict() == {"reference": 3.0, "starter": 0.0, "no_bias": 0.0}
    hidden = results[(results.student == "no_bias") & (results.visibility == "hidden")]
    assert hidden.description.tolist() == ["backward() gives the gradients"]
    starter_failure = results[results.student == "starter"].message.iloc[0]
    assert "NotImplementedError" in starter_failure or "None" in starter_failure


def test_reference_beside_the_assignment_without_a_reference_folder(tmp_path):
    notebook = solution_notebook(tmp_path / "solution.ipynb")
    folder = tmp_path / "elsewhere" / "my_linear"
    paths = write(author(notebook, folder.name), folder, notebook.name)
    assert paths["reference"] == folder / "reference.py"
    assert 'reference = "reference.py"' in (folder / "assignment.toml").read_text()
    assert load_assignment(folder).reference == folder / "reference.py"


@pytest.mark.parametrize(("layer", "tests", "message"), [
    (LAYER.replace("        # END SOLUTION\n", "", 1), (VISIBLE_TEST,), "BEGIN SOLUTION inside another one"),
    (LAYER, (), "has no test cells"),
    (LAYER, ("# TEST points=two\nobserve(x=1)",), "points='two' is not a number"),
    (LAYER, ("# TEST points=1\nx = 1",), "observes nothing"),
    (LAYER, ("# TEST name=forward\nobserve(x=1)",), "test cell 3 does not say its points"),
    (LAYER, (VISIBLE_TEST, VISIBLE_TEST), "several test cells are named forward_values"),
])
def test_mistakes_in_the_solution_notebook_are_one_line_errors(tmp_path, layer, tests, message):
    notebook = solution_notebook(tmp_path / "solution.ipynb", layer, tests)
    with pytest.raises(GraderError, match=message):
        author(notebook, "my_linear")


def test_cli_reports_a_bad_notebook_without_a_traceback(tmp_path, capsys):
    bad = tmp_path / "solution.ipynb"
    bad.write_text(json.dumps({"cells": "oops"}))
    with pytest.raises(SystemExit) as exit_info:
        main(["assign", str(bad), "-o", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("grader: error: ") and "Traceback" not in err
    assert not (tmp_path / "out").exists()


NAMES_TEST = '''# TEST points=2 name=relu_of_forward
"""F.relu(forward(x)) with set weights"""
layer = MyLinear(3, 2)
assert isinstance(layer, nn.Module)
with torch.no_grad(): layer.weights.fill_(0.5); layer.bias.fill_(-1.0)
observe(out=F.relu(layer(torch.linspace(-1, 1, 12).reshape(4, 3))), pi=np.pi)
'''
ONLY_TORCH_NN = '''import torch
import torch.nn

F = 3  # the student's own F: a number of features


class MyLinear(torch.nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weights = torch.nn.Parameter(torch.randn(n_in, n_out))
        self.bias = torch.nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weights + self.bias
'''


def test_test_cells_run_with_the_solution_s_imports_not_the_student_s(tmp_path):
    """Issue 19: a test cell that uses `nn`, `F` and `np` as the solution notebook imported them
    gives full marks to a student who only did `import torch.nn` (and bound F to a number)."""
    notebook = solution_notebook(tmp_path / "solution.ipynb", tests=(NAMES_TEST,))
    cells = nbformat.read(str(notebook), as_version=4)
    cells.cells[1].source = ("import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
                             "import numpy as np\n%matplotlib inline")
    nbformat.write(cells, str(notebook))
    authored = author(notebook, "my_linear")
    assert authored.imports.splitlines() == ["import torch", "from torch import nn",
                                             "import torch.nn.functional as F", "import numpy as np"]
    folder = tmp_path / "my_linear"
    write(authored, folder, notebook.name)
    student = tmp_path / "only_torch_nn.py"
    student.write_text(ONLY_TORCH_NN)
    assignment = load_assignment(folder)
    batch = grading.grade(assignment, [Submission("reference", assignment.reference),
                                       Submission("only_torch_nn", student)],
                          grading.GradeOptions(jobs=1, timeout=20))
    results = report.results_table(batch)
    scores = report.scores_table(batch, results).set_index("student").score
    assert scores.to_dict() == {"reference": 2.0, "only_torch_nn": 2.0}, results.message.tolist()


READS_DATA = 'with open("data/scale.csv") as handle:\n    SCALE = float(handle.read().split(",")[1])\n\n' + \
    LAYER.replace("return x @ self.weights + self.bias", "return (x @ self.weights + self.bias) * SCALE")


def test_data_beside_the_notebook_is_the_assignment_s_and_force_never_overwrites_a_hand_edit(
        tmp_path, capsys):
    """Issue 19: `grader assign` grades the solution with the data/ folder beside it and copies it
    into the assignment; `--force` refuses, naming the file, to replace a file edited by hand."""
    notebook = solution_notebook(tmp_path / "solution.ipynb", READS_DATA)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "scale.csv").write_text("scale,1.0")
    folder = tmp_path / "assignments" / "my_linear"
    args = ["assign", str(notebook), "-o", str(folder), "--timeout", "20"]
    with pytest.raises(SystemExit) as made:
        main(args)
    assert made.value.code == 0, capsys.readouterr()
    assert (folder / "data" / "scale.csv").read_text() == "scale,1.0"
    assert load_assignment(folder).data == folder / "data"
    capsys.readouterr()

    tests = folder / "test_my_linear.py"
    tests.write_text(tests.read_text() + "\n\ndef test_added_by_hand(observe):\n    pass\n")
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text() + '\n[late]\nper_day = 10\n')  # the author's own table: kept
    with pytest.raises(SystemExit) as refused:
        main([*args, "--force"])
    err = " ".join(capsys.readouterr().err.split())
    assert refused.value.code == 2
    assert f"grader assign would replace {tests} (edited by hand since grader assign wrote it): move " \
           "the change into solution.ipynb or its data/ folder (or delete the file)" in err
    assert "test_added_by_hand" in tests.read_text()  # nothing was written

    tests.unlink()  # the author's choice: let it be written again
    (folder / "data" / "mine.csv").write_text("added by hand")
    with pytest.raises(SystemExit) as refused:
        main([*args, "--force"])
    assert refused.value.code == 2
    assert f"{folder / 'data' / 'mine.csv'} (not written by grader assign)" in capsys.readouterr().err

    (folder / "data" / "mine.csv").unlink()
    with pytest.raises(SystemExit) as forced:
        main([*args, "--force"])
    assert forced.value.code == 0, capsys.readouterr()
    assert "test_added_by_hand" not in tests.read_text() and "[late]" in toml.read_text()
    assert load_assignment(folder).version == "2"
