"""One report that agrees with itself: the class statistics defined once (terminal, report.html, its
plot, run.json), the header of a partial regrade, what changed on a regrade, one file mode for every
file of a report folder, roster names, notes for unusual scores, signs every font has."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace

import pandas as pd
import pytest

from conftest import EXAMPLES
from grader.report import gradebook, html, statistics

ROSTER = 'student,lms_id,name\nalice,1,"Liddell, Alice"\nbob,2,Bob Builder\nzoe,3,Zoe Zhang\n'
OVERRIDES = ("student,test,points,reason,who\nalice,total,+0.5,bonus for the write-up,TA Kim\n"
             "bob,late,0,doctor's note,TA Kim\n")
MORE = "bob,test_forward_values,0,copied from the board,TA Kim\n"


def grade(folder, *more: str) -> subprocess.CompletedProcess:
    """``grader grade`` under umask 002 (a shared course folder), as a TA runs it."""
    command = [sys.executable, "-m", "grader", "grade", "custom_layer", str(EXAMPLES / "custom_layer"),
               "-o", str(folder / "out"), "--roster", str(folder / "roster.csv"), "--overrides",
               str(folder / "overrides.csv"), "-j", "2", *more]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"}, preexec_fn=lambda: os.umask(0o002))
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The example class graded with a roster (zoe handed nothing in), overrides and similarity;
    then bob's test overridden and bob alone graded again (``--only bob``)."""
    folder = tmp_path_factory.mktemp("agrees")
    (folder / "roster.csv").write_text(ROSTER)
    (folder / "overrides.csv").write_text(OVERRIDES)
    first = grade(folder, "--similarity")
    shutil.copytree(folder / "out", folder / "first", ignore=shutil.ignore_patterns(".grader"))
    (folder / "overrides.csv").write_text(OVERRIDES + MORE)
    again = grade(folder, "--only", "bob")
    return folder, first, again


def page(folder, name="out") -> str:
    return (folder / name / "report.html").read_text(encoding="utf-8")


def test_every_file_of_a_report_folder_has_the_umask_mode(graded):
    """0666 less the umask (0664 under 002) for every file, the journal apart: run.json rewritten
    after the adjustments, similarity.csv and its pair pages, changes.csv, the feedback."""
    folder = graded[0]
    files = [p for p in (folder / "out").rglob("*") if p.is_file() and p.name != "journal.jsonl"]
    names = {p.name for p in files}
    assert {"run.json", "similarity.csv", "changes.csv", "report.html", "alice.md"} <= names, names
    assert any(p.name.startswith("pair-") for p in files)
    wrong = {str(p.relative_to(folder)): oct(p.stat().st_mode & 0o777) for p in files
             if p.stat().st_mode & 0o777 != 0o664}
    assert not wrong


def test_one_definition_of_the_class_statistics(graded):
    """Mean, median and pass rate over those who handed in; zoe (missing) counted apart, the same
    numbers in the terminal, report.html and run.json."""
    folder, first, _ = graded
    scores = pd.read_csv(folder / "first" / "scores.csv")
    present = scores[scores.status != "missing"]
    assert len(present) == len(scores) - 1
    mean, median = round(present.score.mean(), 2), present.score.median()
    passed = int((present.score >= present.max_score).sum())
    rate = round(100 * passed / len(present), 1)
    stats = json.loads((folder / "first" / "run.json").read_text())["statistics"]
    assert (stats["mean"], stats["median"], stats["pass_rate"], stats["missing"]) == (mean, median, rate, 1)
    text = page(folder, "first")
    assert f'<td id="mean">{mean:.2f} / 10</td>' in text and f'<td id="median">{median:g} / 10</td>' in text
    assert f"{rate:.1f} % ({passed} of {len(present)})" in text
    terminal = " ".join(first.stdout.split())
    assert f"mean {mean:.2f} / 10, median {median:g}, full marks {rate:g} %" in terminal
    assert "1 handed nothing in (not counted)" in terminal
    assert f"{scores.score.mean():.2f}" != f"{mean:.2f}"  # the 0 of zoe would change it


def test_the_plot_counts_those_who_handed_in():
    """The histogram's data: the scores of those who handed in, not a 0 for each missing student."""
    scores = pd.DataFrame({"student": ["a", "b", "c", "z"], "score": [4.0, 10.0, 10.0, 0.0],
                           "max_score": [10.0] * 4, "status": ["graded", "graded", "graded", "missing"]})
    svg = html.distribution_svg(scores)
    bars = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert len(bars) == 2 and max(bars) == 2 * min(bars)  # one student at 4, two at 10, none at 0
    assert "1 who handed nothing in not shown" in svg and "out of 10" in svg
    many = pd.DataFrame({"student": list(map(str, range(300))), "score": [i % 97 for i in range(300)],
                         "max_score": [100.0] * 300, "status": ["graded"] * 300})
    assert len(re.findall("<rect ", html.distribution_svg(many))) == 20  # 20 bins past 40 points


