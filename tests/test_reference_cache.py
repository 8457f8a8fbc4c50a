"""The reference's observations are kept in the report folder: a regrade, ``--only`` or a second
batch into the same folder does not run (and judge) the reference again, unless anything that could
change them changed; a kept file that is not the sandbox's own is never trusted."""

from __future__ import annotations

import shutil

import pytest

from conftest import EXAMPLES
from grader.errors import GraderError
from grader.grading import batch as grading
from grader.grading import reference as reference_module
from grader.grading.options import GradeOptions
from grader.intake import submissions
from grader.intake.assignment import find_assignment, load_assignment


@pytest.fixture
def runs_of_the_reference(monkeypatch):
    """How many times the reference ran in a sandbox."""
    count = []
    original = reference_module.run_submission

    def counted(submission, *args, **kwargs):
        count.append(submission.student)
        return original(submission, *args, **kwargs)

    monkeypatch.setattr(reference_module, "run_submission", counted)
    return count


def _class(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(EXAMPLES / "custom_layer" / "alice.py", folder / "alice.py")
    shutil.copy(EXAMPLES / "custom_layer" / "rupert.py", folder / "rupert.py")
    return folder


def _grade(assignment, folder, out, **options):
    found = submissions.discover(folder, assignment.entry_rule)
    batch = grading.grade(assignment, found, GradeOptions(jobs=1, timeout=20, **options), out_dir=out)
    return {o.student + "/" + o.test: o.passed for o in batch.outcomes}


def test_a_regrade_reads_the_kept_reference(tmp_path, runs_of_the_reference):
    assignment, folder, out = find_assignment("custom_layer"), _class(tmp_path), tmp_path / "out"
    first = _grade(assignment, folder, out)
    assert len(runs_of_the_reference) == 1
    kept = list((out / reference_module.FOLDER).iterdir())
    assert sorted(p.suffix for p in kept) == [".json", ".obs"]
    again = _grade(assignment, folder, out, regrade=True)
    assert len(runs_of_the_reference) == 1, "the regrade ran the reference again"
    assert again == first
    other = tmp_path / "other"
    _grade(assignment, folder, other)  # another report folder: its own reference run
    assert len(runs_of_the_reference) == 2


def test_a_changed_assignment_runs_the_reference_again(tmp_path, runs_of_the_reference):
    root = tmp_path / "assignments" / "custom_layer"
    shutil.copytree(find_assignment("custom_layer").root, root)
    shutil.copy(find_assignment("custom_layer").reference, root / "reference.py")
    (root / "assignment.toml").write_text((root / "assignment.toml").read_text()
                                          + '\nreference = "reference.py"\n')
    folder, out = _class(tmp_path), tmp_path / "out"
    _grade(load_assignment(root), folder, out)
    (root / "reference.py").write_text((root / "reference.py").read_text() + "\nBROKEN = 1 / 0\n")
    with pytest.raises(GraderError, match="reference of custom_layer failed"):
        _grade(load_assignment(root), folder, out, regrade=True)  # never the kept observations
    assert len(runs_of_the_reference) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other probes"])
def test_a_damaged_kept_reference_is_run_again(tmp_path, runs_of_the_reference, damage):
    assignment, folder, out = find_assignment("custom_layer"), _class(tmp_path), tmp_path / "out"
    first = _grade(assignment, folder, out)
    obs = next((out / reference_module.FOLDER).glob("*.obs"))
    record = obs.with_suffix(".json")
    if damage == "garbage":
        obs.write_bytes(b"\x00" * 100 + b"not frames")
    elif damage == "truncated":
        obs.write_bytes(obs.read_bytes()[: obs.stat().st_size // 2])
    else:
        record.write_text(record.read_text().replace('"probes": [', '"probes": ["forward_gone", '))
    assert _grade(assignment, folder, out, regrade=True) == first
    assert len(runs_of_the_reference) == 2
