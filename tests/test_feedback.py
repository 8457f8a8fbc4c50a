"""Feedback files a teacher can send back as they are: what each student may see, and nothing more."""

import html
import re

import pytest
from test_html_report import HOSTILE_NAME, OPTIONS, hostile  # noqa: F401 (a fixture)

from conftest import EXAMPLES
from grader.report.feedback import file_name
from grader.report.html import write_extras


@pytest.fixture(scope="module")
def feedback(grade, tmp_path_factory):
    graded = grade("custom_layer", EXAMPLES / "custom_layer", **OPTIONS)
    out = tmp_path_factory.mktemp("feedback")
    write_extras(graded.batch, out, graded.scores, graded.results)
    return out / "feedback"


def text_of(page: str) -> str:
    """What a reader sees of an HTML page: tags removed, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def test_every_student_gets_markdown_and_html(grade, feedback):
    students = grade("custom_layer", EXAMPLES / "custom_layer", **OPTIONS).scores.index
    for student in students:
        assert (feedback / f"{student}.md").is_file() and (feedback / f"{student}.html").is_file()


@pytest.mark.parametrize("suffix", ["md", "html"])
def test_feedback_shows_score_status_and_public_diagnoses(feedback, suffix):
    rupert = (feedback / f"rupert.{suffix}").read_text()
    assert "A custom linear layer from nn.Module and nn.Parameter" in rupert  # the assignment's title
    assert "6 / 10" in rupert and "graded" in rupert
    assert "a missing or wrong bias" in rupert  # the diagnosis of the public test forward_values
    niaj = (feedback / f"niaj.{suffix}").read_text()
    assert "killed" in niaj and "exit code 3" in niaj


@pytest.mark.parametrize("suffix", ["md", "html"])
def test_hidden_tests_show_description_and_points_only(feedback, suffix):
    trent = (feedback / f"trent.{suffix}").read_text()
    assert "backward() gives the right gradients for weights and bias" in text_of(trent.replace("\\", ""))
    assert "0 / 1" in trent and "9 / 10" in trent
    assert "bias.grad is None" not in trent  # its hidden test's message
    rupert = (feedback / f"rupert.{suffix}").read_text()
    assert "bias.grad is None" not in rupert and "output after .to(float64)" not in rupert


def test_notebook_feedback_shows_the_code_and_the_error_note(feedback):
    page = (feedback / "heidi.notebook.html").read_text()
    text = text_of(page)
    assert "raise NotImplementedError" in text  # the student's own code
    summary, code, note, tests = (text.index("Score: 4 / 10"), text.index("layer = MyLinear(3, 2)"),
                                  text.index("Grader: cell 3 raised NotImplementedError"), text.index("Tests"))
    assert summary < code < note < tests  # summary on top; the note after cell 3; the tests at the end
    assert "<script" not in page and not re.search(r'(?:src|href)="https?:', page)  # opens offline
    assert (feedback / "bob.notebook.html").is_file() and (feedback / "carol.notebook.html").is_file()
    assert not (feedback / "alice.notebook.html").exists()  # a module, not a notebook


def test_an_unreadable_notebook_is_skipped_and_noted(feedback):
    assert not (feedback / "ivan.notebook.html").exists()
    assert "ivan" in (feedback / "skipped.txt").read_text()
    assert "is not a notebook" in (feedback / "ivan.md").read_text()  # the others are still written


def test_student_text_is_escaped_in_feedback(hostile):  # noqa: F811
    folder = hostile / "feedback"
    page = (folder / f"{file_name(HOSTILE_NAME)}.html").read_text()
    assert "<script" not in page and HOSTILE_NAME not in page
    assert "&lt;script&gt;alert(&#39;diagnosis&#39;)&lt;/script&gt;" in page
    markdown = (folder / f"{file_name(HOSTILE_NAME)}.md").read_text()
    assert "# A custom linear layer from nn.Module and nn.Parameter: feedback for &lt;img" in markdown
    assert "```text\n<script>alert('diagnosis')</script>" in markdown  # inside a code block: literal
    notebook = (folder / "heidi.notebook.html").read_text()
    assert "<script" not in notebook and "onerror" not in notebook and "<b>bold" not in notebook
    assert "Mine" in text_of(notebook) and "Grader: cell 2 raised KeyError" in text_of(notebook)


def test_highlighted_code_passes_as_it_is_and_anything_else_is_sanitized():
    from grader.report.notebook_page import clean_highlighted

    pygments = '<div class="highlight"><pre><span></span><span class="n">x</span> &lt;b&gt;</pre></div>'
    assert clean_highlighted(pygments) == pygments
    forged = '<div class="highlight"><pre><script>alert(1)</script><span onclick="x()">y</span></pre></div>'
    cleaned = clean_highlighted(forged)
    assert "<script" not in cleaned and "onclick" not in cleaned
