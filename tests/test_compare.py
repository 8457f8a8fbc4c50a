"""Comparators and diagnoses: the exact words a student reads for each recognisable mistake."""

import pytest
import torch

from grader.judge.compare import Mismatch, assert_close, assert_names_as_asked

EXPECTED = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def message(actual, expected=EXPECTED, **options) -> str:
    with pytest.raises(Mismatch) as caught:
        assert_close(actual, expected, what="grads['dw']", **options)
    return str(caught.value)


def test_equal_tensors_pass():
    assert_close(EXPECTED.clone(), EXPECTED, what="x")
    assert_close(EXPECTED + 1e-7, EXPECTED, what="x")


def test_statistics_in_the_manner_of_torch_testing():
    wrong = EXPECTED.clone()
    wrong[1, 2] = 0.0
    text = message(wrong)
    assert "Mismatched elements: 1 / 6 (16.7%)" in text
    assert "Greatest absolute difference: 0.75 at index (1, 2)" in text
    assert "At index (1, 2): got 0, expected -0.75" in text


@pytest.mark.parametrize("actual, words", [
    (-EXPECTED, "exactly -1 times the expected value: check a sign"),
    (32 * EXPECTED, "32 times the expected value"),
    (EXPECTED / 8, "1/8 of the expected value"),
    (torch.zeros_like(EXPECTED), "every value is zero"),
    (EXPECTED + 0.5, "off by a constant +0.5"),
    (EXPECTED + torch.tensor([1.0, 2.0, 3.0]), "same vector: a missing or wrong bias"),
])
def test_likely_causes(actual, words):
    assert words in message(actual)


def test_transposed_square_matrix():
    square = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert "transposed" in message(square.T.contiguous(), square)


def test_shapes_dtypes_devices():
    assert "shape (3, 2), expected (2, 3): the dimensions are swapped" in message(EXPECTED.T)
    assert "dtype torch.float64, expected torch.float32" in message(EXPECTED.double())
    assert "expected a tensor of shape (2, 3), got None" in message(None)


def test_nan_and_inf():
    bad = EXPECTED.clone()
    bad[0, 0] = float("nan")
    assert "1 of 6 values are NaN" in message(bad)


def test_hidden_comparisons_never_show_expected_values():
    text = message(-EXPECTED, hidden=True)
    assert "expected -" not in text and "-1 times" in text
    assert "expected" not in message([1, 2], [1, 2, 3], hidden=True).replace("the expected number", "")


def test_dicts_and_lists():
    assert "missing 'Class'; unexpected 'label'" in message({"Text": 1, "label": 2}, {"Text": 1, "Class": 2})
    assert "got 9 items, expected 10 items (off by one)" in message(list(range(9)), list(range(10)))
    assert "got (3, 4), expected (4, 3) (the dimensions are swapped" in message([3, 4], [4, 3])


# Issue 12: messages that misled.

def test_keys_are_case_sensitive_only_when_case_is_the_difference():
    with pytest.raises(Mismatch) as plain:
        assert_close({"a": 1}, {"a": 1, "bias": 2}, what="d")
    assert str(plain.value) == "d: wrong keys: missing 'bias'"
    with pytest.raises(Mismatch) as case:
        assert_close({"text": 1}, {"Text": 1}, what="d")
    assert str(case.value) == "d: wrong keys: missing 'Text'; unexpected 'text' (keys are case-sensitive)"


def test_a_list_of_names_says_which_name_is_missing_not_off_by_one():
    with pytest.raises(Mismatch) as caught:
        assert_close(["bias", "weights"], ["bias", "extra", "weights"], what="names")
    assert str(caught.value) == "names: got 2 items, expected 3 items (missing 'extra')"


def test_a_parameter_count_is_not_off_by_one():
    with pytest.raises(Mismatch) as caught:
        assert_close(61705, 61706, what="parameters")
    assert str(caught.value) == "parameters: got 61705, expected 61706"


def test_no_dtype_fix_suggested_when_it_would_not_pass():
    with pytest.raises(Mismatch) as caught:
        assert_close(torch.tensor([1.0, 5.0], dtype=torch.float64), torch.tensor([1.0, 2.0]), what="t")
    assert "convert with" not in str(caught.value)
    assert str(caught.value).startswith(
        "t: dtype torch.float64, expected torch.float32, and the values differ too")


def test_a_mismatch_carries_its_headline_and_likely_cause():
    from grader import model

    with pytest.raises(Mismatch) as caught:
        assert_close(-EXPECTED, EXPECTED, what="grads['dw']")
    found = caught.value.mismatch
    assert found.headline == "grads['dw']: values differ"
    assert found.likely_cause == "it is exactly -1 times the expected value: check a sign"
    assert found.details[0] == "Mismatched elements: 6 / 6 (100.0%)"
    assert str(caught.value) == found.text()
    assert str(caught.value).splitlines()[-1] == f"Likely cause: {found.likely_cause}"
    assert model.Status("graded") == "graded" and f"{model.Status.TIMEOUT}" == "timeout"


