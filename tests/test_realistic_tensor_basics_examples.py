"""Realistic tensor_basics submissions (issue 12): the blitz's autograd tutorial typed along at top
level (`x.grad` is 4.5 everywhere, then a second `backward()` that fails) before the exercise's
functions, and the tensor tutorial in `# %%` cells with a `.to("cuda")` from a GPU machine."""

import pytest

from conftest import EXAMPLES

FOLDER = EXAMPLES / "realistic_tensor_basics"

EXPECTED = {
    "autograd_tutorial": (10, "graded", ["RuntimeError at line 13 `out.backward()",
                                         "Trying to backward through the graph a second time"]),
    # the line that needs a GPU costs nothing; returning x.grad as a NumPy array costs its test
    "tensor_tutorial_cells": (8, "graded", ["this grader has no GPU", "at line 20 `x = x.to(\"cuda\")`",
                                            "scalar_autograd_example() returned ndarray, not x.grad"]),
}


@pytest.fixture(scope="module")
def graded(grade):
    return grade("tensor_basics", FOLDER, timeout=10)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_realistic_scores(graded, student):
    graded.assert_row(student, EXPECTED[student])
