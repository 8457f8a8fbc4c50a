"""Realistic lenet submissions, written as students post them (issue 12): blitz scripts that do
everything at top level (a failing `import torchvision`, a scratch line, a training loop,
`plt.show()`), VS Code cells with an unconditional `.cuda()`, other names for `Net`, old APIs."""

import pytest

from conftest import EXAMPLES, HAS_TORCHVISION

FOLDER = EXAMPLES / "realistic_lenet"

EXPECTED = {
    # `class Model`, graced as Net (test_names_as_asked's point); torchvision and a scratch line fail
    "blitz_model": (9, "graded", ["graded your `Model` as `Net`"] + ([] if HAS_TORCHVISION else [
        "ModuleNotFoundError at line 6 `import torchvision"])),
    # `class CNN`, torchvision behind try/except, the download behind `if __name__ == "__main__":`
    "cnn_guarded": (9, "graded", ["graded your `CNN` as `Net`"]),
    # `class LeNet` is an alias in lenet's assignment.toml: no deduction
    "lenet_cells": (10, "graded", ["this grader has no GPU", "at line 30 `model = LeNet().cuda()`"]),
    "old_api": (10, "graded", ["IndexError at line 39", "invalid index of a 0-dim tensor"]),
}


@pytest.fixture(scope="module")
def graded(grade):
    return grade("lenet", FOLDER, timeout=10)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_realistic_scores(graded, student):
    graded.assert_row(student, EXPECTED[student])


@pytest.mark.parametrize("student", ["blitz_model", "cnn_guarded"])
def test_another_name_costs_only_the_names_test(graded, student):
    results = graded.results[graded.results.student == student]
    assert list(results[results.status == "failed"].test) == ["test_names_as_asked"]


def test_the_one_line_names_what_cost_points_then_counts_the_errors(graded):
    message = graded.row("blitz_model").message
    assert message.startswith("test_names_as_asked: graded your `Model` as `Net`")
    assert message.endswith("2 errors, and 1 later error that follows from them (see the feedback)")
