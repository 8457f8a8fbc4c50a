"""The notebook page's shortcuts give the page nbconvert would: kept highlighted code and markdown,
cells built without the schema check; and files are written as before: the file mode read once a
process, text encoded without a scan for lone surrogates first."""

import os
import stat
from types import SimpleNamespace

import nbformat
import pytest

from grader import files
from grader.report import notebook_page
from grader.report.feedback_text import Feedback
from grader.report.feedback_text import TestLine as Line
from grader.report.notebook_page import BoundedCache, CodeHighlighter

NOTE = "**Grader:** cell 2 raised `ValueError`:\n\n```python\nlayer = MyLinear(3, 2)\nlayer(x)\n```\n\n" \
       "```text\nValueError: shapes (2,3) and (2,2)\n```\n\n```no-such-language\nplain\n```\n"


def test_the_same_source_is_highlighted_once_and_alike():
    from pygments import highlight

    highlighter = CodeHighlighter()
    source = "%matplotlib inline\nimport torch\nx = torch.ones(3)  # <b>not bold</b>\n"
    first = highlighter(source)
    assert highlighter(source) is first and len(highlighter.cache.values) == 1  # kept
    assert first == highlight(source, highlighter.lexer, highlighter.formatter)  # as it was made
    assert "&lt;b&gt;" in first and "<b>" not in first
    assert highlighter("") == highlighter(" ") == highlight(" ", highlighter.lexer, highlighter.formatter)


def test_the_cache_is_bounded_by_entries_and_characters():
    cache = BoundedCache(entries=3, chars=1000)
    for number in range(10):
        assert cache.get(f"key{number}", lambda number=number: "v" * number) == "v" * number
    assert list(cache.values) == ["key7", "key8", "key9"]  # the last three
    cache.get("key7", lambda: pytest.fail("kept: not made again"))
    assert list(cache.values) == ["key8", "key9", "key7"]  # the last used last
    cache.get("big", lambda: "x" * 200)  # over a tenth of the characters: made, not kept
    assert "big" not in cache.values
    cache = BoundedCache(entries=100, chars=1000)
    for number in range(100):
        cache.get(f"{number:03d}", lambda: "y" * 90)
    assert cache.size == sum(len(k) + len(v) for k, v in cache.values.items()) <= 1000
    assert len(cache.values) == 1000 // 93 and "099" in cache.values


def test_markdown_is_rendered_as_nbconvert_renders_it():
    from nbconvert import HTMLExporter

    renderer = notebook_page.NotebookRenderer()
    context = {"cell": {}, "resources": {"metadata": {"path": ""}}}
    ours = renderer.exporter.markdown2html(context, NOTE)
    assert ours == HTMLExporter().markdown2html(context, NOTE)
    assert 'class="highlight"' in ours and "no-such-language" in ours
    assert renderer.exporter.markdown2html(context, NOTE) is ours  # kept by its source


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


def test_every_page_inlines_the_stylesheet_nbconvert_makes(tmp_path):
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor

    exporter = notebook_page.shared_renderer().exporter
    [preprocessor] = [p for p in exporter._preprocessors if isinstance(p, CSSHTMLHeaderPreprocessor)]
    _, resources = preprocessor(nbformat.v4.new_notebook(), exporter._init_resources({}))
    [css] = resources["inlining"]["css"]
    assert ".highlight" in css
    for _ in range(2):
        page = page_of(tmp_path, [nbformat.v4.new_code_cell("x = 1")])
        assert page.count(css) == 1


def test_text_is_written_as_utf_8_with_lone_surrogates_shown(tmp_path):
    files.atomic_write(tmp_path / "a.txt", "café → ok")
    assert (tmp_path / "a.txt").read_bytes() == "café → ok".encode()
    files.atomic_write(tmp_path / "b.txt", "caf\udce9 \ud800é")
    assert (tmp_path / "b.txt").read_bytes() == "caf\ufffd \ufffdé".encode()
