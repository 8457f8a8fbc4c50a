"""The autograd_function example class: every student's exact score, status and key words; the
starter scores 0 and the reference full marks."""

import shutil

import pytest

from conftest import EXAMPLES, ROOT

FOLDER = EXAMPLES / "autograd_function"

EXPECTED = {
    # student: (score, status, words that must appear in the row's message or test messages)
    "correct": (10, "graded", ["all tests passed"]),
    "correct_notebook": (10, "graded", ["all tests passed"]),
    "wrong_sign": (6, "graded", ["gradcheck", "returned False", "-1 times", "check a sign"]),
    "no_grad_output": (6, "graded", ["ignores grad_output", "chain rule", "grad_output * ds/dx"]),
    # test_linear_backward gave a point to test_names_as_asked (issue 21)
    "wrong_number_of_gradients": (7, "graded", ["returned 2 gradients", "3 inputs",
                                                "(x, weight, bias)"]),
    "input_not_output": (6, "graded", ["the input x", "sigmoid's output",
                                       "ctx.save_for_backward(s)"]),
}

# (student, test) for every failed test: each mistake costs its Function's gradient tests.
SIGMOID_GRADIENTS = ["test_sigmoid_gradcheck", "test_sigmoid_backward",
                     "test_sigmoid_float32_any_shape"]
LINEAR_GRADIENTS = ["test_linear_gradcheck", "test_linear_backward", "test_linear_other_shapes"]
MISTAKES = [
    *(("wrong_sign", test) for test in SIGMOID_GRADIENTS),
    *(("no_grad_output", test) for test in SIGMOID_GRADIENTS),
    *(("input_not_output", test) for test in SIGMOID_GRADIENTS),
    *(("wrong_number_of_gradients", test) for test in LINEAR_GRADIENTS),
]


@pytest.fixture(scope="module")
def graded(grade):
    return grade("autograd_function", FOLDER, timeout=6, memory=512 * 1024**2)


@pytest.fixture(scope="module")
def starter_and_reference(grade, tmp_path_factory):
    folder = tmp_path_factory.mktemp("autograd_function")
    shutil.copy(ROOT / "assignments" / "autograd_function" / "starter.ipynb", folder)
    shutil.copy(ROOT / "reference" / "autograd_function.py", folder / "reference.py")
    return grade("autograd_function", folder, timeout=6, memory=512 * 1024**2)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_example_scores(graded, student):
    graded.assert_row(student, EXPECTED[student])


def test_every_student_has_a_row(graded):
    names = {p.stem for p in FOLDER.iterdir() if p.suffix in {".py", ".ipynb"}}
    assert set(graded.scores.index) == names == set(EXPECTED)
    assert (graded.scores.max_score == 10).all()


def test_each_mistake_loses_only_its_own_tests(graded):
    failed = graded.results[graded.results.status == "failed"]
    assert sorted(zip(failed.student, failed.test, strict=True)) == sorted(MISTAKES)


def test_hidden_results_never_show_expected_values(graded):
    hidden = graded.results[(graded.results.visibility == "hidden")
                            & (graded.results.status == "failed")]
    assert not hidden.empty
    assert not hidden.message.str.contains("expected -?[0-9]", regex=True).any()


def test_starter_scores_zero(starter_and_reference):
    row = starter_and_reference.row("starter")
    assert (row.score, row.status) == (0, "graded"), row.message
    assert "NotImplementedError" in row.message


def test_reference_scores_full_marks(starter_and_reference):
    row = starter_and_reference.row("reference")
    assert (row.score, row.max_score, row.status) == (10, 10, "graded"), row.message
    assert row.message == "all tests passed"
