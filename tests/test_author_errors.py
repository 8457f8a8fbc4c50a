"""The author's errors are the author's (issue 12): an exception in an assignment's own test or
probe code that no student's result causes is named as the assignment's fault (file and line), the
batch says so and exits 3; one the reference itself meets stops the batch before any student."""

import shutil

import pytest

from conftest import EXAMPLES, ROOT
from grader.cli.main import main
from grader.errors import GraderError
from grader.grading import batch as grading
from grader.intake import submissions
from grader.intake.assignment import load_assignment

SOURCE = ROOT / "assignments" / "custom_layer"
TESTS = "test_custom_layer.py"
WRONG_SHAPES = '''import torch
from torch import nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None

    def forward(self, x):
        out = x @ self.weights
        out = out if self.bias is None else out + self.bias
        return out.reshape(-1, out.shape[-1])
'''


def broken_assignment(folder, old: str, new: str):
    """custom_layer with ``old`` replaced by ``new`` in its test file."""
    shutil.copytree(SOURCE, folder)
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text().replace('"../../reference/custom_layer.py"',
                                             f'"{ROOT / "reference" / "custom_layer.py"}"'))
    tests = folder / TESTS
    text = tests.read_text()
    assert text.count(old) == 1
    tests.write_text(text.replace(old, new))
    return folder


@pytest.fixture(scope="module")
def students(tmp_path_factory):
    folder = tmp_path_factory.mktemp("students")
    shutil.copy(EXAMPLES / "custom_layer" / "alice.py", folder / "alice.py")
    (folder / "flat.py").write_text(WRONG_SHAPES)
    return folder


BATCH_SHAPES = '    assert_close(got, want, what="output shapes by input shape")'


def grade(assignment, students):
    batch = grading.grade(load_assignment(assignment), submissions.discover(students),
                          grading.GradeOptions(jobs=1))
    return batch, {(o.student, o.test): o for o in batch.outcomes}


def test_a_test_s_own_name_error_is_the_assignment_s_fault(tmp_path, students, capsys):
    branch = "    if got != want:\n        fail(explain_shapes(got, want))\n"
    assignment = broken_assignment(tmp_path / "a", BATCH_SHAPES, branch + BATCH_SHAPES)
    batch, outcomes = grade(assignment, students)
    flat = outcomes[("flat", "test_batch_shapes")]
    assert not flat.passed and flat.assignment_error.startswith("NameError at test_custom_layer.py, line ")
    assert flat.message.startswith("the assignment's check raised NameError (test_custom_layer.py, line ")
    assert "`fail(explain_shapes(got, want))`" in flat.message and "tell your instructor" in flat.message
    assert outcomes[("alice", "test_batch_shapes")].passed  # the branch alice never reaches
    assert list(batch.assignment_errors().values()) == [1]
    with pytest.raises(SystemExit) as ended:
        main(["grade", str(assignment), str(students), "-o", str(tmp_path / "out")])
    assert ended.value.code == 3
    out = " ".join(capsys.readouterr().out.split())
    assert "error: the assignment's own code raised NameError at test_custom_layer.py" in out
    assert (tmp_path / "out" / "scores.csv").exists()  # the report is written all the same


def test_a_test_s_key_error_on_a_student_s_value_names_the_line_not_the_assignment(tmp_path, students):
    assignment = broken_assignment(tmp_path / "a", BATCH_SHAPES,
                                   "    if got != want:\n        fail(str(got['(1, 1, 3)']))\n" + BATCH_SHAPES)
    _, outcomes = grade(assignment, students)
    flat = outcomes[("flat", "test_batch_shapes")]
    assert flat.message.startswith("the check's own code raised KeyError (test_custom_layer.py, line ")
    assert flat.message.endswith("on what your code returned") and not flat.assignment_error


def test_a_probe_s_name_error_on_a_student_s_work_is_the_student_s_row_not_the_assignment_s(
        tmp_path, students):
    """Blame is decided on the trusted side (issue 19): a probe that raised in the sandbox, on work
    whose reference run was clean, is the student's row, described by what the check was doing;
    where the sandbox says it came from cannot be trusted (the student's process says it)."""
    old = "        shapes[str(shape)] = list(layer(torch.ones(shape, device=device)).shape)"
    new = old + "\n        if len(shapes[str(shape)]) != len(shape):\n            explain(shapes)"
    batch, outcomes = grade(broken_assignment(tmp_path / "a", old, new), students)
    flat = outcomes[("flat", "test_batch_shapes")]
    assert flat.message.startswith("while checking batch_shapes, the check's own code raised NameError "
                                   "(test_custom_layer.py, line ")
    assert flat.message.endswith("on what your code returned or defined (the reference passes this check)")
    assert not flat.passed and not flat.assignment_error and not batch.assignment_errors()


def test_a_probe_that_fails_the_reference_stops_the_batch_naming_file_and_line(tmp_path, students):
    old = "    x = torch.linspace(-1, 1, 12).reshape(4, 3)"
    assignment = broken_assignment(tmp_path / "a", old, old + "\n    x = x + undefined_offset")
    with pytest.raises(GraderError, match=r"the reference of custom_layer failed \(forward_values: "
                       r"NameError at test_custom_layer.py, line \d+: name 'undefined_offset' is not defined"):
        grade(assignment, students)


def test_a_test_the_reference_fails_stops_the_batch_naming_the_test(tmp_path, students):
    old = '    assert_close(got["out"], want["out"], what="MyLinear(3, 2)(x)")'
    assignment = broken_assignment(tmp_path / "a", old, '    assert_close(got["out"], want["out"] + 1, '
                                   'what="MyLinear(3, 2)(x)")')
    with pytest.raises(GraderError, match=r"does not get full marks from its own tests "
                       r"\(test_forward_values: MyLinear\(3, 2\)\(x\): values differ"):
        grade(assignment, students)
