"""The result model: what a grading run produces, as structured values written once where they
arise and read by the report, the CI formats and the HTML page (never re-parsed from text).

- :class:`Status`: how a submission's run ended (a ``str`` enum: compares and prints as its value).
- :class:`Mismatch`: why a check failed: a headline, detail lines and the likely cause; its
  :meth:`~Mismatch.text` is the message students read.
- :class:`TestOutcome`: one test's result for one student, with the failure's headline and likely
  cause when the judge knew them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

LIKELY_CAUSE = "Likely cause: "


class Status(StrEnum):
    """How a submission's run ended; the README's status table says what each means."""

    GRADED = "graded"
    ERROR = "error"
    TIMEOUT = "timeout"
    KILLED = "killed"
    MISSING = "missing"


@dataclass(frozen=True)
class Mismatch:
    """Why the student's observation differs from the reference's."""

    headline: str  # one line: what differs, e.g. "forward(x): values differ"
    details: tuple[str, ...] = ()  # further lines: counts, largest differences, where
    likely_cause: str = ""  # the recognised mistake, or ""

    @classmethod
    def of_text(cls, message: str) -> Mismatch:
        """A message given as free text (an author's ``fail(...)``): its first line heads it."""
        headline, *details = message.split("\n")
        return cls(headline, tuple(details))

    def text(self) -> str:
        """The message as students read it."""
        cause = [f"{LIKELY_CAUSE}{self.likely_cause}"] if self.likely_cause else []
        return "\n".join([self.headline, *self.details, *cause])


@dataclass
class TestOutcome:
    """One test's result for one student."""

    __test__ = False  # not a pytest test class

    student: str
    test: str
    description: str
    points: float
    hidden: bool
    passed: bool
    message: str
    headline: str = ""  # the failure's one line, when the judge knew it (see :class:`Mismatch`)
    likely_cause: str = ""

    def diagnosis(self) -> tuple[str, str]:
        """(headline, likely cause) of a failure: see :func:`diagnosis`."""
        return diagnosis(self.headline, self.likely_cause, self.message)


def diagnosis(headline: str, likely_cause: str, message: str | None) -> tuple[str, str]:
    """A failure's (headline, likely cause): the judge's fields when it set them; for a result
    without them (a plain ``assert``, an outcome read back from an older journal), the message's
    first non-blank line and its ``Likely cause:`` line."""
    if headline:
        return headline, likely_cause
    lines = [line.strip() for line in (message or "failed").splitlines() if line.strip()] or ["failed"]
    cause = next((line for line in lines[1:] if line.startswith(LIKELY_CAUSE)), "")
    return lines[0], cause[len(LIKELY_CAUSE):]


def gist(headline: str, likely_cause: str) -> str:
    """A failure in one line: its headline, with its likely cause when there is one."""
    return headline + (f"; likely cause: {likely_cause}" if likely_cause else "")