def test_equal_rows_are_not_called_a_missing_bias():
    expected = torch.tensor([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])
    with pytest.raises(Mismatch) as caught:
        assert_close(expected + torch.tensor([0.5, -0.25]), expected, what="grad")
    assert "bias" not in str(caught.value)


def test_graced_name_is_named():
    with pytest.raises(Mismatch) as caught:
        assert_names_as_asked({"MyLinear": {"used": "MyLiner", "graced": True}})
    assert str(caught.value).startswith("graded your `MyLiner` as `MyLinear`")
    assert_names_as_asked({"MyLinear": {"used": "MyLinear", "graced": False}})


@pytest.mark.parametrize("tolerance", [{"rtol": 1e-3}, {"atol": 1e-3}])
def test_one_tolerance_without_the_other_is_refused_as_torch_does(tolerance):
    from grader.judge.compare import ToleranceError

    given, missing = ("rtol", "atol") if "rtol" in tolerance else ("atol", "rtol")
    with pytest.raises(TypeError, match=f"got {given}=0.001 but no {missing}: give both rtol and atol"):
        assert_close(EXPECTED, EXPECTED, what="x", **tolerance)  # even when the values match
    with pytest.raises(ValueError):  # what torch.testing.assert_close raises for the same call
        assert_close(EXPECTED, EXPECTED * 2, what="x", **tolerance)
    assert issubclass(ToleranceError, TypeError) and not issubclass(ToleranceError, Mismatch)
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted"):
        torch.testing.assert_close(EXPECTED, EXPECTED, **tolerance)
    assert_close(EXPECTED * (1 + 5e-4), EXPECTED, what="x", rtol=1e-3, atol=0.0)


def test_fail_is_typed_never_returning():
    import typing

    import grader
    from grader.judge.compare import fail

    assert typing.get_type_hints(fail)["return"] is typing.NoReturn
    assert grader.fail is fail
    with pytest.raises(Mismatch, match="^your loss is a tensor, not a float$"):
        fail("your loss is a tensor, not a float")


def test_a_shape_of_another_rank_is_not_off_by_one():
    text = message({"(2, 5, 3)": [10, 2]}, {"(2, 5, 3)": [2, 5, 2]})
    assert text.endswith("got (10, 2), expected (2, 5, 2) (2 dimensions, not 3: a reshape, flatten or "
                         "squeeze?)")
    assert "off by one" not in message([2], [2, 10])


def test_equal_values_off_by_a_term_or_a_factor_name_both():
    from grader.judge.diagnose import likely_cause

    assert likely_cause(torch.full((2, 2), 4.75), torch.full((2, 2), 4.5)) == (
        "every value is off by +0.25, or 1.056 times the expected value: a missing or extra term, "
        "or constant factor?")


def test_the_names_test_fails_for_the_starter_s_stub():
    used = {"MyLinear": {"used": "MyLinear"}, "stub": True}
    with pytest.raises(Mismatch, match=r"^MyLinear still raises NotImplementedError: write it in place "
                                       r"of the starter's stub$"):
        assert_names_as_asked(used)
    assert "stub" in used  # the observation is left as it was
    assert_names_as_asked({"MyLinear": {"used": "MyLinear"}, "stub": False})


# Non-finite expected values: no tolerance, the same inf, -inf or NaN at the same position.

def _masked_scores() -> tuple[torch.Tensor, torch.Tensor]:
    """Attention scores with a causal mask, and the softmax over them (as a reference computes)."""
    scores = torch.tensor([[0.5, 1.0, 2.0], [1.5, 0.25, -0.75]])
    mask = torch.tensor([[False, True, True], [False, False, True]])
    masked = scores.masked_fill(mask, float("-inf"))
    return masked, torch.softmax(masked, dim=-1)


def test_a_masked_position_filled_with_a_finite_value_fails_with_its_values():
    masked, weights = _masked_scores()
    wrong = masked.clone()
    wrong[0, 2] = 123.0
    assert message(wrong, masked) == ("grads['dw']: got 123.0 at (0, 2) where -inf is expected: a "
                                      "masked position filled with a finite value?")
    assert_close(masked.clone(), masked, what="scores")
    assert_close(torch.softmax(masked, dim=-1), weights, what="weights")  # exp(-inf) is an exact 0


@pytest.mark.parametrize("filled", [float("inf"), 0.0, -1e9, float("nan")])
def test_every_wrong_value_at_a_masked_position_fails(filled):
    masked, _ = _masked_scores()
    wrong = masked.clone()
    wrong[0, 1] = filled
    assert "at (0, 1) where -inf is expected" in message(wrong, masked)


def test_a_hidden_test_says_only_how_many_positions_differ():
    masked, _ = _masked_scores()
    wrong = masked.masked_fill(torch.isinf(masked), 0.0)
    text = message(wrong, masked, hidden=True)
    assert text == ("grads['dw']: 3 positions where the expected value is infinite or NaN "
                    "hold another value")
    one = masked.clone()
    one[0, 1] = 0.0
    assert message(one, masked, hidden=True) == ("grads['dw']: 1 position where the expected value is "
                                                 "infinite or NaN holds another value")
    assert "inf" not in text.replace("infinite", "")


