"""The lenet example class: every student's exact score, status and key words."""

import importlib.util
import shutil

import pytest
import torch

from conftest import EXAMPLES, HAS_TORCHVISION, NO_NETWORK, ROOT

FOLDER = EXAMPLES / "lenet"
ASSIGNMENT = ROOT / "assignments" / "lenet"
REFERENCE = ROOT / "reference" / "lenet.py"

CORRECT = ["alice", "blitz_script", "bob", "modules", "sequential_aliases"]
# Issue 12: test_layer_steps is worth 1 point (was 2), test_names_as_asked 1 (a point of the one
# failed test went to the names test, which these students pass). Issue 21: one test per layer
# (conv1 ... fc3, a point each) in place of the state_dict, parameter count and output shape tests;
# test_forward_values is worth 2 points (was 3), test_gradients 1 (was 2).
EXPECTED = {
    # student: (score, status, words that must appear in the row's message or test messages)
    **{student: (10, "graded", ["all tests passed"]) for student in CORRECT},
    "mnist_download": (10, "graded", [NO_NETWORK] if HAS_TORCHVISION
                       else ["ModuleNotFoundError", "torchvision is not installed where"]),
    "sequential": (9, "graded", ["graded Net's self.features.0 as self.conv1",
                                 "self.classifier.5 as self.fc3"]),
    "missing_relu": (6, "graded", ["between fc2 and fc3 your Net applies nothing (no "
                                   "activation); LeNet applies relu"]),
    "avg_pool": (6, "graded", ["between conv1 and conv2", "2x2 average pooling",
                               "LeNet applies relu, then 2x2 max pooling"]),
    "wrong_flatten": (5, "graded", [
        "fc1 is nn.Linear(256, 120); LeNet's fc1 is nn.Linear(400, 120) (in_features differs)",
        "16 x 5 x 5 = 400", "nn.Linear(16 * 5 * 5, 120)"]),
}
WRONG_VALUES = {"test_forward_values", "test_layer_steps", "test_gradients"}
FAILED = {  # student: the tests they fail, exactly
    "sequential": {"test_names_as_asked"},
    "missing_relu": WRONG_VALUES,
    "avg_pool": WRONG_VALUES,
    "wrong_flatten": {"test_fc1", *WRONG_VALUES},
}


@pytest.fixture(scope="module")
def graded(grade):
    return grade("lenet", FOLDER)


@pytest.fixture(scope="module")
def baseline(grade, tmp_path_factory):
    """The reference graded as a submission, and the starter notebook as handed out."""
    folder = tmp_path_factory.mktemp("lenet_baseline")
    shutil.copy(REFERENCE, folder / "reference.py")
    shutil.copy(ASSIGNMENT / "starter.ipynb", folder / "starter.ipynb")
    return grade("lenet", folder)


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
    assert not hidden.message.str.contains("expected -?[0-9]", regex=True).any()
    assert not hidden.message.str.contains("At index").any()


def test_reference_is_the_blitz_lenet():
    """61,706 parameters, (N, 10) outputs: what the tests compare students with."""
    spec = importlib.util.spec_from_file_location("reference_lenet", REFERENCE)
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    net = reference.Net()
    assert sum(p.numel() for p in net.parameters()) == 61_706
    assert net(torch.zeros(3, 1, 32, 32)).shape == (3, 10)
