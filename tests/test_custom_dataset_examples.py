"""The custom_dataset example class: every student's exact score, status and key words."""

import importlib.util
import shutil

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from conftest import EXAMPLES, ROOT

FOLDER = EXAMPLES / "custom_dataset"
ASSIGNMENT = ROOT / "assignments" / "custom_dataset"
REFERENCE = ROOT / "reference" / "custom_dataset.py"

# Issue 12: test_collate is worth 1 point (was 2), test_names_as_asked 1 (a point of the one
# failed test went to the names test, which these students pass).
EXPECTED = {
    # student: (score, status, words that must appear in the row's message or test messages)
    "alice": (10, "graded", ["all tests passed"]),
    "bob": (10, "graded", ["all tests passed"]),
    "carol": (10, "graded", ["all tests passed"]),
    "ignores_shuffle": (9, "graded", ["in order", "shuffle=shuffle"]),
    "no_last_batch": (9, "graded", ["gave 2 batches, expected 3", "last batch of 2 samples is "
                                    "missing", "range(0, n, bs)"]),
    "off_by_one_len": (7, "graded", ["with 5 samples is 4: off by one", "len(self.labels)",
                                     "got 2 items, expected 3 items"]),
    "tuple_item": (6, "graded", ["dataset[0] returned a tuple", '"Text"', '"Class"']),
    "wrong_keys": (6, "graded", ["missing 'Class', 'Text'", "unexpected 'label', 'text'"]),
    # the only Dataset subclass, under another name: graded as CustomDataset, the names test fails
    "my_dataset": (9, "graded", ["graded your `MyDataset` as `CustomDataset`"]),
    "text_dataset": (9, "graded", ["graded your `TextDataset` as `CustomDataset`"]),
}
FAILED = {  # student: the tests they fail, exactly
    "my_dataset": {"test_names_as_asked"},
    "text_dataset": {"test_names_as_asked"},
    "ignores_shuffle": {"test_shuffle"},
    "no_last_batch": {"test_manual_batches_uneven"},
    "off_by_one_len": {"test_length", "test_collate", "test_collate_string_labels"},
    "tuple_item": {"test_getitem", "test_collate", "test_collate_string_labels"},
    "wrong_keys": {"test_getitem", "test_collate", "test_collate_string_labels"},
}


@pytest.fixture(scope="module")
def graded(grade):
    return grade("custom_dataset", FOLDER)


@pytest.fixture(scope="module")
def baseline(grade, tmp_path_factory):
    """The reference graded as a submission, and the starter notebook as handed out."""
    folder = tmp_path_factory.mktemp("custom_dataset_baseline")
    shutil.copy(REFERENCE, folder / "reference.py")
    shutil.copy(ASSIGNMENT / "starter.ipynb", folder / "starter.ipynb")
    return grade("custom_dataset", folder)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_example_scores(graded, student):
    graded.assert_row(student, EXPECTED[student])


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_exactly_the_expected_tests_fail(graded, student):
    results = graded.results[graded.results.student == student]
    assert set(results[results.status == "failed"].test) == FAILED.get(student, set())


def test_every_student_has_a_row(graded):
    names = {p.stem for p in FOLDER.iterdir() if p.suffix in {".py", ".ipynb"} or p.is_dir()}
    assert set(graded.scores.index) == names == set(EXPECTED)
    assert (graded.scores.max_score == 10).all()


def test_grading_is_fast(graded):
    """The tests themselves (not the student's own code) take well under a second each."""
    checking = graded.scores.seconds - graded.scores.code_seconds
    assert (checking < 1.0).all(), checking.to_dict()


def test_reference_scores_full_marks(baseline):
    row = baseline.row("reference")
    assert (row.score, row.status, row.message) == (10, "graded", "all tests passed")


def test_starter_scores_zero(baseline):
    row = baseline.row("starter")
    assert (row.score, row.status) == (0, "graded")
    assert "NotImplementedError" in row.message


def test_hidden_results_never_show_expected_values(graded):
    hidden = graded.results[(graded.results.visibility == "hidden")
                            & (graded.results.status == "failed")]
    assert not hidden.empty
    assert not hidden.message.str.contains(r"\bexpected -?[0-9'\"(\[]", regex=True).any()


@pytest.mark.parametrize("n, bs", [(10, 5), (10, 4), (10, 3), (10, 20), (7, 1)])
def test_reference_manual_batches_match_the_dataloader(n, bs):
    """What the tests compare students with is what DataLoader(TensorDataset) gives."""
    spec = importlib.util.spec_from_file_location("reference_custom_dataset", REFERENCE)
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    x, y = torch.randn(n, 3), torch.arange(n)
    manual = list(reference.manual_batches(x, y, bs))
    loader = list(DataLoader(TensorDataset(x, y), batch_size=bs))
    assert len(manual) == len(loader)
    for (xb, yb), (xd, yd) in zip(manual, loader, strict=True):
        assert torch.equal(xb, xd) and torch.equal(yb, yd)
