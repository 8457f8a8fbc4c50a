"""The instructor's extra outputs of a batch: scores.parquet and a self-contained report.html."""

import base64
import hashlib
import html as html_module
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from conftest import EXAMPLES
from grader import report
from grader.grading import batch as grading
from grader.model import CellError
from grader.report.html import write_extras
from grader.sandbox.selftest import PROTECTIONS

OPTIONS = {"timeout": 6, "memory": 512 * 1024**2}
HOSTILE_NAME = "<img src=x onerror=alert(1)>"  # a legal file name on Linux, so a legal student id
HOSTILE_MARKDOWN = "# Mine\n<script>alert('md')</script>\n<img src=x onerror=alert(2)>"
HOSTILE_ERROR = {"cell": 2, "type": "KeyError", "message": "'<b>bold</b>'", "line": 1,
                 "text": "raise KeyError('<b>bold</b>')"}


def hostile_batch(batch: grading.BatchResult, folder: Path) -> grading.BatchResult:
    """The graded example class, where students put markup in everything they control: rupert's id
    (a file name) and his public diagnosis, grace's error message, and heidi's notebook."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN),
        nbformat.v4.new_code_cell("import torch\nend = \"</pre></div><script>alert('code')</script>\""),
        nbformat.v4.new_code_cell(HOSTILE_ERROR["text"])])
    (folder / "heidi.ipynb").write_text(nbformat.writes(notebook))
    renamed = {"rupert": HOSTILE_NAME}
    runs = []
    for run in batch.runs:
        student = run.submission.student
        submission = replace(run.submission, student=renamed.get(student, student))
        run = replace(run, submission=submission)
        if submission.student == "grace":
            run = replace(run, message="does not compile: <i>gone</i>")
        if submission.student == "heidi":
            run = replace(run, submission=replace(submission, path=folder / "heidi.ipynb"),
                          cell_errors=[CellError.of_value(HOSTILE_ERROR)])
        runs.append(run)
    outcomes = []
    for outcome in batch.outcomes:
        outcome = replace(outcome, student=renamed.get(outcome.student, outcome.student))
        if outcome.student == HOSTILE_NAME and not outcome.passed and not outcome.hidden:
            markup = "<script>alert('diagnosis')</script>"  # the headline is what diagnoses show
            outcome = replace(outcome, message=f"{markup}\n{outcome.message}", headline=markup)
        outcomes.append(outcome)
    return replace(batch, runs=runs, outcomes=outcomes)


@pytest.fixture(scope="module")
def hostile(grade, tmp_path_factory):
    graded = grade("custom_layer", EXAMPLES / "custom_layer", **OPTIONS)
    out = tmp_path_factory.mktemp("hostile")
    batch = hostile_batch(graded.batch, out)
    results = report.results_table(batch)
    write_extras(batch, out, report.scores_table(batch, results), results)
    return out


@pytest.fixture(scope="module")
def extras(grade, tmp_path_factory):
    graded = grade("custom_layer", EXAMPLES / "custom_layer", **OPTIONS)
    out = tmp_path_factory.mktemp("extras")
    paths = write_extras(graded.batch, out, graded.scores, graded.results)
    return graded, out, paths


def test_parquet_reads_back_equal_to_scores(extras):
    graded, out, paths = extras
    assert paths["parquet"] == out / "scores.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(out / "scores.parquet"), graded.scores.reset_index())


def test_report_shows_the_class_summary(extras):
    graded, out, _ = extras
    html = (out / "report.html").read_text()
    scores = graded.scores
    assert f'<td id="students">{len(scores)}</td>' in html
    assert f'<td id="mean">{scores.score.mean():.2f} / 10</td>' in html
    assert f'<td id="median">{scores.score.median():g} / 10</td>' in html
    passed = int((scores.score == 10).sum())
    assert f"{100 * passed / len(scores):.1f} % ({passed} of {len(scores)})" in html


def test_report_tables_tests_diagnoses_failures_and_slowest(extras):
    graded, out, _ = extras
    html = (out / "report.html").read_text()
    results = graded.results
    forward = results[results.test == "test_forward_values"]
    assert f"<td>{(forward.status == 'passed').sum()} / {len(forward)}</td>" in html
    assert "did you spell it forwrad?" in html  # a public diagnosis, counted
    assert "(hidden) " in html and "bias.grad is None" in html  # the instructor sees hidden messages
    assert "exit code 3" in html and "does not compile" in html  # niaj (killed), grace (error)
    slowest = re.search(r"<h2>Slowest submissions</h2>(.*?)</table>", html, re.S).group(1)
    assert "olivia" in slowest and "peggy" in slowest  # the endless loop and the memory hog


def test_report_is_self_contained_with_an_embedded_plot(extras):
    _, out, _ = extras
    html = (out / "report.html").read_text()
    svg = re.search(r'<svg id="distribution" .*?</svg>', html, re.S)
    assert svg and "<rect " in svg.group(0) and "students</text>" in svg.group(0)
    assert not re.search(r'src="(?!data:)', html), "no file or URL may be loaded"
    assert not re.search(r'href="(?!feedback/)', html), "links go to the feedback pages only"
    assert "<link" not in html and "http://" not in html and "https://" not in html
    # One inline script (sorting), allowed by its hash in the page's Content-Security-Policy.
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert len(scripts) == html.count("<script") == 1
    assert (f"content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            f"script-src 'sha256-{digest}'\"") in html_module.unescape(html)
    for name in PROTECTIONS.values():
        assert f"<th>{name}</th>" in html  # the run header: each sandbox protection, active or not


def test_most_common_diagnosis_is_the_failures_headline(grade):
    from grader.report.gradebook import item_analysis

    graded = grade("custom_layer", EXAMPLES / "custom_layer", **OPTIONS)
    results = report.results_table(graded.batch)
    scores = report.scores_table(graded.batch, results)
    failed = (results.test == "test_forward_values") & (results.status == "failed")
    assert failed.any()
    results.loc[failed, "headline"] = "forward(x): values differ"
    results.loc[failed, "likely_cause"] = "a missing bias"
    results.loc[failed, "message"] = "text that is not the diagnosis\nLikely cause: nor this"
    row = item_analysis(scores, results).set_index("name").loc["test_forward_values"]
    assert row["most common diagnosis"] == (
        f"forward(x): values differ (likely cause: a missing bias) ({failed.sum()} of {failed.sum()})")


def test_student_text_is_escaped_in_the_report(hostile):
    html = (hostile / "report.html").read_text()
    assert HOSTILE_NAME not in html and "<script>alert" not in html and "<b>bold" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the student id, shown as text
    assert "&lt;script&gt;alert(" in html  # the diagnosis of a public test, shown as text
    assert "&lt;i&gt;gone&lt;/i&gt;" in html  # the message of a failed submission


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(*args: str, profile) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (apt-get install chromium)")
def test_report_renders_in_headless_chromium(extras, hostile, tmp_path):
    _, out, _ = extras
    dom = chromium("--dump-dom", (out / "report.html").as_uri(), profile=tmp_path / "p1").stdout
    assert "<table" in dom and "did you spell it forwrad?" in dom
    assert re.search(r'<svg id="distribution"[^>]*>.*<rect ', dom, re.S)
    shot = tmp_path / "report.png"
    chromium("--window-size=1200,2400", f"--screenshot={shot}", (out / "report.html").as_uri(),
             profile=tmp_path / "p2")
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
    dom = chromium("--dump-dom", (hostile / "report.html").as_uri(), profile=tmp_path / "p3").stdout
    assert "<table" in dom and dom.count("<script") == 1  # ours: sorting
    assert not re.findall(r"<img\b", dom)  # the student's "<img ...>" stayed text (the plot is SVG)
    assert len(re.findall(r"<svg\b", dom)) == 1  # the plot


def gradebook_rows(html: str) -> dict[str, str]:
    """The gradebook's rows, by student (the first cell, as text)."""
    table = re.search(r'<table class="sortable gradebook">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>(.*?)</tr>", table.split("</thead>")[1], re.S)
    return {student: rest for student, rest in rows}


def test_gradebook_lists_every_student_with_status_in_words_and_links(extras):
    graded, out, _ = extras
    html = (out / "report.html").read_text()
    rows = gradebook_rows(html)
    assert set(rows) == set(graded.scores.index)
    assert '<td class="status graded">✓ graded</td>' in rows["alice"]
    assert '<td class="status killed">✗ killed</td>' in rows["niaj"]  # a word, not only a colour
    assert '<a href="feedback/rupert.html">feedback</a>' in rows["rupert"]
    assert '<a href="feedback/heidi.notebook.html">notebook</a>' in rows["heidi"]
    assert "notebook</a>" not in rows["alice"]  # a module has no notebook page
    score = graded.scores.loc["rupert", "score"]
    assert f'data-sort="{score}"' in rows["rupert"] and "a missing or wrong bias" in rows["rupert"]
    for link in re.findall(r'href="([^"]+)"', html):
        assert (out / link).is_file(), link


def test_gradebook_shows_hidden_failures_in_full_and_cells_that_raised(extras):
    graded, out, _ = extras
    html = (out / "report.html").read_text()
    hidden = re.search(r'<h2 id="hidden-failures">(.*?)<h2', html, re.S).group(1)
    failed = graded.results[(graded.results.visibility == "hidden") & (graded.results.status == "failed")]
    assert "trent" in hidden and "bias.grad is None" in hidden
    assert hidden.count("<tr>") == len(failed) + 1  # and the header
    raised = re.search(r'<h2 id="cell-errors">(.*?)<h2', html, re.S).group(1)
    assert "heidi" in raised and "NotImplementedError" in raised


def test_rates_count_only_students_who_handed_something_in(grade, tmp_path):
    graded = grade("custom_layer", EXAMPLES / "custom_layer", **OPTIONS)
    ghosts = [replace(graded.batch.runs[0], submission=replace(graded.batch.runs[0].submission,
                                                               student=name, path=None),
                      status="missing", message="no submission") for name in ("xavier", "yolanda")]
    batch = replace(graded.batch, runs=[*graded.batch.runs, *ghosts])
    results = report.results_table(batch)
    write_extras(batch, tmp_path, report.scores_table(batch, results), results, feedback=False)
    html = (tmp_path / "report.html").read_text()
    count = len(graded.scores)
    assert f'<td id="students">{count + 2}</td>' in html
    assert f'<td id="handed-in">{count} (2 handed nothing in)</td>' in html
    passed = int((graded.scores.score == 10).sum())
    assert f"{100 * passed / count:.1f} % ({passed} of {count})" in html
    items = re.search(r'<h2 id="items">(.*?)</table>', html, re.S).group(1)
    forward = graded.results[graded.results.test == "test_forward_values"]
    assert f"<td>{(forward.status == 'passed').sum()} / {len(forward)}</td>" in items
    assert "xavier" in gradebook_rows(html) and "– missing" in gradebook_rows(html)["xavier"]
    assert "feedback</a>" not in html  # --no-feedback: nothing to link


def test_adjustments_are_listed_with_their_reasons_and_left_out_of_the_item_analysis(grade, tmp_path):
    from datetime import UTC, datetime, timedelta

    from grader.course.adjust import adjust_batch
    from grader.course.late import policy_of
    from grader.course.overrides import read_overrides

    graded = grade("custom_layer", EXAMPLES / "custom_layer", **OPTIONS)
    failed = graded.results[(graded.results.student == "rupert") & (graded.results.status == "failed")]
    test = failed.test.iloc[0]
    (tmp_path / "overrides.csv").write_text(
        "student,test,points,reason,who\n"
        f"rupert,{test},+1,regrade <b>request</b>,TA Kim\nalice,total,-2,shared code,prof\n")
    deadline = datetime(2025, 3, 14, 23, 59, tzinfo=UTC)
    policy = policy_of({"late": {"deadline": deadline.isoformat(), "per_day": 10}}, "assignment.toml")
    batch, _ = adjust_batch(graded.batch, read_overrides(tmp_path / "overrides.csv"), policy,
                            {"heidi": deadline + timedelta(days=2)})
    results = report.results_table(batch)
    write_extras(batch, tmp_path, report.scores_table(batch, results), results, feedback=False)
    html = (tmp_path / "report.html").read_text()
    table = re.search(r'<h2 id="adjustments">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    assert len(rows) == 3
    regraded = next(r for r in rows if "<td>rupert</td>" in r)
    assert "<td>override</td>" in regraded and f"<td>{failed.description.iloc[0]}</td>" in regraded
    assert "Override by TA Kim: regrade &lt;b&gt;request&lt;/b&gt;" in regraded  # escaped
    late = next(r for r in rows if "<td>heidi</td>" in r)
    assert "<td>late</td>" in late and "2 days after the deadline" in late
    total = next(r for r in rows if "<td>alice</td>" in r)
    assert '<td data-sort="-2">-2</td>' in total and "shared code (prof: 10 -&gt; 8 points)" in total
    # the rows adjustments add are no test: not in the item analysis, its rates or the diagnoses
    items = re.search(r'<h2 id="items">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    assert items.count("<tr>") == graded.results.test.nunique()
    assert "late penalty" not in items and "override of the total" not in items
    forward = graded.results[graded.results.test == "test_forward_values"]
    assert f"<td>{(forward.status == 'passed').sum()} / {len(forward)}</td>" in items
    diagnoses = re.search(r"<h2>Most frequent diagnoses</h2>(.*?)<h2", html, re.S).group(1)
    assert "after the deadline" not in diagnoses


def test_report_shows_similar_pairs_escaped_and_linked(grade, tmp_path):
    from grader.course.similarity import write_similarity
    from grader.report.html import refresh_similarity

    graded = grade("custom_layer", EXAMPLES / "custom_layer", **OPTIONS)
    batch = hostile_batch(graded.batch, tmp_path)
    report.write_report(batch, tmp_path, feedback=False)
    html = (tmp_path / "report.html").read_text()
    assert 'id="similarity"' not in html  # no similarity.csv yet: no section
    write_similarity(tmp_path, find_starter("custom_layer"), threshold=0.3)  # rewrites the section
    html = (tmp_path / "report.html").read_text()
    section = re.search(r'<h2 id="similarity">(.*?)</table>', html, re.S).group(1)
    csv_rows = pd.read_csv(tmp_path / "similarity.csv", dtype=str, keep_default_na=False)
    csv_rows = csv_rows[csv_rows.student_b != ""]  # pairs: a submission's own note row is not one
    assert section.count("<tr>") == min(len(csv_rows), 50) + 1 > 1
    links = re.findall(r'<a href="([^"]+)">compare</a>', section)
    assert links and all(re.fullmatch(r"similarity/pair-\d+\.html", link) for link in links)
    assert all((tmp_path / link).is_file() for link in links)
    # what the section does with a hostile row: ids escaped, a page link only to a page we wrote
    pd.DataFrame([
        {"rank": 1, "student_a": HOSTILE_NAME, "student_b": "'=HYPERLINK(\"x\")", "code_similarity": 0.9,
         "code_a": 0.9, "code_b": 0.9, "shared_wrong": 1, "shared_tests": "test_bias", "flagged": True,
         "page": links[0]},
        {"rank": 2, "student_a": "eve", "student_b": "mallory", "code_similarity": 0.8, "code_a": 0.8,
         "code_b": 0.8, "shared_wrong": 0, "shared_tests": "", "flagged": True,
         "page": "javascript:alert(1)"},
    ]).to_csv(tmp_path / "similarity.csv", index=False)
    assert refresh_similarity(tmp_path)
    html = (tmp_path / "report.html").read_text()
    section = re.search(r'<h2 id="similarity">(.*?)</table>', html, re.S).group(1)
    assert HOSTILE_NAME not in html and "&lt;img src=x onerror=alert(1)&gt;" in section
    assert "=HYPERLINK(&#34;x&#34;)" in section and "'=HYPERLINK" not in section  # the CSV's quote undone
    assert "javascript:" not in section and section.count("compare</a>") == 1
    assert "⚑ flagged" in section and "1 (test_bias)" in section
    assert html.count('<h2 id="similarity">') == 1 and html.count("<!-- similarity: end -->") == 1


def find_starter(name):
    from grader.intake.assignment import find_assignment

    return find_assignment(name).starter
