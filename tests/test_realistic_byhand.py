"""Real students' mistakes, round two (issue 21, items 5-7): errors grouped by cause, diagnoses of
common mistakes, and "by hand" checks (grader.by_hand). Each case is a pinned example submission in
examples/realistic_byhand_*; the helpers below them are tested directly too."""

import html
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import EXAMPLES, HAS_TORCHVISION, NO_NETWORK, ROOT
from grader.by_hand import AUTOGRAD, LINEAR, MATMUL, by_hand, function_name
from grader.judge.diagnose import error_cause, likely_cause
from grader.model import CellError, group_errors
from grader.probing import ProbeFailure
from grader.report.escaping import LIMITS, bound
from grader.report.feedback import feedback_markdown, student_feedback
from grader.report.gradebook import cell_errors
from grader.report.html import write_extras

LAYER_NORM = ROOT / "tests" / "data" / "layer_norm"

CUSTOM_LAYER = {
    # `import tensorflow as tf` fails; the 6 statements that use tf (or what they would have made)
    # are one cause, not "7 errors"
    "tensorflow_first": (10, "graded", ["`import tensorflow as tf` failed (line 3); 6 later errors follow "
                                        "from it: ModuleNotFoundError"]),
    # the same in a notebook: the cells that use keras (or the model it would have made) follow from it
    "keras_first": (10, "graded", ["cell 1: `import tensorflow as tf` failed (line 2); 2 later errors "
                                   "follow from it"]),
    # a download (or, without torchvision, its import) and what uses the data set: one cause
    "mnist_download": (10, "graded", ["failed (line 21); 3 later errors follow from it", NO_NETWORK]
                       if HAS_TORCHVISION else ["`import torchvision` failed (line 3); 5 later errors follow "
                                                "from it"]),  # `import torchvision.transforms` among them
    # 8 `mo.md(...)` cells: marimo's stand-in, no NameError each
    "marimo_lecture": (10, "graded", ["all tests passed"]),
    "functional_linear": (9, "graded", ["MyLinear.forward calls torch.nn.functional.linear (line 18: "
                                        "`return F.linear(x, self.weights.t(), self.bias)`): the task asks you "
                                        "to compute x @ weights + bias yourself"]),
    # the class fails because its base class's import failed: the import is named first
    "helper_not_handed_in": (0, "graded", ["your code does not define MyLinear (it failed earlier: "
                                           "ModuleNotFoundError at line 3 `from layers import BaseLayer",
                                           "; then NameError at line 6 `class MyLinear(BaseLayer):`"]),
    "relu_output": (5, "graded", ["the negative values are 0 where the expected ones are negative",
                                  "a stray ReLU or clamp(min=0)"]),
    # `.data` in forward: the hidden gradients test says why there is no gradient (mm: no 3-D batch)
    "data_in_forward": (8, "graded", ["element 0 of tensors does not require grad",
                                      "Likely cause: your result has no gradient: forward computes with .data "
                                      "or .detach()"]),
}

LOGISTIC_REGRESSION = {
    "autograd_grad": (9, "graded", ["LR.backward calls torch.autograd.grad (line 25: `dw, db = "
                                    "torch.autograd.grad(loss, [w, b])`): the task asks you to compute the "
                                    "gradients yourself, without autograd"]),
    "loss_backward": (9, "graded", ["LR.backward calls torch.Tensor.backward (line 23: `loss.backward()`)"]),
    "numpy_backward": (10, "graded", ["all tests passed"]),  # by hand in numpy is by hand
}

LAYER_NORM_EXAMPLES = {
    "correct": (10, "graded", ["all tests passed"]),
    # torch.var's default divides by N - 1: 0.9129 = sqrt(5/6) times the expected values
    "unbiased_var": (0, "graded", ["it is 0.9129 times the expected value, sqrt((N-1)/N) for N = 6: a "
                                   "variance divided by N - 1"]),
    "subclass": (7, "graded", ["MyLayerNorm subclasses torch.nn.LayerNorm: the task asks you to compute "
                               "it yourself"]),
    "functional": (7, "graded", ["MyLayerNorm.forward calls torch.nn.functional.layer_norm (line 17"]),
    "holds_module": (7, "graded", ["MyLayerNorm holds an nn.LayerNorm (self.norm)"]),
    # hostile: hides F.layer_norm from the recorder; the check fails closed
    "hidden_from_recorder": (7, "graded", ["the check could not observe your forward"]),
}


@pytest.fixture(scope="module")
def custom_layer(grade):
    return grade("custom_layer", EXAMPLES / "realistic_byhand_custom_layer", timeout=10)


@pytest.fixture(scope="module")
def logistic_regression(grade):
    return grade("logistic_regression", EXAMPLES / "realistic_byhand_logistic_regression", timeout=10)


