"""Feedback for each student, ready to send: ``feedback/STUDENT.md`` and ``feedback/STUDENT.html``,
and for notebooks ``feedback/STUDENT.notebook.html``, the student's own notebook with the grader's notes.

Students see the score, the status and why, each test with its points, and the diagnosis of each
failed public test. Of a hidden test they see only its description and points, never its message.
The notebook is rendered, never run (this is the trusted process), with its saved outputs left out.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import string
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.html_report import atomic_write, render

if TYPE_CHECKING:
    import pandas as pd

    from grader.grading import BatchResult, Run

TEMPLATES = Path(__file__).resolve().parent / "templates"
MD_SPECIAL = "\\`*_[]|~"  # inline Markdown (GFM): code, emphasis, links, table cells, strikethrough
MD_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}  # raw HTML and entities


@dataclass
class TestLine:
    description: str
    hidden: bool
    score: str
    max_score: str
    result: str  # passed or failed
    diagnosis: str = ""  # failed public tests only


@dataclass
class Feedback:
    title: str
    student: str
    score: str
    max_score: str
    percent: str
    status: str
    status_text: str
    tests: list[TestLine]
    cell_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    hidden_score: str = ""
    hidden_total: str = ""


def write_feedback(batch: BatchResult, folder: Path, scores: pd.DataFrame,
                   results: pd.DataFrame) -> dict[str, Path]:
    """Write each student's feedback into ``folder``; a notebook that cannot be rendered is skipped
    and named in ``folder/skipped.txt``, never failing the batch."""
    folder.mkdir(parents=True, exist_ok=True)
    by_student = scores.set_index("student") if "student" in scores.columns else scores
    tests_of = {student: rows for student, rows in results.groupby("student", sort=False)}
    letters: list[Letter] = []
    for run in batch.runs:
        student = run.submission.student
        feedback = student_feedback(batch.assignment.title, run, by_student.loc[student],
                                    tests_of.get(student, results.iloc[:0]))
        letter = Letter(run, feedback, folder / file_name(student), page=False)
        letter.page = run.submission.kind == "ipynb" and run.submission.path is not None and not (
            student in batch.reused and letter.path(".notebook.html").exists())
        letters.append(letter)
    skipped = [problem for problem in write_letters(letters) if problem]
    skipped_path = folder / "skipped.txt"
    if skipped:
        atomic_write(skipped_path, ("\n".join(skipped) + "\n").encode())
    else:
        skipped_path.unlink(missing_ok=True)
    return {"feedback": folder}


@dataclass
class Letter:
    """One student's feedback files: ``STEM.md``, ``STEM.html`` and, with ``page``, the notebook page
    ``STEM.notebook.html`` (kept from the last run for an unchanged notebook: nbconvert is slow)."""

    run: Run
    feedback: Feedback
    stem: Path
    page: bool

    def path(self, suffix: str) -> Path:
        return self.stem.with_name(self.stem.name + suffix)


LETTERS_PER_PROCESS = 16  # fewer than this a process: write them here
_work: tuple[NotebookRenderer | None, list[Letter]] | None = None  # what forked writers inherit


def write_letters(letters: list[Letter]) -> list[str | None]:
    """Write every letter; for each, ``None`` or why its notebook page was skipped.

    A notebook page takes nbconvert ~40 ms, all of it Python: with many letters they are shared
    among processes forked from this one (one a core), which inherit the renderer and the letters."""
    global _work
    _work = (NotebookRenderer() if any(letter.page for letter in letters) else None, letters)
    try:
        processes = min(len(os.sched_getaffinity(0)), len(letters) // LETTERS_PER_PROCESS)
        # Forking while another thread may hold an import lock could hang the children.
        if processes < 2 or threading.active_count() > 1:
            return [_write_letter(index) for index in range(len(letters))]
        gc.freeze()  # the children's collections then leave this heap, shared with them, alone
        try:
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                return pool.map(_write_letter, range(len(letters)), chunksize=4)
        finally:
            gc.unfreeze()
    finally:
        _work = None


def _write_letter(index: int) -> str | None:
    renderer, letters = _work
    letter = letters[index]
    run, feedback = letter.run, letter.feedback
    atomic_write(letter.path(".md"), feedback_markdown(feedback).encode())
    atomic_write(letter.path(".html"), render("feedback.html.j2", f=feedback).encode())
    if not letter.page:
        return None
    try:
        page = notebook_html(renderer, run, feedback)
    except Exception as error:  # a weird notebook must not cost the others their feedback
        return (f"{run.submission.student}: {run.submission.path.name} not rendered ({type(error).__name__}: "
                f"{' '.join(str(error).split())[:200]})")
    atomic_write(letter.path(".notebook.html"), page.encode())
    return None


def student_feedback(title: str, run: Run, score: pd.Series, results: pd.DataFrame) -> Feedback:
    """What one student may see of their grading."""
    tests = []
    for row in results.itertuples():
        hidden = row.visibility == "hidden"
        diagnosis = "" if hidden or row.status == "passed" else str(row.message or "failed")
        tests.append(TestLine(row.description or row.test, hidden, f"{row.score:g}", f"{row.max_score:g}",
                              row.status, diagnosis))
    hidden = results[results.visibility == "hidden"]
    failed = sum(t.result == "failed" for t in tests)
    status_text = run.message if run.status != "graded" else (
        f"{failed} of {len(tests)} tests failed" if failed else "all tests passed")
    errors = [error_text(e, run.submission.kind) for e in run.load.get("errors", [])]
    return Feedback(
        title=title, student=run.submission.student, score=f"{score.score:g}",
        max_score=f"{score.max_score:g}", percent=f"{score.percent:g}", status=run.status,
        status_text=status_text, tests=tests,
        cell_errors=[error for error in errors if error not in status_text],
        notes=[str(note) for note in run.load.get("notes", [])],
        hidden_score=f"{hidden.score.sum():g}" if len(hidden) else "",
        hidden_total=f"{hidden.max_score.sum():g}" if len(hidden) else "",
    )


def feedback_markdown(feedback: Feedback) -> str:
    """The whole feedback as Markdown."""
    return summary_markdown(feedback) + "\n" + tests_markdown(feedback)


def summary_markdown(f: Feedback) -> str:
    """Title, score, status and why, errors in the student's cells, notes."""
    parts = [f"# {md_text(f.title)}: feedback for {md_text(f.student)}",
             f"**Score: {f.score} / {f.max_score}** ({f.percent} %)",
             f"**Status: {md_text(f.status)}**: {md_text(f.status_text)}" if f.status == "graded"
             else f"**Status: {md_text(f.status)}**\n\n{fence(f.status_text)}"]
    if f.cell_errors:
        parts.append("**Errors while running your code** (the cells after an error still ran):\n\n"
                     + "\n\n".join(fence(error) for error in f.cell_errors))
    if f.notes:
        parts.append("**Notes:**\n\n" + "\n".join(f"- {md_text(note)}" for note in f.notes))
    return "\n\n".join(parts) + "\n"


