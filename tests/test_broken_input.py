"""Broken input: every entry of a submissions folder gets a row with a clear status and message,
and nothing stops the batch.

The small files are ``tests/data/broken/``; the large, binary and link ones are made here. All of
them are graded in ONE batch, beside the honest ``alice.py``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile

import pandas as pd
import pytest

from conftest import EXAMPLES, ROOT, grade_folder
from grader import report
from grader.intake import submissions

BROKEN = ROOT / "tests" / "data" / "broken"
ALICE = EXAMPLES / "custom_layer" / "alice.py"
OPTIONS = {"timeout": 5, "memory": 512 * 1024**2}

FULL = ["all tests passed"]
NOT_JSON = ["is not a notebook (not valid JSON)", "Download as"]
EXPECTED = {
    # student: (score, status, words in the row's message)
    "alice": (10, "graded", FULL),
    "not_json": (0, "error", ["not_json.ipynb", *NOT_JSON]),
    "truncated": (0, "error", ["truncated.ipynb", *NOT_JSON]),
    "json_not_notebook": (0, "error", ["json_not_notebook.ipynb cannot be read as a notebook"]),
    "old_format": (10, "graded", FULL),  # nbformat 3 (worksheets), converted
    "unknown_cell": (10, "graded", FULL),  # a "widget" cell is skipped like markdown
    "latin1": (10, "graded", FULL),
    "latin1_notebook": (10, "graded", FULL),
    "empty_notebook": (0, "error", ["empty_notebook.ipynb is empty", "save the notebook"]),
    "empty_module": (0, "graded", ["does not define MyLinear"]),
    "binary": (0, "error", ["binary.py is a binary file"]),
    "late_nul": (0, "error", ["late_nul.py does not compile", "null bytes"]),
    "huge": (0, "error", ["huge.ipynb is larger than 50 MB"]),
    "bob": (0, "error", ["several submissions (bob.ipynb, bob.py)", "keep one"]),
    "link": (0, "error", ["link.py is a link to a file outside your submission: upload the file itself"]),
    "caf\ufffd": (10, "graded", FULL),  # b"caf\xe9.py", a Latin-1 name from a Windows zip
    # discovered without the assignment's names here: with them, final.ipynb (it defines MyLinear)
    "two_notebooks": (0, "error", ["two_notebooks/ holds draft.ipynb, final.ipynb: none is clearly the entry"]),
    "empty_folder": (0, "error", ["empty_folder/ holds no .ipynb or .py file"]),
    "carl.zip": (0, "error", ["carl.zip is not a .ipynb or .py file"]),  # .zip: not supported yet
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    base = tmp_path_factory.mktemp("broken")
    folder = base / "class"
    shutil.copytree(BROKEN, folder)
    shutil.copy(ALICE, folder)
    (folder / "binary.py").write_bytes(bytes(range(256)) * 4)
    (folder / "binary_notebook.ipynb").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    (folder / "utf16.py").write_bytes((folder / "bob.py").read_text().encode("utf-16"))  # with a BOM
    (folder / "late_nul.py").write_bytes(b"# padding\n" * 1000 + b"x = 1\x00\n")  # past the first 8 KB
    (base / "elsewhere.py").write_text("print('outside the folder')\n")
    (folder / "link.py").symlink_to(base / "elsewhere.py")
    shutil.copy(ALICE, os.fsdecode(b"%s/caf\xe9.py" % os.fsencode(folder)))
    (folder / "empty_folder").mkdir()
    with zipfile.ZipFile(folder / "carl.zip", "w") as archive:
        archive.write(BROKEN / "bob.py", "carl.py")
    notebook = json.loads((folder / "bob.ipynb").read_text())  # a correct notebook, 200 MB of saved output
    notebook["cells"][0].update(execution_count=1, outputs=[
        {"output_type": "stream", "name": "stdout", "text": "x" * (200 * 1024 * 1024)}])
    (folder / "huge.ipynb").write_text(json.dumps(notebook))
    return folder


@pytest.fixture(scope="module")
def graded(folder):
    return grade_folder("custom_layer", folder, **OPTIONS)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_broken_rows(graded, student):
    graded.assert_row(student, EXPECTED[student])


def test_every_entry_has_one_row_in_scores_csv(graded, folder):
    results = report.results_table(graded.batch)
    scores = pd.read_csv(io.StringIO(report.scores_table(graded.batch, results).to_csv(index=False)))
    entries = {submissions.shown(p.stem if p.suffix in (".py", ".ipynb") else p.name)
               for p in folder.iterdir()}
    assert sorted(scores.student) == sorted(entries)
    assert set(scores.student) == set(EXPECTED) | {"utf16", "binary_notebook"}  # each entry is pinned
    assert scores.message.notna().all()  # every row says why
    assert set(scores.status) <= {"graded", "error"}


def test_utf16_module_is_read_or_named(graded):
    row = graded.row("utf16")
    assert row.score == 10 or "UTF-16" in row.message, row.message


def test_binary_notebook_is_asked_for_a_notebook(graded):
    row = graded.row("binary_notebook")
    assert row.status == "error"
    assert ".py file" not in row.message and "notebook" in row.message, row.message


def test_names_that_are_not_utf8_get_distinct_printable_ids(tmp_path):
    raw = [b"caf\xe9.py", b"caf\xe8.py", "caf\ufffd.py".encode(), b"\xff\xfe.ipynb"]
    for name in raw:
        (tmp_path / os.fsdecode(name)).write_text("x = 1\n")
    found = submissions.discover(tmp_path)
    ids = [s.student for s in found]
    assert len(set(ids)) == len(raw)  # no two names share a row
    assert "caf\ufffd" in ids  # the valid name keeps its own id; the others get a suffix
    for submission in found:
        submission.student.encode("utf-8")  # every id can be written anywhere
        submission.file_name.encode("utf-8")
        assert submission.path.read_text() == "x = 1\n"  # and the raw name still opens
    assert sum(i.startswith("caf\ufffd~") for i in ids) == 2
