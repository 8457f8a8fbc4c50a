"""Reading submissions: notebooks become cells of plain Python; broken files get a clear reason."""

import json

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.intake.notebook import NotebookError, Shell, cells_of


def notebook(*sources: str) -> bytes:
    cells = [nbformat.v4.new_markdown_cell("# 과제 1")]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells)).encode()


def test_code_cells_in_order_with_ipython_syntax_transformed():
    cells = cells_of(notebook("%matplotlib inline\nimport torch", "!pip install torch\nx = 1"),
                     "ipynb", "hw.ipynb")
    assert [c.number for c in cells] == [1, 2]
    assert "run_line_magic('matplotlib', 'inline')" in cells[0].source
    assert "system('pip install torch')" in cells[1].source
    assert cells[1].filename == "cell 2"


def test_shell_skips_magics_with_a_note_and_runs_timed_cells():
    namespace: dict = {}
    shell = Shell(namespace)
    shell.run_line_magic("matplotlib", "inline")
    shell.system("pip install torch")
    shell.run_cell_magic("time", "", "y = 41 + 1")
    assert namespace["y"] == 42
    assert shell.notes == ["skipped %matplotlib inline", "skipped !pip install torch"]


def test_a_module_is_one_cell():
    (cell,) = cells_of("# 가중치\nx = 1\n".encode(), "py", "alice.py")
    assert cell.filename == "alice.py" and "가중치" in cell.source


@pytest.mark.parametrize("data, words", [
    (b"print('hello')", "not a notebook (not valid JSON)"),
    (b"", "is empty"),
    (b'{"cells": [', "not a notebook"),
    (json.dumps({"nbformat": 3, "worksheets": "nope"}).encode(), "cannot be read as a notebook"),
])
def test_broken_notebooks_get_a_reason(data, words):
    with pytest.raises(NotebookError, match=words.replace("(", r"\(").replace(")", r"\)")):
        cells_of(data, "ipynb", "bob.ipynb")


def test_binary_file_named_py():
    with pytest.raises(NotebookError, match="binary file"):
        cells_of(b"\x7fELF\x00\x00\x01", "py", "a.py")


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.binary(max_size=200),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                 lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                              max_size=4),
                 max_leaves=20).map(lambda v: json.dumps({"cells": v, "nbformat": 4}).encode()),
))
def test_any_input_gives_cells_or_a_notebook_error(data):
    try:
        cells = cells_of(data, "ipynb", "fuzz.ipynb")
    except NotebookError:
        return
    assert all(isinstance(c.source, str) for c in cells)