def test_log_of_zero_and_division_by_zero():
    values = torch.tensor([0.0, 1.0, 2.0])
    logs = torch.log(values)  # -inf at 0
    assert message(torch.log(values + 1e-10), logs) == (
        "grads['dw']: got -23.0259 at (0,) where -inf is expected: a masked position "
        "filled with a finite value?")
    ratios = torch.tensor([1.0, -1.0, 0.0]) / torch.zeros(3)  # inf, -inf, nan
    assert_close(ratios.clone(), ratios, what="ratios")
    assert message(-ratios, ratios) == ("grads['dw']: got -inf at (0,) where inf is expected (2 of 3 "
                                        "such positions differ): the sign is flipped?")
    clamped = torch.tensor([1.0, -1.0, 0.0]) / torch.full((3,), 1e-12)
    assert "got 1e+12 at (0,) where inf is expected" in message(clamped, ratios)
    nan_as_zero = torch.nan_to_num(ratios, 0.0, float("inf"), float("-inf"))
    assert "got 0.0 at (2,) where nan is expected" in message(nan_as_zero, ratios)


def test_nan_only_where_the_reference_has_nan_and_equal_nan_as_torch_testing():
    expected = torch.tensor([float("nan"), 1.0])
    assert_close(expected.clone(), expected, what="x")
    assert_close(expected.clone(), expected, what="x", equal_nan=True)
    assert "equal_nan=False" in message(expected.clone(), expected, equal_nan=False)
    assert "where nan is expected" in message(torch.tensor([5.0, 1.0]), expected)
    assert "1 of 2 values are NaN" in message(torch.tensor([1.0, float("nan")]), torch.tensor([1.0, 1.0]))


def test_non_finite_python_floats_compare_exactly():
    assert_close(float("-inf"), float("-inf"), what="loss")
    assert_close(float("nan"), float("nan"), what="loss")
    assert message(123.0, float("-inf")) == ("grads['dw']: got 123.0 where -inf is expected: a masked "
                                             "position filled with a finite value?")
    assert "where nan is expected" in message(0.0, float("nan"))
    assert "equal_nan=False" in message(float("nan"), float("nan"), equal_nan=False)
    assert message({"loss": [1.0, float("inf")]}, {"loss": [1.0, 7.0]}).startswith(
        "grads['dw']['loss'][1]: got inf")


MASKED_SOLUTION = '''def masked_scores(q, k, mask):
    # BEGIN SOLUTION
    return (q @ k.T).masked_fill(mask, float("-inf"))
    # END SOLUTION
'''
MASKED_TEST = '''# TEST points=1 name=masked_attention
q = torch.tensor([[1.0, 0.0], [0.5, 1.0]])
k = torch.tensor([[1.0, 2.0], [0.0, 1.0], [1.0, 1.0]])
mask = torch.triu(torch.ones(2, 3, dtype=torch.bool), diagonal=1)
scores = masked_scores(q, k, mask)
observe(scores=scores, weights=F.softmax(scores, dim=-1))
'''


def test_masked_attention_end_to_end(tmp_path):
    """Graded through `grader assign`'s tests: a mask filled with 0 or -1e9 instead of -inf fails
    (before issue 19 both got full marks: `inf > inf` is False), and says so with the values."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from grader import report
    from grader.authoring.assign import author, write
    from grader.grading import batch as grading
    from grader.intake.assignment import load_assignment
    from grader.intake.submissions import Submission

    notebook = new_notebook()
    notebook.cells = [new_code_cell("import torch\nimport torch.nn.functional as F"),
                      new_code_cell(MASKED_SOLUTION), new_code_cell(MASKED_TEST)]
    nbformat.write(notebook, str(tmp_path / "attention.ipynb"))
    folder = tmp_path / "attention"
    write(author(tmp_path / "attention.ipynb", "attention"), folder, "attention.ipynb")
    students = []
    for name, fill in (("correct", 'float("-inf")'), ("zero", "0.0"), ("large_negative", "-1e9")):
        path = tmp_path / f"{name}.py"
        path.write_text(f"import torch\n\n\ndef masked_scores(q, k, mask):\n"
                        f"    return (q @ k.T).masked_fill(mask, {fill})\n")
        students.append(Submission(name, path))
    assignment = load_assignment(folder)
    batch = grading.grade(assignment, students, grading.GradeOptions(jobs=1, timeout=20))
    results = report.results_table(batch).set_index("student")
    assert results.loc["correct"].status == "passed", results.loc["correct"].message
    assert results.loc["zero"].message == ("scores: got 0.0 at (0, 1) where -inf is expected (3 of 3 "
                                           "such positions differ): a masked position filled with a "
                                           "finite value?")
    assert results.loc["large_negative"].message.startswith("scores: got -1e+09 at (0, 1) where -inf "
                                                            "is expected")
