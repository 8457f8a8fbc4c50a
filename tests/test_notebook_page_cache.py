"""The notebook page's shortcuts give the page nbconvert would: cells built without the schema
check, the file mode read once a process."""

import os
import stat
from types import SimpleNamespace

import nbformat
import pytest

from grader import files
from grader.report import notebook_page
from grader.report.feedback_text import Feedback
from grader.report.feedback_text import TestLine as Line


def test_cells_are_built_as_nbformat_builds_them():
    def without_id(node):
        return {key: value for key, value in node.items() if key != "id"}

    assert without_id(notebook_page._code_cell("x = 1")) == without_id(nbformat.v4.new_code_cell("x = 1"))
    assert without_id(notebook_page._note("# note")) == without_id(
        nbformat.v4.new_markdown_cell("# note", metadata={"grader_feedback": True}))
    cells = [notebook_page._markdown_cell("text"), notebook_page._code_cell("y = 2")]
    metadata = {"language_info": {"name": "python"}, "title": "Layer: ana"}
    ours = notebook_page._notebook(cells, metadata)
    assert ours == nbformat.v4.new_notebook(cells=cells, metadata=metadata)
    assert type(ours.metadata.language_info) is nbformat.NotebookNode
    nbformat.validate(ours)


def page_of(tmp_path, cells) -> str:
    path = tmp_path / "ana.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    run = SimpleNamespace(submission=SimpleNamespace(path=path), cell_errors=[])
    feedback = Feedback(title="Layer", student="ana", score="1", max_score="2", percent="50",
                        status="graded", status_text="1 of 2 tests failed",
                        tests=[Line("forward", False, "1", "1", "passed", "", "1 / 1")])
    return notebook_page.notebook_html(notebook_page.shared_renderer(), run, feedback)


def test_a_students_attachments_are_still_checked(tmp_path):
    image = {"image/png": "iVBORw0KGgo="}
    cell = nbformat.v4.new_markdown_cell("![a](attachment:a.png)", attachments={"a.png": image})
    assert "data:image/png;base64,iVBORw0KGgo=" in page_of(tmp_path, [cell])
    cell.attachments = {"a.png": "not a bundle"}  # as a hand-edited notebook may have it
    with pytest.raises(nbformat.ValidationError):
        page_of(tmp_path, [cell])


def test_new_files_get_the_umask_mode_and_a_changed_umask_once_cleared(tmp_path):
    mask = os.umask(0o077)
    try:
        files.new_file_mode.cache_clear()
        files.atomic_write(tmp_path / "private.txt", "x")
        assert stat.S_IMODE((tmp_path / "private.txt").stat().st_mode) == 0o600
    finally:
        os.umask(mask)
        files.new_file_mode.cache_clear()
    files.atomic_write(tmp_path / "shared.txt", "x")
    assert stat.S_IMODE((tmp_path / "shared.txt").stat().st_mode) == 0o666 & ~mask
    assert files.new_file_mode() == 0o666 & ~mask and files.new_file_mode.cache_info().hits