@pytest.fixture(scope="module")
def layer_norm(grade):
    return grade(str(LAYER_NORM), EXAMPLES / "realistic_byhand_layer_norm", timeout=10)


@pytest.mark.parametrize("student", sorted(CUSTOM_LAYER))
def test_custom_layer_examples(custom_layer, student):
    custom_layer.assert_row(student, CUSTOM_LAYER[student])


@pytest.mark.parametrize("student", sorted(LOGISTIC_REGRESSION))
def test_logistic_regression_examples(logistic_regression, student):
    logistic_regression.assert_row(student, LOGISTIC_REGRESSION[student])


@pytest.mark.parametrize("student", sorted(LAYER_NORM_EXAMPLES))
def test_layer_norm_examples(layer_norm, student):
    layer_norm.assert_row(student, LAYER_NORM_EXAMPLES[student])


def _failed(graded, student):
    results = graded.results[graded.results.student == student]
    return sorted(results[results.status == "failed"].test)


@pytest.mark.parametrize(("graded", "student", "test"), [
    ("custom_layer", "functional_linear", "test_forward_by_hand"),
    ("logistic_regression", "autograd_grad", "test_backward_by_hand"),
    ("logistic_regression", "loss_backward", "test_backward_by_hand"),
    ("layer_norm", "subclass", "test_forward_by_hand"),
    ("layer_norm", "functional", "test_forward_by_hand"),
    ("layer_norm", "holds_module", "test_forward_by_hand"),
    ("layer_norm", "hidden_from_recorder", "test_forward_by_hand"),
])
def test_not_by_hand_costs_the_by_hand_test_only(request, graded, student, test):
    assert _failed(request.getfixturevalue(graded), student) == [test]


def _run(graded, student):
    return next(r for r in graded.batch.runs if r.submission.student == student)


def test_a_failed_import_is_one_cause_in_the_feedback_and_the_gradebook(custom_layer):
    run = _run(custom_layer, "tensorflow_first")
    assert len(run.cell_errors) == 7
    rows = custom_layer.results[custom_layer.results.student == "tensorflow_first"]
    score = custom_layer.scores.reset_index()
    feedback = student_feedback("t", run, score[score.student == "tensorflow_first"].iloc[0], rows)
    text = feedback_markdown(feedback)
    assert "6 later errors follow from it" in text
    assert "then NameError at line 10 `W = tf.Variable(tf.random.normal([3, 1]))`" in text
    assert "name 'loss' is not defined" in text  # made by the failed loop over tf: the same cause
    listed = next(row for row in cell_errors(custom_layer.batch, score) if row["student"] == "tensorflow_first")
    assert len(listed["errors"]) == 1 and "6 later errors follow from it" in listed["errors"][0]


def test_the_notebook_page_says_which_cell_an_error_follows_from(custom_layer, tmp_path):
    write_extras(custom_layer.batch, tmp_path, custom_layer.scores, custom_layer.results)
    page = (tmp_path / "feedback" / "keras_first.notebook.html").read_text()
    page = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "Grader: cell 2 raised NameError, which follows from the error in cell 1" in page
    assert "Grader: cell 3 raised NameError, which follows from the error in cell 1" in page
    assert "Grader: cell 1 raised ModuleNotFoundError while it was graded" in page


def test_marimo_markdown_cells_run_against_a_stand_in(custom_layer):
    run = _run(custom_layer, "marimo_lecture")
    assert run.cell_errors == []
    assert any("marimo is not installed where this is graded" in note for note in run.notes)


def _error(type_, missing="", defines=(), line=1, text="x"):
    return CellError(cell=None, type=type_, message="m", line=line, text=text, defines=tuple(defines),
                     missing=missing)


def test_name_errors_join_the_failed_cell_that_would_have_defined_the_name():
    errors = [_error("ModuleNotFoundError", defines=["tf"], text="import tensorflow as tf", line=3),
              _error("NameError", "tf", ["model"]),
              _error("NameError", "model"),  # follows from the import, through `model`
              _error("FileNotFoundError", defines=["data"]),
              _error("NameError", "data"),
              _error("NameError", "undefined_elsewhere")]
    groups = group_errors(errors)
    assert [len(g.errors) for g in groups] == [3, 2, 1]
    assert groups[0].text_for("py") == ("`import tensorflow as tf` failed (line 3); 2 later errors follow "
                                        "from it: ModuleNotFoundError: m")
    assert groups[2].text_for("py") == errors[-1].text_for("py")
    assert group_errors([_error("TypeError", "tf"), _error("TypeError", "tf")])[1].following == ()


