"""`grader audit`: mutants of the reference, graded in one batch, show what the tests would miss."""

from __future__ import annotations

import shutil
import textwrap

import pandas as pd
import pytest

from grader.authoring.audit import MUTANT_COLUMNS, audit, print_audit
from grader.authoring.mutants import KINDS, generate
from grader.cli.main import main
from grader.errors import GraderError
from grader.grading.options import GradeOptions
from grader.intake.assignment import find_assignment

OPTIONS = {"timeout": 6, "memory": 512 * 1024**2}
ONLY_REGISTRATION = textwrap.dedent('''
    """A deliberately weak test file: it checks the parameters' shapes and never runs forward."""
    from grader import points, probe
    from grader.judge.compare import assert_close


    @probe
    def registration(ns, device):
        layer = ns["MyLinear"](4, 3)
        return {name: list(p.shape) for name, p in layer.named_parameters()}


    @points(2)
    def test_parameters_registered(observe):
        """MyLinear(4, 3) registers weights (4, 3) and bias (3,)"""
        got, want = observe(registration)
        assert_close(got, want, what="parameter shapes")
''')


def test_mutants_are_one_change_each_and_compile():
    source = find_assignment("logistic_regression").reference.read_text()
    mutants = generate(source)
    assert len({m.source for m in mutants}) == len(mutants) > 20
    assert {m.kind for m in mutants} <= set(KINDS)
    missing_1_over_m = [m for m in mutants if m.description == "1 / m * (x @ (yhat - y).T) -> x @ (yhat - y).T"]
    assert len(missing_1_over_m) == 1 and missing_1_over_m[0].line == 23
    assert missing_1_over_m[0].mutated == 'self.grads["dw"] = x @ (yhat - y).T'
    for mutant in mutants:
        compile(mutant.source, mutant.id, "exec")
        changed = [a for a, b in zip(source.splitlines(), mutant.source.splitlines(), strict=True) if a != b]
        assert len(changed) == 1, mutant
    assert len(generate(source, max_mutants=5)) == 5


def test_training_loop_mutants_include_the_classic_mistakes():
    source = find_assignment("training_loop").reference.read_text()
    descriptions = {m.description for m in generate(source)}
    assert "removed optimizer.zero_grad()" in descriptions
    assert "range(epochs) -> range(epochs - 1)" in descriptions
    lenet = {m.description for m in generate(find_assignment("lenet").reference.read_text())}
    assert "F.relu(self.fc1(x)) -> self.fc1(x)" in lenet
    assert any("max_pool2d" in d and "avg_pool2d" in d for d in lenet)


def test_audit_custom_layer_kills_mutants_and_writes_the_table(tmp_path, capsys):
    csv = tmp_path / "mutants.csv"
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "custom_layer", "--max-mutants", "6", "--csv", str(csv), "-j", "2",
              "--timeout", "6", "--memory", "512M"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "Mutation score of custom_layer" in out and "mutants each test kills" in out
    table = pd.read_csv(csv)
    assert list(table.columns) == MUTANT_COLUMNS
    assert len(table) == 6 and table.mutant.is_unique
    killed = table[~table.survived]
    assert len(killed) >= 1 and (killed.score < killed.max_score).all()
    assert killed.killed_by.str.contains("test_").all()


@pytest.fixture(scope="module")
def weak(tmp_path_factory):
    """custom_layer's reference with only the registration test, and its audit."""
    folder = tmp_path_factory.mktemp("weak")
    shutil.copy(find_assignment("custom_layer").reference, folder / "reference.py")
    (folder / "assignment.toml").write_text('name = "weak"\nreference = "reference.py"\n')
    (folder / "test_weak.py").write_text(ONLY_REGISTRATION)
    return folder, audit(str(folder), GradeOptions(jobs=2, **OPTIONS), max_mutants=8)


def test_weak_tests_let_wrong_forwards_survive(weak, capsys):
    _, result = weak
    assert len(result.mutants) == 8
    survivors = result.survivors
    assert result.survived == len(survivors) >= 4
    assert "x @ self.weights -> self.weights @ x" in set(survivors.description)
    assert (survivors.score == survivors.max_score).all() and (survivors.killed_by == "").all()
    assert result.tests.set_index("test").loc["test_parameters_registered", "kills"] == result.killed
    print_audit(result)
    out = capsys.readouterr().out
    assert "surviving mutants" in out
    assert "+ out = self.weights @ x" in out and "- out = x @ self.weights" in out


