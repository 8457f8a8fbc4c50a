"""``feedback/STUDENT.notebook.html``: the student's own notebook with the grader's notes, rendered
(never run: this is the trusted process) with nbconvert's HTML exporter and JupyterLab's look.

The page is the grader's, whatever the notebook holds: a Content-Security-Policy blocks every
remote resource and script; the student's Markdown is sanitized (``escaping.student_html``: no
link target, no remote image, no class of ours) and shown inside a labelled frame, so a cell that
reads "Grader: all tests passed" cannot pass for one of the grader's notes, which are outside it.
Rendering is bounded: a notebook over ``MAX_RENDERED_BYTES`` or ``MAX_CELLS`` is not parsed, and a
page that takes longer than ``RENDER_SECONDS`` is abandoned; either is listed in skipped.txt.
"""

from __future__ import annotations

import re
import signal
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from grader.intake.submissions import read_source
from grader.model import group_errors
from grader.report.escaping import bound, student_html
from grader.report.pages import CONTENT_SECURITY_POLICY

if TYPE_CHECKING:
    from grader.grading.batch import Run
    from grader.report.feedback_text import Feedback

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_RENDERED_BYTES = 10 * 1024 * 1024
MAX_CELLS = 2000  # a page of 2,000 cells takes nbconvert about 2 s
RENDER_SECONDS = 5.0
STUDENT_LABEL = "Your notebook's text (as you wrote it)"
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)


class RenderTimeout(Exception):
    """A page took longer than ``RENDER_SECONDS`` to render."""


def notebook_html(renderer: NotebookRenderer, run: Run, feedback: Feedback) -> str:
    """The student's notebook (not run, outputs left out) with a summary on top, a note after
    each cell that raised, and the test results after the last code cell."""
    import nbformat

    from grader.report.feedback_text import error_markdown, summary_markdown, tests_markdown

    raw = read_source(run.submission.path, MAX_RENDERED_BYTES + 1)  # never through a link
    if len(raw) > MAX_RENDERED_BYTES:  # parsing it here, in the judge, would cost too much
        raise ValueError(f"more than the {MAX_RENDERED_BYTES >> 20} MB rendered")
    with time_limit(RENDER_SECONDS):
        text = raw.decode("utf-8-sig", errors="replace")
        # nbformat.reads less its check against the schema, whose verdict was thrown away: only each
        # cell's type, source and attachments are read here, and attachments are checked below
        notebook = nbformat.convert(nbformat.reader.reads(text), 4)
        if len(notebook.get("cells", [])) > MAX_CELLS:
            raise ValueError(f"{len(notebook['cells'])} cells are more than the {MAX_CELLS} rendered")
        errors = defaultdict(list)
        cause_of = {}  # id of a follow-on error -> the failed cell it follows from
        for group in group_errors(run.cell_errors):
            cause_of.update((id(error), group.cause) for error in group.following)
        for error in run.cell_errors:
            errors[error.cell].append(error)
        cells, number, after_last_code = [_note(summary_markdown(feedback))], 0, None
        for cell in notebook.get("cells", []):
            if not isinstance(cell, dict):
                continue
            source = cell.get("source", "")
            source = bound("".join(source) if isinstance(source, list) else source, "cell")
            if cell.get("cell_type") == "code":  # numbered as grader.intake.notebook numbers them
                number += 1
                cells.append(_code_cell(source))
                cells += [_note(error_markdown(error, number, cause_of.get(id(error))))
                          for error in errors.pop(number, [])]
                after_last_code = len(cells)
            elif cell.get("cell_type") == "markdown":  # metadata dropped: only ours marks a note
                attachments = cell.get("attachments")
                cells.append(nbformat.v4.new_markdown_cell(source, attachments=attachments)  # checked
                             if isinstance(attachments, dict) else _markdown_cell(source))
        leftover = [error for number in sorted(errors, key=str) for error in errors[number]]
        notes = [_note(error_markdown(error, error.get("cell"))) for error in leftover]
        notes.append(_note(tests_markdown(feedback)))
        at = len(cells) if after_last_code is None else after_last_code
        cells[at:at] = notes
        page = _notebook(cells, {"language_info": {"name": "python"},
                                 "title": f"{feedback.title}: {feedback.student}"})
        return renderer.render(page, feedback.student)