def test_a_second_import_of_a_missing_package_follows_from_the_first():
    first, second, other = (CellError(None, "ModuleNotFoundError", module=name) for name in
                            ("torchvision", "torchvision", "tensorflow"))
    assert [len(g.errors) for g in group_errors([first, second, other])] == [2, 1]
    assert CellError.of_value(second.as_dict()) == second  # the journal keeps it


def test_the_status_line_counts_causes_not_follow_on_errors(custom_layer):
    message = custom_layer.row("tensorflow_first").message
    assert "(and" not in message and "7 errors" not in message


@pytest.mark.parametrize("over", [1, 10, 30])
def test_a_text_is_never_cut_for_less_than_the_note_costs(over):
    text = "x" * (LIMITS["message"] + over)
    assert bound(text) == text
    assert "more characters not shown" not in bound(text)


def test_a_long_text_is_still_cut_and_says_how_much():
    assert bound("x" * (LIMITS["message"] + 1000)).endswith("… (1000 more characters not shown)")


X = torch.tensor([[0.5, -1.0, 2.0, 0.0, 1.5, -0.5], [3.0, 1.0, -2.0, 0.5, 0.0, 1.0]])


def _normalised(x, unbiased):
    return (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, keepdim=True, unbiased=unbiased) + 1e-5)


def test_an_unbiased_variance_is_named_with_its_n():
    assert "sqrt((N-1)/N) for N = 6" in likely_cause(_normalised(X, True), _normalised(X, False))
    assert "N/(N-1) for N = 2" not in (likely_cause(X.var(0), X.var(0, unbiased=False)) or "")
    assert "N/(N-1) for N = 6" in likely_cause(X.var(1), X.var(1, unbiased=False))


def test_other_factors_keep_their_words():
    assert "2 times the expected value" in likely_cause(2 * X, X)  # not "N/(N-1) for N = 2"
    assert "1/2 of the expected value" in likely_cause(X / 2, X)
    assert "N = " not in likely_cause(0.37 * X, X)


def test_negatives_clipped_to_zero_are_a_stray_relu():
    assert "a stray ReLU or clamp(min=0)" in likely_cause(torch.relu(X), X)
    assert "ReLU" not in (likely_cause(torch.relu(X).abs() + 1, X) or "")
    assert "ReLU" not in (likely_cause(X.abs() + 1, X.abs() + 2) or "")  # nothing negative expected


def test_no_gradient_in_a_probe_names_the_cut_graph():
    assert ".data or .detach()" in error_cause(
        "RuntimeError", "element 0 of tensors does not require grad and does not have a grad_fn")
    assert error_cause("RuntimeError", "shape mismatch") is None


class _ByHand(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.ones(3, 2))

    def forward(self, x):
        return x @ self.weights


class _Functional(_ByHand):
    def forward(self, x):
        return F.linear(x, self.weights.T)


