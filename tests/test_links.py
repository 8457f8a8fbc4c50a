"""Links a student chose are never followed: a link that leaves the student's own entry (to the
hidden reference, a system file, a classmate's notebook, a file directly in ``/``) is that
student's ``error`` row, and the honest students beside them keep 10/10.

The whole class is graded in ONE batch; a few discovery-only checks need no sandbox.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import EXAMPLES, grade_folder
from grader.intake import submissions
from grader.intake.assignment import find_assignment

ALICE = EXAMPLES / "custom_layer" / "alice.py"
OUTSIDE = "is a link to a file outside your submission: upload the file itself"
OPTIONS = {"timeout": 5, "memory": 512 * 1024**2}


def _file_in_root() -> Path | None:
    """A readable regular file directly in ``/`` (``/.dockerenv`` in a container), if any."""
    for name in (".dockerenv", *sorted(os.listdir("/"))):
        path = Path("/") / name
        if path.is_file() and not path.is_symlink() and os.access(path, os.R_OK):
            return path
    return None


ROOT_FILE = _file_in_root()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("links") / "class"
    folder.mkdir()
    for name in ("alice", "bea"):
        shutil.copy(ALICE, folder / f"{name}.py")
    reference = find_assignment("custom_layer").reference
    (folder / "refcopy.py").symlink_to(reference)  # top level, to the hidden reference
    (folder / "copycat.py").symlink_to(folder / "alice.py")  # to a classmate, inside the folder
    (folder / "shadow").mkdir()  # a folder whose only file is a link to a system file
    (folder / "shadow" / "work.py").symlink_to("/etc/shadow")
    (folder / "sneaky").mkdir()  # a real notebook, and a link to the reference beside it
    shutil.copy(ALICE, folder / "sneaky" / "work.py")
    (folder / "sneaky" / "helper.txt").symlink_to(reference)
    (folder / "escape").mkdir()  # a linked folder: nothing is looked at through it
    (folder / "escape" / "lib").symlink_to(reference.parent)
    (folder / "tidy").mkdir()  # a link that stays inside the student's folder is skipped
    (folder / "tidy" / "src").mkdir()
    shutil.copy(ALICE, folder / "tidy" / "src" / "work.py")
    (folder / "tidy" / "latest.py").symlink_to("src/work.py")
    os.mkfifo(folder / "pipe.py")  # opening it would block the trusted process
    if ROOT_FILE is not None:
        (folder / "rooted").mkdir()
        (folder / "rooted" / "work.py").symlink_to(ROOT_FILE)
    return folder


@pytest.fixture(scope="module")
def graded(folder):
    return grade_folder("custom_layer", folder, **OPTIONS)


EXPECTED = {
    "alice": (10, "graded", []),
    "bea": (10, "graded", []),
    "tidy": (10, "graded", []),
    "refcopy": (0, "error", [f"refcopy.py {OUTSIDE}"]),
    "copycat": (0, "error", [f"copycat.py {OUTSIDE}"]),
    "shadow": (0, "error", [f"shadow/work.py {OUTSIDE}"]),
    "sneaky": (0, "error", [f"sneaky/helper.txt {OUTSIDE}"]),
    "escape": (0, "error", [f"escape/lib {OUTSIDE}"]),
    "pipe": (0, "error", ["pipe.py is not a regular file"]),
}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_link_rows(graded, student):
    graded.assert_row(student, EXPECTED[student])


def test_a_file_in_root_hides_nothing_from_the_class(graded):
    if ROOT_FILE is None:
        pytest.skip("no readable file directly in /")
    graded.assert_row("rooted", (0, "error", [f"rooted/work.py {OUTSIDE}"]))
    assert graded.row("alice").score == 10 and graded.row("bea").score == 10


def test_nothing_linked_is_read_into_the_report(graded):
    text = graded.scores.to_csv() + graded.results.to_csv()
    assert "root:" not in text  # /etc/shadow's first line
    assert "class MyLinear" not in text  # the reference's code
    assert sorted(graded.scores.index) == sorted([*EXPECTED, *(["rooted"] if ROOT_FILE else [])])


def test_discovery_never_opens_what_a_link_names(folder):
    found = {s.student: s for s in submissions.discover(folder)}
    for student, submission in found.items():
        if submission.path is not None:
            assert not submission.path.is_symlink(), student
            assert submission.path.resolve().is_relative_to(folder.resolve()), student
    assert found["tidy"].path == folder / "tidy" / "src" / "work.py"


def test_single_file_refuses_a_link_and_a_linked_folder(tmp_path, monkeypatch):
    shutil.copy(ALICE, tmp_path / "real.py")
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    (tmp_path / "repo").symlink_to(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert OUTSIDE in submissions.single(Path("link.py")).problem
    assert OUTSIDE in submissions.single(Path("repo/real.py")).problem
    assert submissions.single(Path("real.py")).problem is None
