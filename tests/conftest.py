"""Shared fixtures: grade a folder of example submissions once per test session."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from grader import report
from grader.grading import batch as grading
from grader.intake import submissions
from grader.intake.assignment import find_assignment

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# `make vision` installs torchvision where a CPU build of it can be had: students' imports of it
# then work, and their downloads are what fails (no network while grading).
HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None
NO_NETWORK = "there is no network while grading"


@dataclass
class Graded:
    scores: pd.DataFrame  # indexed by student
    results: pd.DataFrame
    batch: grading.BatchResult

    def row(self, student: str) -> pd.Series:
        return self.scores.loc[student]

    def assert_row(self, student: str, expected: tuple) -> None:
        """``expected`` is (score, status, words that must appear in its messages)."""
        score, status, words = expected
        row = self.row(student)
        assert (row.score, row.status) == (score, status), row.message
        text = row.message + "\n" + self.messages(student)
        for word in words:
            assert word in text, f"{word!r} not in {text!r}"

    def messages(self, student: str) -> str:
        """Every failure message of one student and the cells that raised, joined: for asserting
        key words."""
        rows = self.results[self.results.student == student]
        run = next(r for r in self.batch.runs if r.submission.student == student)
        cells = [error.text_for(run.submission.kind) for error in run.cell_errors]
        return "\n".join([*(m for m in rows.message.fillna("") if m), *cells])


_cache: dict[tuple, Graded] = {}


def grade_folder(assignment: str, folder: Path, **options) -> Graded:
    key = (assignment, str(folder), tuple(sorted(options.items())))
    if key not in _cache:
        batch = grading.grade(find_assignment(assignment), submissions.discover(folder),
                              grading.GradeOptions(jobs=2, **options))
        results = report.results_table(batch)
        scores = report.scores_table(batch, results).set_index("student")
        _cache[key] = Graded(scores, results, batch)
    return _cache[key]


@pytest.fixture(scope="session")
def grade():
    """``grade(assignment, folder, **options)``: a :class:`Graded` (cached for the session)."""
    return grade_folder
