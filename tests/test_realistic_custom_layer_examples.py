"""Realistic custom_layer submissions, written as students post them (issue 12): one deviation
costs one test, a crash early in a script costs nothing after it, and each message says why."""

import pytest

from conftest import EXAMPLES, HAS_TORCHVISION, NO_NETWORK

FOLDER = EXAMPLES / "realistic_custom_layer"

EXPECTED = {
    # a folder: exercise.ipynb does `from config import HIDDEN` and `from model import MyLinear`
    "helper_modules": (10, "graded", ["all tests passed"]),
    "linear_layer": (9, "graded", ["graded your `LinearLayer` as `MyLinear`"]),
    "linear_layout": (8, "graded", ["nn.Linear's (out_features, in_features) layout",
                                    "loaded your weights transposed"]),
    "marimo_notebook": (10, "graded", ["all tests passed"]),
    "myliner": (9, "graded", ["graded your `MyLiner` as `MyLinear`"]),
    "no_bias_arg": (8, "graded", ["__init__ has no bias parameter"]),
    "percent_cells": (10, "graded", ["FileNotFoundError at line 9", "my_weights.pt"]),
    "tutorial_script": (10, "graded", [NO_NETWORK] if HAS_TORCHVISION else ["at line 4 `import torchvision`",
                                                                             "is not installed where"]),
    # parameters named as nn.Linear or the lecture names them: found by shape and role, only the
    # names test (1 point) fails (issue 21: no longer test_parameters_registered's 2 points)
    "w_and_b": (9, "graded", ["graded MyLinear's self.W as self.weights, self.b as self.bias"]),
    "weight_singular": (9, "graded", ["graded MyLinear's self.weight as self.weights",
                                      "found yours by shape"]),
}


@pytest.fixture(scope="module")
def graded(grade):
    return grade("custom_layer", FOLDER, timeout=10)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_realistic_scores(graded, student):
    graded.assert_row(student, EXPECTED[student])


def test_only_the_bias_false_tests_fail_without_a_bias_argument(graded):
    results = graded.results[graded.results.student == "no_bias_arg"]
    assert sorted(results[results.status == "failed"].test) == ["test_forward_without_bias",
                                                                "test_no_bias_parameter"]


def test_only_the_layout_test_fails_for_nn_linear_s_layout(graded):
    results = graded.results[graded.results.student == "linear_layout"]
    assert list(results[results.status == "failed"].test) == ["test_parameters_registered"]


@pytest.mark.parametrize("student", ["w_and_b", "weight_singular"])
def test_only_the_names_test_fails_for_other_parameter_names(graded, student):
    results = graded.results[graded.results.student == student]
    assert list(results[results.status == "failed"].test) == ["test_names_as_asked"]
