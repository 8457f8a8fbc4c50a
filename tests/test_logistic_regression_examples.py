"""The logistic_regression example class: every example's exact score, status and key words."""

import shutil

import pytest

from conftest import EXAMPLES, ROOT

FOLDER = EXAMPLES / "logistic_regression"

# Issue 12: test_training is worth 1 point (was 2), test_names_as_asked 1 (a point of the one
# failed test went to the names test, which these students pass).
EXPECTED = {
    # student: (score, status, words that must appear in the row's message or test messages)
    "correct": (10, "graded", ["all tests passed"]),
    "correct_notebook": (10, "graded", ["all tests passed"]),
    "opposite_sign_gradient": (6, "graded", ["-1 times", "sign of (yhat - y)", "grows"]),
    "missing_1_over_m": (6, "graded", ["m times", "m = 8", "1/m"]),
    "sigmoid_wrong_sign": (6, "graded", ["1 - the expected value", "exp(-z)"]),
    "forward_without_bias": (8, "graded", ["without b", "sigmoid(w.T @ x + b)"]),
    "w_transposed": (6, "graded", ["(1, 5)", "(5, 1)", "transposed"]),
    # `class LogisticRegression`: an alias of LR in assignment.toml, no deduction
    "spelled_out": (10, "graded", ["all tests passed"]),
}


@pytest.fixture(scope="module")
def graded(grade):
    return grade("logistic_regression", FOLDER)


@pytest.fixture(scope="module")
def starter_and_reference(grade, tmp_path_factory):
    """The starter notebook as handed out, and the reference graded as a submission."""
    folder = tmp_path_factory.mktemp("logistic_regression")
    shutil.copy(ROOT / "assignments/logistic_regression/starter.ipynb", folder / "starter.ipynb")
    shutil.copy(ROOT / "reference/logistic_regression.py", folder / "reference.py")
    return grade("logistic_regression", folder)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_example_scores(graded, student):
    graded.assert_row(student, EXPECTED[student])


def test_every_example_has_a_row(graded):
    names = {p.stem for p in FOLDER.iterdir() if p.suffix in {".py", ".ipynb"}}
    assert set(graded.scores.index) == names == set(EXPECTED)
    assert (graded.scores.max_score == 10).all()


def test_hidden_results_never_show_expected_values(graded):
    hidden = graded.results[(graded.results.visibility == "hidden")
                            & (graded.results.status == "failed")]
    assert not hidden.empty
    assert not hidden.message.str.contains("expected", regex=False).any()


def test_starter_scores_zero(starter_and_reference):
    row = starter_and_reference.row("starter")
    assert (row.score, row.status) == (0, "graded"), row.message
    assert "NotImplementedError" in starter_and_reference.messages("starter")


def test_reference_scores_full_marks(starter_and_reference):
    row = starter_and_reference.row("reference")
    assert (row.score, row.status, row.message) == (10, "graded", "all tests passed")
