"""Submissions straight from Canvas: its "Download Submissions" zip (built here, as Canvas names
its files) is graded under the roster's ids, the latest upload of each student, with the
submission time and Canvas's late mark kept; a hostile archive is refused in one line."""

from __future__ import annotations

import stat
import struct
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from conftest import EXAMPLES
from grader.course import lms_archive
from grader.errors import GraderError
from grader.intake import submissions

ALICE = (EXAMPLES / "custom_layer" / "alice.py").read_bytes()  # 10 points
RUPERT = (EXAMPLES / "custom_layer" / "rupert.py").read_bytes()  # 6 points
ROSTER = "student,lms_id,name\nalice,101,\"Smith, Alice\"\nbob,102,\"Lee, Bob\"\ncarol,103,\"Kim, Carol\"\n"


def entry(name: str, when: tuple = (2025, 3, 14, 12, 0, 0), utc: int | None = None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, when)
    if utc is not None:  # the extended-time field (0x5455): a Unix time, UTC
        info.extra = struct.pack("<HHBi", 0x5455, 5, 1, utc)
    return info


def canvas_zip(path: Path, members: list[tuple[zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            archive.writestr(info, data)
    return path


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    return path


@pytest.fixture
def archive(tmp_path):
    deadline_utc = int(datetime(2025, 3, 15, tzinfo=UTC).timestamp())
    return canvas_zip(tmp_path / "submissions.zip", [
        (entry("smithalice_101_5001_work.py", (2025, 3, 13, 9, 0, 0)), RUPERT),  # first attempt
        (entry("smithalice_101_5009_work-1.py", (2025, 3, 14, 22, 30, 0)), ALICE),  # the latest
        (entry("leebob_LATE_102_5010_mylinear.py", utc=deadline_utc + 7200), ALICE),
        (entry("leebob_LATE_102_5011_notes.pdf", utc=deadline_utc + 7200), b"%PDF-1.4"),
        (entry("kimcarol_103_5004_answers.pdf"), b"%PDF-1.4"),
        (entry("doejane_999_5005_lr.py"), RUPERT),  # not in the roster
    ])


def test_canvas_names_map_to_the_roster_and_the_latest_attempt(archive, roster):
    found = {s.student: s for s in lms_archive.discover(archive, roster)}
    assert sorted(found) == ["alice", "bob", "carol", "doejane"]
    assert found["alice"].path.read_bytes() == ALICE and found["alice"].path.name == "work.py"  # its own name
    assert found["alice"].submitted_at == datetime(2025, 3, 14, 22, 30)  # the zip's local time
    assert found["alice"].late is False
    assert found["bob"].submitted_at == datetime(2025, 3, 15, 2, 0, tzinfo=UTC)
    assert found["bob"].late is True
    assert found["carol"].path is None and "answers.pdf: no .ipynb or .py file" in found["carol"].problem
    folder = found["alice"].path.parent.parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # unpacked where only we can read


def test_without_a_roster_ids_are_canvas_names(archive, tmp_path):
    extra = canvas_zip(tmp_path / "twins.zip", [(entry("leebob_102_1_a.py"), ALICE),
                                                (entry("leebob_104_2_a.py"), ALICE)])
    assert {s.student for s in lms_archive.discover(archive)} == {
        "smithalice", "leebob", "kimcarol", "doejane"}
    assert {s.student for s in lms_archive.discover(extra)} == {"leebob_102", "leebob_104"}


def test_an_unpacked_folder_is_read_the_same_without_trusting_file_times(archive, roster, tmp_path):
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(folder)
    found = {s.student: s for s in lms_archive.discover(folder, roster)}
    assert sorted(found) == ["alice", "bob", "carol", "doejane"]
    assert found["alice"].path.read_bytes() == ALICE
    assert found["bob"].late is True and found["bob"].submitted_at is None


def test_one_time_for_every_entry_is_the_archives_not_the_students(tmp_path):
    same = canvas_zip(tmp_path / "same.zip", [(entry("a_1_1_x.py"), ALICE), (entry("b_2_2_y.py"), ALICE)])
    assert {s.submitted_at for s in lms_archive.discover(same)} == {None}


@pytest.mark.parametrize("name, words", [
    ("../../etc/cron.d/evil_101_1_x.py", "leads out of the archive ('..')"),
    ("sub/..\\..\\evil_101_1_x.py", "leads out of the archive ('..')"),
    ("/etc/evil_101_1_x.py", "has an absolute path"),
    ("C:\\evil_101_1_x.py", "has an absolute path"),
])
def test_paths_leading_out_are_refused(tmp_path, name, words):
    archive = canvas_zip(tmp_path / "bad.zip", [(entry("ok_102_2_a.py"), ALICE), (entry(name), b"x")])
    with pytest.raises(GraderError, match=words.replace("(", r"\(").replace(")", r"\)")):
        lms_archive.discover(archive)


def test_a_link_and_an_archive_too_large_are_refused(tmp_path, monkeypatch):
    link = entry("sneaky_101_1_x.py")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = canvas_zip(tmp_path / "link.zip", [(link, b"/etc/shadow")])
    with pytest.raises(GraderError, match="is a link"):
        lms_archive.discover(archive)
    bomb = canvas_zip(tmp_path / "bomb.zip", [(entry("big_101_1_x.py"), b"0" * 4096)])
    monkeypatch.setattr(lms_archive, "MAX_EXPANDED_BYTES", 1024)
    with pytest.raises(GraderError, match="unpacks to .* more than"):
        lms_archive.discover(bomb)


def test_a_zip_that_is_not_from_canvas_or_not_a_zip_says_what_to_do(tmp_path):
    plain = canvas_zip(tmp_path / "plain.zip", [(entry("alice.py"), ALICE)])
    with pytest.raises(GraderError, match="unzip it and give the folder"):
        lms_archive.discover(plain)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(GraderError, match="cannot be read as a zip archive"):
        lms_archive.discover(tmp_path / "broken.zip")


def test_grade_a_canvas_zip_with_the_roster(archive, roster, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "grade", "custom_layer", str(archive), "-o", str(out),
               "--roster", str(roster), "-j", "2", "--timeout", "20", "--no-feedback"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    scores = pd.read_csv(out / "scores.csv").set_index("student")
    assert scores.score.to_dict() == {"alice": 10.0, "bob": 10.0, "carol": 0.0, "doejane": 6.0}
    assert "not in the roster (graded anyway): doejane" in " ".join(result.stdout.split())


def test_the_private_copy_is_removed_when_the_grader_exits(archive):
    script = ("import sys; from pathlib import Path; from grader.course import lms_archive; "
              "print(lms_archive.discover(Path(sys.argv[1]))[0].path.parent.parent)")
    result = subprocess.run([sys.executable, "-c", script, str(archive)], capture_output=True,
                            text=True, timeout=120, check=True)
    folder = Path(result.stdout.strip())
    assert folder.name.startswith("grader-lms-") and not folder.exists()


def test_a_refused_archive_is_one_line_on_the_command_line(tmp_path):
    archive = canvas_zip(tmp_path / "bad.zip", [(entry("../x_1_1_a.py"), ALICE)])
    result = subprocess.run([sys.executable, "-m", "grader", "grade", "custom_layer", str(archive),
                             "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "refused" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_all_uploads_of_a_user_are_one_submission_whose_entry_is_chosen_by_the_rule(tmp_path):
    """simple.py and its helper sim_config.py (uploaded later, a higher file id) go together, and
    the entry is the file nothing else imports, not the latest upload."""
    script = b"import torch\nfrom sim_config import SIZE\n\nclass MyLinear(torch.nn.Module):\n    pass\n"
    archive = canvas_zip(tmp_path / "s.zip", [
        (entry("smithalice_101_5001_simple.py"), script),
        (entry("smithalice_101_5002_sim_config.py"), b"SIZE = 3\n"),
        (entry("smithalice_101_5003_table.csv"), b"a,b\n1,2\n"),
    ])
    found, = lms_archive.discover(archive, None, submissions.EntryRule(names=("MyLinear",)))
    assert found.problem is None and found.path.name == "simple.py"
    assert sorted(p.name for p in found.folder.iterdir()) == ["sim_config.py", "simple.py", "table.csv"]


def test_an_upload_name_that_cannot_be_a_path_costs_that_upload_only(tmp_path):
    archive = canvas_zip(tmp_path / "n.zip", [
        (entry("smithalice_101_5001_notes\\..\\homework.py"), ALICE),
        (entry("smithalice_101_5002_work.py"), ALICE),
        (entry("leebob_102_5003_notes\\..\\homework.py"), ALICE),
        (entry("kimcarol_103_5004_work.py"), RUPERT),
    ])
    found = {s.student: s for s in lms_archive.discover(archive)}
    assert found["smithalice"].problem is None and found["smithalice"].path.name == "work.py"
    assert found["leebob"].path is None
    assert "the upload named 'notes\\\\..\\\\homework.py' cannot be a file name" in found["leebob"].problem
    assert found["kimcarol"].path.read_bytes() == RUPERT


@pytest.mark.parametrize("mark", ["LATE", "late", "Late"])
def test_the_late_mark_is_read_in_any_letter_case(tmp_path, mark):
    archive = canvas_zip(tmp_path / "l.zip", [(entry(f"leebob_{mark}_102_5010_a.py"), ALICE),
                                              (entry("kimcarol_103_5004_b.py"), ALICE)])
    found = {s.student: s for s in lms_archive.discover(archive)}
    assert found["leebob"].late is True and found["kimcarol"].late is False