@contextmanager
def time_limit(seconds: float):
    """Raise ``RenderTimeout`` in this thread after ``seconds`` (SIGALRM: the main thread only;
    elsewhere the size and cell caps are the bound)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise RenderTimeout(f"rendering took more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _note(markdown: str):
    return _markdown_cell(markdown, {"grader_feedback": True})


# The page's notebook is made of the cells below, each valid by construction (a str source, the
# grader's metadata), so they are built as nbformat.v4's new_code_cell, new_markdown_cell and
# new_notebook build them, less the check against the schema each of those makes (~0.2 ms a cell).
# A student's markdown cell with attachments, the one part that comes from the notebook, still goes
# through new_markdown_cell's check.

def _code_cell(source: str):
    from nbformat import NotebookNode
    from nbformat.corpus.words import generate_corpus_id

    return NotebookNode(id=generate_corpus_id(), cell_type="code", metadata=NotebookNode(),
                        execution_count=None, source=source, outputs=[])


def _markdown_cell(source: str, metadata: dict | None = None):
    from nbformat import NotebookNode
    from nbformat.corpus.words import generate_corpus_id

    return NotebookNode(id=generate_corpus_id(), cell_type="markdown", source=source,
                        metadata=NotebookNode(metadata or {}))


def _notebook(cells: list, metadata: dict):
    from nbformat import NotebookNode, from_dict
    from nbformat.v4 import nbformat, nbformat_minor

    return NotebookNode(nbformat=nbformat, nbformat_minor=nbformat_minor, metadata=from_dict(metadata),
                        cells=cells)


class NotebookRenderer:
    """nbconvert's HTML exporter with JupyterLab's look, set up once a batch.

    The stylesheets, the same on every page, are rendered once and spliced into each page. The
    pages have no outputs and the students' markdown goes through ``escaping.student_html``, so
    nbconvert's sanitizer only ever sees highlighted code: ``clean_highlighted`` lets pygments'
    markup through as it is and sanitizes anything else."""

    MARKER = "<!--grader:notebook-css-->"

    def __init__(self) -> None:
        from jinja2 import FileSystemLoader, pass_context
        from nbconvert import HTMLExporter

        class PageExporter(HTMLExporter):
            markdown: MarkdownToHtml | None = None
            inlined_css: list[str] | None = None

            def from_notebook_node(self, nb, resources=None, **kw):
                """HTMLExporter's, less its last step: a BeautifulSoup pass over the whole page
                to give images alt text and output areas a tab index (half the time of a page;
                these pages have no outputs)."""
                from nbconvert.exporters.templateexporter import TemplateExporter
                from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

                resources = self._init_resources(resources)  # highlight_code: CodeHighlighter
                self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources))
                return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

            @pass_context
            def markdown2html(self, context, source):
                """HTMLExporter's filter, its pages kept (``MarkdownToHtml``)."""
                if self.markdown is None:
                    self.markdown = MarkdownToHtml(self)
                return self.markdown(context, source)

            def _preprocess(self, nb, resources):
                """Exporter's, less its copies of the notebook (``from_notebook_node`` has just
                made one) and of the resources (made for this page), its normalizing (a no-op
                for this notebook: made valid, ids and all) and its check against the schema
                after each of its twelve preprocessors (~3 ms a page: this notebook is valid by
                construction, see ``notebook_html``, and these preprocessors keep it so); and
                the CSS of CSSHTMLHeaderPreprocessor (pygments' stylesheet, inlined in every
                page) made for the first page only: nothing of the notebook goes into it."""
                from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor

                for preprocessor in self._preprocessors:
                    if isinstance(preprocessor, CSSHTMLHeaderPreprocessor) and preprocessor.enabled:
                        if self.inlined_css is None:
                            self.inlined_css = preprocessor._generate_header(resources)
                        resources["inlining"] = {"css": list(self.inlined_css)}
                    else:
                        nb, resources = preprocessor(nb, resources)
                return nb, resources

        self.exporter = PageExporter(template_name="lab", template_file="notebook_feedback.html.j2",
                                     extra_loaders=[FileSystemLoader(str(TEMPLATES))],
                                     filters={"clean_student_html": student_html,
                                              "clean_html": clean_highlighted,
                                              "highlight_code": CodeHighlighter()})
        empty = self._export(_empty_notebook(), {"grader_css_only": True})
        css = empty[empty.index("<!--grader:css-begin-->") + 23:empty.index("<!--grader:css-end-->")]
        self.css = CSS_COMMENT.sub("", css)  # their credits name web addresses: none may be in a page

    def render(self, notebook, name: str) -> str:
        page = self._export(notebook, {"metadata": {"name": name}, "grader_csp": CONTENT_SECURITY_POLICY,
                                       "grader_student_label": STUDENT_LABEL})
        return page.replace(self.MARKER, self.css, 1)

    def _export(self, notebook, resources: dict) -> str:
        body, _ = self.exporter.from_notebook_node(notebook, resources=resources)
        return body


_shared: NotebookRenderer | None = None
_shared_lock = threading.Lock()


