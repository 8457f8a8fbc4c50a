"""The result model (grader.model): a cell error is read from what a sandbox sent, field by field,
and written as one line the same way in every report."""

from grader.model import CellError
from grader.runs import _more, load_of


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
