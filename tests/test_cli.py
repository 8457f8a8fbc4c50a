"""The command line as a user meets it: exit codes, one-line errors, the files it writes."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import EXAMPLES

GRADER = [sys.executable, "-m", "grader"]


def grader(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*GRADER, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize("args, words", [
    (["grade", "no_such_assignment", ".", "-o", "out"], "unknown assignment 'no_such_assignment'"),
    (["grade", "custom_layer", "/no/such/folder", "-o", "out"], "does not exist"),
    (["check", "custom_layer", "/no/such/file.ipynb"], "does not exist"),
    (["grade", "custom_layer", "EMPTY", "-o", "out"], "holds no submissions"),
    (["grade", "custom_layer", "EXAMPLES", "-o", "out", "--memory", "lots"], "cannot read the size"),
])
def test_user_mistakes_get_one_line(tmp_path, args, words):
    (tmp_path / "EMPTY").mkdir()
    args = [str(EXAMPLES / "custom_layer") if a == "EXAMPLES" else a for a in args]
    result = grader(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: error: "), result.stderr
    assert words in lines[0]
    assert "Traceback" not in result.stderr


def test_unwritable_output_folder_fails_before_grading(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = grader("grade", "custom_layer", str(EXAMPLES / "custom_layer"), "-o", str(blocker / "out"))
    assert result.returncode == 2
    assert "cannot write the report" in result.stderr


def test_help_does_not_import_torch():
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "grader", "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "grade" in result.stdout
    assert " torch\n" not in result.stderr and "| torch" not in result.stderr


def test_list_shows_custom_layer():
    result = grader("list")
    assert result.returncode == 0 and "custom_layer" in result.stdout


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    for name in ("alice.py", "rupert.py", "ivan.ipynb"):
        (folder / name).write_bytes((EXAMPLES / "custom_layer" / name).read_bytes())
    (folder / "ghost.py").symlink_to("/no/such/target.py")
    (folder / "notes.txt").write_text("not a submission")
    return folder


def test_grade_writes_the_report(small_class, tmp_path):
    result = grader("grade", "custom_layer", str(small_class), "-o", str(tmp_path / "out"), "-j", "2")
    assert result.returncode == 0, result.stderr
    scores = pd.read_csv(tmp_path / "out" / "scores.csv").set_index("student")
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    assert set(scores.index) == {"alice", "rupert", "ivan", "ghost", "notes.txt"}
    assert {"student", "score", "max_score", "status", "message"} <= set(scores.reset_index().columns)
    assert {"student", "test", "score", "max_score", "status", "message"} <= set(results.columns)
    assert scores.loc["alice", "score"] == 10 and scores.loc["rupert", "score"] == 6
    assert scores.loc["ghost", "status"] == "error"
    assert "link to a file outside your submission" in scores.loc["ghost", "message"]
    assert "not a .ipynb or .py" in scores.loc["notes.txt", "message"]
    assert (tmp_path / "out" / "run.json").exists()
    assert "Report:" in result.stdout


def test_check_passes_a_correct_notebook():
    """Run as the starter notebooks tell students to: from the notebook's folder, a relative path."""
    result = grader("check", "custom_layer", "bob.ipynb", cwd=EXAMPLES / "custom_layer")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 / 7" in result.stdout and "Hidden tests also count" in result.stdout
    assert "skipped %matplotlib inline" in result.stdout


def test_check_explains_a_mistake():
    result = grader("check", "custom_layer", str(EXAMPLES / "custom_layer" / "dave.py"))
    assert result.returncode == 1
    assert "forwrad" in result.stdout


def test_check_shows_a_message_of_several_lines_as_lines():
    """rupert's bias is wrong: the diagnosis has several lines, shown as lines, not as ``\\n``."""
    result = grader("check", "custom_layer", str(EXAMPLES / "custom_layer" / "rupert.py"))
    assert result.returncode == 1
    assert "values differ" in result.stdout and "Likely cause" in result.stdout
    assert "\\n" not in result.stdout