def tests_markdown(f: Feedback) -> str:
    """The table of tests, then the diagnosis of each failed public test."""
    lines = ["## Tests", "", "| test | points | result |", "| --- | --- | --- |"]
    for test in f.tests:
        hidden = " *(hidden test)*" if test.hidden else ""
        points = f"{test.score} / {test.max_score}"
        lines.append(f"| {md_text(test.description)}{hidden} | {points} | {test.result} |")
    if f.hidden_total:
        lines += ["", f"Hidden tests: {f.hidden_score} / {f.hidden_total} points. Their details are not shown."]
    for test in f.tests:
        if test.diagnosis:
            lines += ["", f"### {md_text(test.description)}: {test.score} / {test.max_score}", "",
                      fence(test.diagnosis)]
    return "\n".join(lines) + "\n"


MAX_RENDERED_BYTES = 10 * 1024 * 1024


def notebook_html(renderer: NotebookRenderer, run: Run, feedback: Feedback) -> str:
    """The student's notebook (not run, outputs left out) with a summary on top, a note after
    each cell that raised, and the test results after the last code cell."""
    import nbformat

    size = run.submission.path.stat().st_size
    if size > MAX_RENDERED_BYTES:  # parsing it here, in the judge, would cost too much
        raise ValueError(f"{size >> 20} MB is more than the {MAX_RENDERED_BYTES >> 20} MB rendered")
    text = run.submission.path.read_bytes().decode("utf-8-sig", errors="replace")
    notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
    errors = defaultdict(list)
    for error in run.load.get("errors", []):
        errors[error.get("cell")].append(error)
    cells, number, after_last_code = [_note(summary_markdown(feedback))], 0, None
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "code":  # numbered as grader.notebook numbers them
            number += 1
            cells.append(nbformat.v4.new_code_cell(source))
            cells += [_note(error_markdown(error, number)) for error in errors.pop(number, [])]
            after_last_code = len(cells)
        elif cell.get("cell_type") == "markdown":  # metadata dropped: only ours marks a note
            attachments = cell.get("attachments")
            cells.append(nbformat.v4.new_markdown_cell(source, **({"attachments": attachments}
                                                                   if isinstance(attachments, dict) else {})))
    leftover = [error for number in sorted(errors, key=str) for error in errors[number]]
    notes = [_note(error_markdown(error, error.get("cell"))) for error in leftover]
    notes.append(_note(tests_markdown(feedback)))
    at = len(cells) if after_last_code is None else after_last_code
    cells[at:at] = notes
    page = nbformat.v4.new_notebook(cells=cells, metadata={
        "language_info": {"name": "python"}, "title": f"{feedback.title}: {feedback.student}"})
    return renderer.render(page, feedback.student)