def shared_renderer() -> NotebookRenderer:
    """This process's renderer, set up on first use (about 0.4 s of nbconvert and jinja), or ahead
    by ``grader grade``'s background thread while the sandboxes run."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = NotebookRenderer()
        return _shared


def _empty_notebook():
    import nbformat

    return nbformat.v4.new_notebook(metadata={"language_info": {"name": "python"}})


class BoundedCache:
    """The last ``entries`` values by key, at most ``chars`` characters of keys and values in all (a
    value over a tenth of that is not kept): a page's code cells and notes are mostly the same text
    from student to student (starter code, imports, demo cells, the same test results)."""

    def __init__(self, entries: int = 1024, chars: int = 8 << 20) -> None:
        self.entries, self.chars, self.size = entries, chars, 0
        self.values: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str, make: Callable[[], str]) -> str:
        with self.lock:
            value = self.values.get(key)
            if value is not None:
                self.values.move_to_end(key)
                return value
        value = make()
        cost = len(key) + len(value)
        if cost <= self.chars // 10:
            with self.lock:
                before = self.values.pop(key, None)  # another thread's, made meanwhile
                if before is not None:
                    self.size -= len(key) + len(before)
                self.values[key] = value
                self.size += cost
                while len(self.values) > self.entries or self.size > self.chars:
                    old_key, old_value = self.values.popitem(last=False)
                    self.size -= len(old_key) + len(old_value)
        return value


class CodeHighlighter:
    """nbconvert's ``highlight_code`` filter with one lexer and one formatter for every cell (nbconvert
    makes both anew for each cell, ~2 ms), and the HTML of the last cells kept by their source (the
    same lexer and formatter give the same HTML for the same source). IPython's lexer, so that magics
    are shown as magics."""

    def __init__(self) -> None:
        from pygments.formatters import HtmlFormatter

        try:
            from IPython.lib.lexers import IPython3Lexer as Lexer
        except ImportError:  # pragma: no cover - IPython is a dependency
            from pygments.lexers import PythonLexer as Lexer
        self.lexer = Lexer()
        self.formatter = HtmlFormatter(cssclass=" highlight hl-ipython3")
        self.cache = BoundedCache()

    def __call__(self, source: str, language: str | None = None, metadata: dict | None = None) -> str:
        from pygments import highlight

        source = source or " "
        return self.cache.get(source, lambda: highlight(source, self.lexer, self.formatter))


class MarkdownToHtml:
    """nbconvert's ``markdown2html`` filter (``HTMLExporter.markdown2html``), with the HTML of the last
    cells without attachments kept by their source (and the notebook's path, which images are read
    from), and one lexer by language and one formatter for the fenced code in them (nbconvert makes
    both anew for each block: the grader's notes show code)."""

    def __init__(self, exporter) -> None:
        from nbconvert.filters.markdown_mistune import IPythonRenderer
        from pygments.formatters import HtmlFormatter

        self.exporter = exporter
        self.cache = BoundedCache()
        lexers: dict[str, object] = {}
        formatter = HtmlFormatter()

        class Renderer(IPythonRenderer):
            def block_code(self, code: str, info: str | None = None) -> str:
                from pygments import highlight
                from pygments.lexers import get_lexer_by_name
                from pygments.util import ClassNotFound

                words = info.strip().split(None, 1) if info and not info.startswith("mermaid") else []
                if words:  # as IPythonRenderer.block_code does it, with the lexer kept
                    if words[0] not in lexers:
                        try:
                            lexers[words[0]] = get_lexer_by_name(words[0], **self.lexer_options)
                        except ClassNotFound:
                            lexers[words[0]] = None
                    if lexers[words[0]] is not None:
                        return highlight(code, lexers[words[0]], formatter)
                return super().block_code(code, info)

        self.Renderer = Renderer

    def __call__(self, context, source: str) -> str:
        cell = context.get("cell", {})
        attachments = cell.get("attachments", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        if attachments:
            return self._render(source, attachments, path)
        return self.cache.get(f"{path}\0{source}", lambda: self._render(source, {}, path))

    def _render(self, source: str, attachments: dict, path: str) -> str:
        from nbconvert.filters.markdown_mistune import MarkdownWithMath

        exporter = self.exporter
        renderer = self.Renderer(escape=False, attachments=attachments, embed_images=exporter.embed_images,
                                 path=path, anchor_link_text=exporter.anchor_link_text,
                                 exclude_anchor_links=exporter.exclude_anchor_links,
                                 **exporter.lexer_options)
        return MarkdownWithMath(renderer=renderer).render(source)


PYGMENTS_TAG = re.compile(r'</?(?:div|pre|span)(?: class="[\w -]*")?>|<br>')


def clean_highlighted(html: str) -> str:
    """Code highlighted by pygments (text escaped, tags only ``div``, ``pre`` and ``span`` with a
    class) as it is: a sanitizer takes milliseconds a cell. Anything else is sanitized by nh3 to
    those tags."""
    import nh3

    html = str(html)
    if "<" not in PYGMENTS_TAG.sub("", html):
        return html
    return nh3.clean(html, tags={"div", "pre", "span", "br"}, attributes={"*": {"class"}},
                     clean_content_tags={"script", "style"}, link_rel=None)