class _Holds(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(3, 2)

    def forward(self, x):
        return x @ self.inner.weight.T


class _Subclass(nn.Linear):
    def __init__(self):
        super().__init__(3, 2)

    def forward(self, x):
        return x @ self.weight.T + self.bias


class _AtenOp(_ByHand):
    def forward(self, x):
        return torch.ops.aten.linear.default(x, self.weights.T)


class _Hidden(_ByHand):
    def forward(self, x):
        with torch._C.DisableTorchFunction():
            return torch.mm(x, self.weights)


def _linear_by_hand(layer):
    return by_hand(layer, torch.ones(4, 3), forbidden=LINEAR, forbidden_modules=(nn.Linear,), needs=MATMUL)


def test_a_layer_by_hand_passes_and_returns_its_result():
    assert torch.equal(_linear_by_hand(_ByHand()), torch.full((4, 2), 3.0))


@pytest.mark.parametrize(("layer", "words"), [
    (_Functional, "_Functional.forward calls torch.nn.functional.linear (line "),
    (_AtenOp, "_AtenOp.forward calls torch.ops.aten.linear (line "),
    (_Holds, "_Holds holds an nn.Linear (self.inner)"),
    (_Subclass, "_Subclass subclasses torch.nn.Linear"),
    (_Hidden, "the check could not observe your forward"),
])
def test_a_layer_not_by_hand_fails_with_a_clear_message(layer, words):
    with pytest.raises(ProbeFailure) as failure:
        _linear_by_hand(layer())
    assert words in str(failure.value)


def test_nothing_seen_at_all_fails_closed_even_without_needs():
    with pytest.raises(ProbeFailure, match="could not observe your forward"):
        by_hand(_Hidden(), torch.ones(4, 3), forbidden=LINEAR)


class _Backward:
    def __init__(self, how):
        self.how = how

    def backward(self, x, yhat, y):
        if self.how == "by hand":
            self.dw = x @ (yhat - y).T / x.shape[1]
            return
        w = torch.zeros(x.shape[0], 1, requires_grad=True)
        loss = F.binary_cross_entropy(torch.sigmoid(w.T @ x), y)
        if self.how == "grad":
            self.dw = torch.autograd.grad(loss, w)[0]
        elif self.how == "backward":
            loss.backward()
        elif self.how == "autograd.backward":
            torch.autograd.backward(loss)
        elif self.how == "jacobian":
            torch.autograd.functional.jacobian(lambda v: F.binary_cross_entropy(torch.sigmoid(v.T @ x), y), w)
        elif self.how == "func":
            torch.func.grad(lambda v: F.binary_cross_entropy(torch.sigmoid(v.T @ x), y))(w.detach())


@pytest.mark.parametrize("how", ["grad", "backward", "autograd.backward", "jacobian", "func"])
def test_a_backward_through_autograd_fails(how):
    x, y = torch.randn(3, 5), torch.ones(1, 5)
    with pytest.raises(ProbeFailure, match="_Backward.backward calls torch.*: the task asks you to compute"):
        by_hand(_Backward(how).backward, x, torch.full((1, 5), 0.5), y, forbidden=AUTOGRAD, needs=MATMUL)
    by_hand(_Backward("by hand").backward, x, torch.full((1, 5), 0.5), y, forbidden=AUTOGRAD, needs=MATMUL)


def test_every_preset_name_is_one_the_recorder_writes():
    functions = [F.linear, torch.autograd.grad, torch.autograd.backward, torch.Tensor.backward,
                 torch.autograd.functional.jacobian, torch.autograd.functional.vjp, torch.func.grad,
                 torch.func.vjp, torch.Tensor.matmul, torch.matmul, torch.Tensor.__matmul__, torch.mm,
                 torch.einsum, torch.Tensor.mul, torch.Tensor.__mul__, torch.dot, torch.linalg.multi_dot,
                 torch.ops.aten.linear, torch.ops.aten.linear.default]
    names = {function_name(f) for f in functions}
    assert names <= set(LINEAR) | set(AUTOGRAD) | set(MATMUL)
    assert "torch.functional.einsum" in names  # torch.functional is not torch.func


ASSIGN_LAYER = '''class MyLinear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        # BEGIN SOLUTION
        self.weights = nn.Parameter(torch.ones(in_features, out_features))
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return x @ self.weights
        # END SOLUTION
'''
ASSIGN_TEST = '''# TEST points=1 name=forward_by_hand description="forward is computed by hand"
from grader.api import LINEAR, MATMUL, by_hand
layer = MyLinear(3, 2)
observe(out=by_hand(layer, torch.ones(4, 3), forbidden=LINEAR, needs=MATMUL))
'''


def test_a_grader_assign_test_cell_can_check_by_hand(tmp_path):
    """The cell docs/by-hand.md shows: the reference passes, the starter and F.linear do not."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from grader import report
    from grader.cli.main import main
    from grader.grading import batch as grading
    from grader.intake.assignment import load_assignment
    from grader.intake.submissions import Submission

    notebook = new_notebook(cells=[new_markdown_cell("# A linear layer by hand"),
                                   new_code_cell("import torch\nfrom torch import nn"),
                                   new_code_cell(ASSIGN_LAYER), new_code_cell(ASSIGN_TEST)])
    nbformat.write(notebook, tmp_path / "solution.ipynb")
    with pytest.raises(SystemExit) as exit_info:  # it checks: reference 1 / 1, starter 0 / 1
        main(["assign", str(tmp_path / "solution.ipynb"), "-o", str(tmp_path / "by_hand"), "--timeout", "20"])
    assert exit_info.value.code == 0
    assignment = load_assignment(tmp_path / "by_hand")
    wraps = tmp_path / "wraps.py"
    wraps.write_text("import torch.nn.functional as F\n" + assignment.reference.read_text().replace(
        "return x @ self.weights", "return F.linear(x, self.weights.T)"))
    batch = grading.grade(assignment, [Submission("wraps", wraps)], grading.GradeOptions(jobs=1, timeout=20))
    results = report.results_table(batch)
    assert results.score.sum() == 0
    assert "MyLinear.forward calls torch.nn.functional.linear" in results.message.iloc[0]


def test_the_scores_line_counts_causes_and_what_follows_from_them():
    from grader.model import errors_summary

    cause = _error("ModuleNotFoundError", defines=["tf"])
    assert errors_summary([cause, _error("NameError", "tf"), _error("NameError", "tf")], "py") == (
        "1 error, and 2 later errors that follow from it")
    assert errors_summary([cause, _error("ZeroDivisionError"), _error("NameError", "tf")], "ipynb") == (
        "2 failing cells, and 1 later error that follows from them")
    assert errors_summary([cause, _error("ZeroDivisionError")], "py") == "2 errors"
