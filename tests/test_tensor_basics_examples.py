"""The tensor_basics example class: every student's exact score, status and key words; the
starter scores 0 and the reference full marks."""

import shutil

import pytest

from conftest import EXAMPLES, ROOT

FOLDER = EXAMPLES / "tensor_basics"

EXPECTED = {
    # student: (score, status, words that must appear in the row's message or test messages)
    "correct": (10, "graded", ["all tests passed"]),
    "correct_notebook": (10, "graded", ["all tests passed"]),
    "copy_not_view": (8, "graded", ["a copy, not a view", "did not change the original",
                                    "use indexing/slicing or .view"]),
    "view_on_transposed": (9, "graded", ["not contiguous", "stride (1, 3)", ".reshape(-1)"]),
    "no_mean": (8, "graded", ["4 times", ".mean()"]),
    "float32": (9, "graded", ["torch.float32", "torch.float64"]),
    "layout_shortcuts": (9, "graded", ["storage_offset']: got 0"]),
}

# (student, test) for every failed test: each mistake costs exactly its own test.
MISTAKES = [
    ("copy_not_view", "test_column_view"),
    ("view_on_transposed", "test_flatten_transposed"),
    ("no_mean", "test_scalar_autograd_example"),
    ("float32", "test_to_float64_on"),
    ("layout_shortcuts", "test_layout_of_slices"),
]


@pytest.fixture(scope="module")
def graded(grade):
    return grade("tensor_basics", FOLDER, timeout=6, memory=512 * 1024**2)


@pytest.fixture(scope="module")
def starter_and_reference(grade, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tensor_basics")
    shutil.copy(ROOT / "assignments" / "tensor_basics" / "starter.ipynb", folder)
    shutil.copy(ROOT / "reference" / "tensor_basics.py", folder / "reference.py")
    return grade("tensor_basics", folder, timeout=6, memory=512 * 1024**2)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_example_scores(graded, student):
    graded.assert_row(student, EXPECTED[student])


def test_every_student_has_a_row(graded):
    names = {p.stem for p in FOLDER.iterdir() if p.suffix in {".py", ".ipynb"}}
    assert set(graded.scores.index) == names == set(EXPECTED)
    assert (graded.scores.max_score == 10).all()


def test_each_mistake_loses_only_its_own_test(graded):
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
