"""The training_loop example class: every example's exact score, status and key words."""

import shutil

import pytest

from conftest import EXAMPLES, ROOT

FOLDER = EXAMPLES / "training_loop"

EXPECTED = {
    # student: (score, status, words that must appear in the row's message or test messages)
    "correct": (10, "graded", ["all tests passed"]),
    "correct_notebook": (10, "graded", ["all tests passed"]),
    "no_zero_grad": (5, "graded", ["gradients accumulate", "optimizer.zero_grad() before backward()"]),
    "step_before_backward": (5, "graded", ["no gradients", "after loss.backward()"]),
    "losses_as_tensors": (9, "graded", ["Tensor items", ".item()"]),
    "manual_step_rebinds": (7, "graded", ["did not change the parameters", "in place", "-="]),
}


@pytest.fixture(scope="module")
def graded(grade):
    return grade("training_loop", FOLDER)


@pytest.fixture(scope="module")
def starter_and_reference(grade, tmp_path_factory):
    """The starter notebook as handed out, and the reference graded as a submission."""
    folder = tmp_path_factory.mktemp("training_loop")
    shutil.copy(ROOT / "assignments/training_loop/starter.ipynb", folder / "starter.ipynb")
    shutil.copy(ROOT / "reference/training_loop.py", folder / "reference.py")
    return grade("training_loop", folder)


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