def error_markdown(error: dict, number: object) -> str:
    """The note after a cell that raised while it was graded."""
    if error.get("type") == "SoftTimeout":
        head = f"**Grader: cell {md_text(str(number))} ran too long and was stopped** (an endless loop?)."
    else:
        head = (f"**Grader: cell {md_text(str(number))} raised {md_text(str(error.get('type', 'an error')))} "
                "while it was graded.** The cells after it still ran.")
    return f"{head}\n\n{fence(error_text(error, 'ipynb'))}\n"


def error_text(error: dict, kind: str) -> str:
    """``cell 3: NameError at line 2 `x + y`: name 'y' is not defined`` (no cell for a .py file)."""
    where = "" if kind == "py" else f"cell {error.get('cell')}: "
    line = f" at line {error['line']}" if error.get("line") else ""
    code = f" `{error['text']}`" if error.get("text") else ""
    message = f": {error['message']}" if error.get("message") else ""
    return f"{where}{error.get('type', 'Error')}{line}{code}{message}"


def md_text(text: str) -> str:
    """Text as literal Markdown on one line: what could format, link or inject markup is escaped."""
    text = " ".join(str(text).split())
    escaped = "".join(MD_ENTITIES.get(c) or ("\\" + c if c in MD_SPECIAL else c) for c in text)
    if text and text[0] in string.punctuation and text[0] not in MD_SPECIAL + "<>&":
        escaped = "\\" + escaped  # a list item, heading or quote marker at the start of a line
    return escaped


