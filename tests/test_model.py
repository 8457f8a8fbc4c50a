"""The result model (grader.model): a cell error is read from what a sandbox sent, field by field,
and written as one line the same way in every report."""

from grader.grading.runs import _more, load_of
from grader.model import CellError


def test_a_cell_error_keeps_only_fields_of_the_right_type():
    hostile = {"cell": "3; rm -rf", "type": ["list"], "line": 2.5, "text": {"x": 1}, "where": 7,
               "defines": "Net", "not_run": "yes", "message": "boom"}
    error = CellError.of_value(hostile)
    assert error == CellError(cell=None, type="Error", message="boom")
    assert error.text_for("ipynb") == "Error: boom"
    assert CellError.of_value("not a dict") is None
    assert CellError.of_value({"defines": ["Net", 3, None]}).defines == ("Net",)


def test_a_cell_error_survives_the_journal():
    error = CellError(4, "NameError", "name 'y' is not defined", 2, "x = y", "cell 4", ("x",))
    (read,), notes = load_of({"errors": [error.as_dict(), "junk"], "notes": ["plt.show() skipped"]})
    assert read == error and notes == ["plt.show() skipped"]
    assert load_of({"errors": "junk", "notes": 3}) == ([], [])
    assert load_of(None) == ([], [])


def test_a_script_names_lines_not_cells():
    error = CellError(5, "ZeroDivisionError", "division by zero", 38, "1 / 0")
    assert error.text_for("py") == "ZeroDivisionError at line 38 `1 / 0`: division by zero"
    assert error.text_for("ipynb") == "cell 5: ZeroDivisionError at line 38 `1 / 0`: division by zero"


def test_more_errors_are_counted_in_the_submission_s_own_units():
    errors = [CellError(n, "NameError") for n in range(1, 4)]
    assert _more(errors, "ipynb") == " (and 2 more failing cells)"
    assert _more(errors[:2], "ipynb") == " (and 1 more failing cell)"
    assert _more(errors, "py") == " (and 2 more errors)"
    assert _more(errors[:1], "py") == ""


def test_one_line_of_a_failure_has_no_dangling_colon():
    from grader.model import gist

    assert gist("t: dtype torch.float64, expected torch.float32, and the values differ too:", "") == (
        "t: dtype torch.float64, expected torch.float32, and the values differ too")
    assert gist("x.grad: values differ", "a sign") == "x.grad: values differ; likely cause: a sign"


def test_a_probe_stopped_at_the_time_limit_says_where_once():
    from grader.grading.runs import probe_error_text

    text = probe_error_text({"type": "SoftTimeout", "message": "ran too long and was stopped",
                             "where": "endless.py", "line": 17, "text": "while True:"})
    assert text == ("this check was stopped at the time limit (at endless.py, line 17: `while True:`): "
                    "an endless loop, or code too slow?")


def test_what_was_returned_in_place_of_a_tensor_is_named_with_its_fix():
    import numpy as np

    from grader.probing import not_a_tensor

    assert not_a_tensor(np.zeros(2)) == " (a numpy array: return the tensor itself, without .numpy())"
    assert not_a_tensor(4.5) == " (a Python number: return the tensor itself, without .item())"
    assert not_a_tensor({"a": 1}) == ""