def test_audit_stops_when_the_reference_fails_its_own_tests(weak, tmp_path):
    folder, _ = weak
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    (broken / "reference.py").write_text(textwrap.dedent("""
        import os
        import torch
        from torch import nn


        class MyLinear(nn.Module):  # a parameter name that differs from run to run
            def __init__(self, n_in, n_out):
                super().__init__()
                self.register_parameter("w" + os.urandom(8).hex(), nn.Parameter(torch.ones(n_in)))
    """))
    with pytest.raises(GraderError, match="not full marks .*test_parameters_registered fails"):
        audit(str(broken), GradeOptions(jobs=2, **OPTIONS), max_mutants=1)


SOLVED_CELL = """class MyLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        # BEGIN SOLUTION placeholder=self.weights = self.bias = None
        self.weights = nn.Parameter(torch.randn(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return x @ self.weights + self.bias
        # END SOLUTION
"""
DEMO_CELL = """layer = MyLinear(2, 3)
print(layer, layer(torch.ones(1, 2)) - 1)
"""
SHAPES_TEST = """# TEST points=1 name=shapes
layer = MyLinear(4, 3)
observe(weights=torch.tensor(layer.weights.shape), bias=torch.tensor(layer.bias.shape))
"""


def _solution(path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    notebook = new_notebook()
    notebook.metadata["grader"] = {"name": "weak_notebook", "title": "A layer", "memory": "1G"}
    notebook.cells = [new_markdown_cell("# A layer"), new_code_cell("import torch\nfrom torch import nn"),
                      new_markdown_cell("Write it:"), new_code_cell(SOLVED_CELL), new_code_cell(DEMO_CELL),
                      new_code_cell(SHAPES_TEST)]
    nbformat.write(notebook, str(path))
    return path


def test_assigned_reference_mutants_stay_in_the_solution_regions_and_name_notebook_cells(tmp_path):
    from grader.authoring.assign import author
    from grader.authoring.audit import solution_map

    authored = author(_solution(tmp_path / "solution.ipynb"), "weak_notebook")
    where = solution_map(authored.reference)
    assert where.regions is not None and len(where.regions) == 2
    mutants = generate(authored.reference, regions=where.regions)
    assert len(mutants) >= 4
    cell_lines = SOLVED_CELL.splitlines()
    allowed = {5, 6, 11}  # the solution notebook's code cell 2: the lines between the markers
    for mutant in mutants:
        cell, line = where.where(mutant.line)
        assert (cell, line in allowed) == (2, True), mutant
        assert " ".join(cell_lines[line - 1].split()) == mutant.original
    assert not any("print" in m.original or "super()" in m.original for m in mutants)
    # without the markers (an older reference), only the top-level demo code is spared
    plain = "\n".join(line for line in authored.reference.splitlines() if "SOLUTION" not in line)
    demo_lines = {m.original for m in generate(plain)}
    assert "return x @ self.weights + self.bias" in demo_lines
    assert not any("print" in line or "layer = " in line for line in demo_lines)


def test_audit_of_an_assigned_notebook_names_cells_and_lines(tmp_path, capsys):
    from grader.authoring.assign import author, write

    authored = author(_solution(tmp_path / "solution.ipynb"), "weak_notebook")
    folder = tmp_path / "assignments" / "weak_notebook"
    write(authored, folder, "solution.ipynb")
    result = audit(str(folder), GradeOptions(jobs=2, **OPTIONS), max_mutants=6)
    assert len(result.mutants) == 6 and (result.mutants.cell == 2).all()
    assert set(result.mutants.line) <= {5, 6, 11}
    forward = result.survivors[result.survivors.line == 11]
    assert len(forward) >= 1  # the shapes test never runs forward
    print_audit(result)
    out = capsys.readouterr().out
    assert "cell 2, line 11" in out and "Mutated: the 2 solution regions" in out