def fence(text: str) -> str:
    """Text as a fenced code block that nothing inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def file_name(student: str) -> str:
    """A file name for a student id (ids are file names already; roster ids are checked)."""
    name = student.replace("/", "_").replace("\x00", "_")
    return "_" + name if name.startswith(".") or not name else name


def _note(markdown: str):
    import nbformat

    return nbformat.v4.new_markdown_cell(markdown, metadata={"grader_feedback": True})


class NotebookRenderer:
    """nbconvert's HTML exporter with JupyterLab's look, set up once a batch.

    The stylesheets, the same on every page, are rendered once and spliced into each page. The
    pages have no outputs and the students' markdown goes through ``clean_student_html``, so
    nbconvert's sanitizer only ever sees highlighted code: ``clean_highlighted`` lets pygments'
    markup through as it is and sanitizes anything else."""

    MARKER = "<!--grader:notebook-css-->"

    def __init__(self) -> None:
        from jinja2 import FileSystemLoader
        from nbconvert import HTMLExporter

        class PageExporter(HTMLExporter):
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

        self.exporter = PageExporter(template_name="lab", template_file="notebook_feedback.html.j2",
                                     extra_loaders=[FileSystemLoader(str(TEMPLATES))],
                                     filters={"clean_student_html": clean_student_html,
                                              "clean_html": clean_highlighted,
                                              "highlight_code": CodeHighlighter()})
        empty = self._export(_empty_notebook(), {"grader_css_only": True})
        self.css = empty[empty.index("<!--grader:css-begin-->") + 23:empty.index("<!--grader:css-end-->")]

    def render(self, notebook, name: str) -> str:
        page = self._export(notebook, {"metadata": {"name": name}})
        return page.replace(self.MARKER, self.css, 1)

    def _export(self, notebook, resources: dict) -> str:
        body, _ = self.exporter.from_notebook_node(notebook, resources=resources)
        return body


def _empty_notebook():
    import nbformat

    return nbformat.v4.new_notebook(metadata={"language_info": {"name": "python"}})


STUDENT_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
                "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
                "s", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead",
                "tr", "ul"}


class CodeHighlighter:
    """nbconvert's ``highlight_code`` filter with one lexer and one formatter for every cell (nbconvert
    makes both anew for each cell, ~2 ms). IPython's lexer, so that magics are shown as magics."""

    def __init__(self) -> None:
        from pygments.formatters import HtmlFormatter

        try:
            from IPython.lib.lexers import IPython3Lexer as Lexer
        except ImportError:  # pragma: no cover - IPython is a dependency
            from pygments.lexers import PythonLexer as Lexer
        self.lexer = Lexer()
        self.formatter = HtmlFormatter(cssclass=" highlight hl-ipython3")

    def __call__(self, source: str, language: str | None = None, metadata: dict | None = None) -> str:
        from pygments import highlight

        return highlight(source or " ", self.lexer, self.formatter)


PYGMENTS_TAG = re.compile(r'</?(?:div|pre|span)(?: class="[\w -]*")?>|<br>')


def clean_highlighted(html: str) -> str:
    """Code highlighted by pygments (text escaped, tags only ``div``, ``pre`` and ``span`` with a
    class) as it is: bleach takes ~20 ms a cell. Anything else goes through nbconvert's sanitizer."""
    from nbconvert.filters import clean_html

    html = str(html)
    if "<" not in PYGMENTS_TAG.sub("", html):
        return html
    return clean_html(html)


def clean_student_html(html: str) -> str:
    """The HTML of a student's markdown cell with only formatting left: no script, style, form,
    event handler or frame; links to the web and images from it or embedded in the notebook."""
    import bleach  # nbconvert's own sanitizer

    def allowed(tag: str, name: str, value: str) -> bool:
        if name in ("class", "id", "title", "alt", "align", "colspan", "rowspan", "width", "height"):
            return True
        if tag == "a" and name == "href":
            return value.startswith(("http://", "https://", "mailto:", "#"))
        if tag == "img" and name == "src":
            return value.startswith(("http://", "https://", "data:image/"))
        return False

    return bleach.clean(str(html), tags=STUDENT_TAGS, attributes=allowed,
                        protocols={"http", "https", "mailto", "data"}, strip=False, strip_comments=True)
