"""What CI reports about one graded submission, as structured values every format writes
(:mod:`grader.ci.formats`, :mod:`grader.ci.classroom50`) and the CI door builds
(:mod:`grader.ci.runner`)."""

from __future__ import annotations

from dataclasses import dataclass, field

HIDDEN_OUTPUT = "This is a hidden test: it counts towards your grade, but its details are not shown."


@dataclass(frozen=True)
class TestResult:
    """One test's result for one submission."""

    test: str  # the test function's name, e.g. test_forward_values
    description: str  # what the student reads
    score: float
    max_score: float
    passed: bool
    hidden: bool
    message: str  # the failure's explanation (never shown to students for hidden tests)
    headline: str = ""  # the failure in one line (grader.model.diagnosis)
    likely_cause: str = ""


@dataclass(frozen=True)
class SubmissionResult:
    """What CI reports about one graded submission."""

    assignment: str
    title: str
    file: str  # as given on the command line
    status: str  # graded, error, timeout, killed, or missing (the file could not be graded at all)
    message: str  # the run's one-line message (a failing cell, a time-out), or ""
    seconds: float
    tests: tuple[TestResult, ...]
    notes: tuple[str, ...] = field(default=())
    settings: dict = field(default_factory=dict)  # the assignment.toml's [gradescope] table
    environment: dict = field(default_factory=dict)  # where it was graded (grader.version.environment)

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    @property
    def percent(self) -> float:
        return round(100 * self.score / self.max_score, 1) if self.max_score else 0.0

    def below(self, percent: float) -> bool:
        """Whether the score is below ``percent`` of the points (compared unrounded)."""
        return self.score * 100 < percent * self.max_score or (not self.max_score and percent > 0)

    def headline(self) -> str:
        """``custom_layer: 5 / 10 points (50%)``."""
        return f"{self.assignment}: {self.score:g} / {self.max_score:g} points ({self.percent:g}%)"


def student_message(test: TestResult) -> str:
    """What a student may read of a test's failure: nothing for a hidden test's."""
    if test.passed:
        return ""
    return HIDDEN_OUTPUT if test.hidden else (test.message or "failed")