def test_the_header_of_a_partial_regrade_says_what_was_regraded(graded):
    folder, first, again = graded
    head = json.loads((folder / "out" / "run.json").read_text())
    assert (head["graded_now"], head["reused"], head["regraded"]) == (1, head["submissions"] - 1, ["bob"])
    line = re.search(r'id="run-line">(.*?)</p>', page(folder), re.S).group(1)
    assert re.search(r"18 submissions: 1 graded again in [0-9.]+ s \(bob\), 17 unchanged ones taken from "
                     "the previous grading", " ".join(line.split())), line
    assert "18 submissions: 1 graded again in" in " ".join(again.stdout.split())
    assert re.search(r"18 submissions graded in [0-9.]+ s", page(folder, "first"))


def test_changes_csv_and_the_section_list_what_a_regrade_changed(graded):
    folder = graded[0]
    assert not (folder / "first" / "changes.csv").exists()
    assert "This folder had no report before" in page(folder, "first")
    with open(folder / "out" / "changes.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{"student": "bob", "test": "test_forward_values", "old_status": "passed",
                     "old_score": "1.0", "new_status": "failed", "new_score": "0.0",
                     "old_total": "10.0", "new_total": "9.0"}]
    section = re.search(r'<h2 id="changes">.*?</table>', page(folder), re.S).group(0)
    assert "<td>bob</td>" in section and "test_forward_values: passed 1 -&gt; failed 0" in section
    assert '<td class="score">10</td><td class="score">9</td>' in section


def test_roster_names_beside_ids_in_the_gradebook_and_feedback(graded):
    folder = graded[0]
    assert '<td>alice <span class="name">(Liddell, Alice)</span></td>' in page(folder)
    assert "feedback for alice (Liddell, Alice)" in (folder / "out" / "feedback" / "alice.md").read_text()
    assert "(Liddell, Alice)" in (folder / "out" / "feedback" / "alice.html").read_text()


def test_a_total_above_the_maximum_and_a_waived_penalty_get_notes(graded):
    text = page(graded[0])
    alice = re.search(r"<td>alice .*?</tr>", text, re.S).group(0)
    assert "10.5 / 10" in alice and "Note: above the maximum (10.5 of 10): an adjustment gave it." in alice
    adjustments = re.search(r'<h2 id="adjustments">.*?</table>', text, re.S).group(0)
    bob = re.search(r"<tr><td>bob</td><td>late.*?</tr>", adjustments, re.S).group(0)
    assert "late penalty waived" in bob and "+0" not in bob
    feedback = graded[0] / "out" / "feedback"
    alice_md, bob_md = (feedback / "alice.md").read_text(), (feedback / "bob.md").read_text()
    assert ("**Score: 10.5 / 10** (105 %) *Note: above the maximum (10.5 of 10): an adjustment gave "
            "it.*") in alice_md
    assert "| override of the total by TA Kim | +0.5 | adjustment |" in alice_md
    assert "| late penalty | 0 | waived |" in bob_md and "+0" not in bob_md
    assert "Note: above the maximum" in (feedback / "alice.html").read_text()


def test_scores_do_not_wrap_and_status_signs_are_in_stock_fonts(graded):
    text = page(graded[0])
    assert "td.score, td.status { white-space: nowrap; }" in text
    assert re.search(r'<td class="score" data-sort="10.5">10.5 / 10', text)
    stock = set("✓✗– ")  # DejaVu, Liberation, Arial and Segoe UI all have these
    for words in gradebook.STATUS_WORDS.values():
        assert all(c.isascii() or c in stock for c in words), words


def test_summary_line_without_anyone():
    empty = pd.DataFrame({"score": [], "max_score": [], "status": []})
    assert statistics.summary_line(statistics.class_statistics(empty)).startswith("mean - / 0, median -")


def without_cgroup(batch):
    return replace(batch, protections={**batch.protections, "cgroup": False})


def test_grade_and_ci_warn_in_one_yellow_line_when_a_protection_is_missing(
        grade, tmp_path, capsys, monkeypatch):
    """Any protection measured missing (here the cgroup) is one line in the summary of grade and
    on stderr of ci (the github format writes stdout), with the fix."""
    from grader import report
    from grader.ci import runner
    from grader.cli import commands
    from grader.grading.options import GradeOptions

    monkeypatch.setattr("grader.sandbox.advice.machine", lambda: (1000, True, True))
    monkeypatch.setenv("COLUMNS", "400")
    graded = grade("custom_layer", EXAMPLES / "custom_layer", timeout=6, memory=512 * 1024**2)
    batch = without_cgroup(graded.batch)
    paths = report.write_report(batch, tmp_path / "out", feedback=False)
    commands._print_summary(batch, paths)
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("warning: sandbox protections")]
    assert len(warnings) == 1 and "cgroup limits" in warnings[0]
    assert "systemd-run --user --scope -p Delegate=yes" in warnings[0]

    one = without_cgroup(graded.batch)
    alice = next(r for r in one.runs if r.submission.student == "alice")
    one = replace(one, runs=[alice], outcomes=[o for o in one.outcomes if o.student == "alice"])
    monkeypatch.setattr("grader.grading.batch.grade", lambda *args, **kwargs: one)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert runner.ci("custom_layer", EXAMPLES / "custom_layer" / "alice.py", "github", None, None,
                     GradeOptions()) == 0
    captured = capsys.readouterr()
    assert "cgroup limits" in captured.err and "warning: sandbox protections" in captured.err
    assert "warning: sandbox" not in captured.out
