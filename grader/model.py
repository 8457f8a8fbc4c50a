"""The result model: what a grading run produces, as structured values written once where they
arise and read by the report, the CI formats and the HTML page (never re-parsed from text).

- :class:`Status`: how a submission's run ended (a ``str`` enum: compares and prints as its value).
- :class:`Mismatch`: why a check failed: a headline, detail lines and the likely cause; its
  :meth:`~Mismatch.text` is the message students read.
- :class:`TestOutcome`: one test's result for one student, with the failure's headline and likely
  cause when the judge knew them.
- :class:`CellError`: a cell (or a script's statement) of the student's that raised while it ran;
  its :meth:`~CellError.text_for` is the one line every report shows of it.
- :class:`Decision`: what a heuristic decided for a student (a graced name, a chosen definition,
  candidate or attribute, an error blamed on the student's code), carried on the outcomes that
  relied on it, with the ``overrides.csv`` lines that would reverse it.
- :class:`ErrorGroup`: a failed cell with the NameErrors that follow from it (a failed import, a
  download: the names it would have defined, used later); :func:`group_errors` makes them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

LIKELY_CAUSE = "Likely cause: "
TOTAL = "total"  # an adjustment row's test: the student's whole score (an override)
LATE = "late"  # an adjustment row's test: the late penalty (see grader.course.late)


def observed_device(tensor: Any) -> str:
    """The device a decoded tensor lived on in the sandbox (``"cpu"``, ``"cuda:0"``...): the wire
    records it on each tensor it decodes."""
    return getattr(tensor, "observed_device", str(getattr(tensor, "device", "cpu")))


class Status(StrEnum):
    """How a submission's run ended; docs/report.md's status table says what each means."""

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
    def of_text(cls, message: str | None) -> Mismatch:
        """A message given as free text (an author's ``fail(...)``, a probe that raised): its first
        non-blank line heads it, a ``Likely cause:`` line is its likely cause."""
        lines = [line.rstrip() for line in (message or "failed").splitlines() if line.strip()] or ["failed"]
        cause = next((line.strip() for line in lines[1:] if line.strip().startswith(LIKELY_CAUSE)), "")
        details = tuple(line for line in lines[1:] if line.strip() != cause)
        return cls(lines[0].strip(), details, cause[len(LIKELY_CAUSE):])

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
    assignment_error: str = ""  # when the assignment's own code raised: its kind, file and line
    decisions: list[dict[str, Any]] = field(default_factory=list)  # Decision.as_dict() of each it relied on

    def diagnosis(self) -> tuple[str, str]:
        """(headline, likely cause) of a failure: see :func:`diagnosis`."""
        return diagnosis(self.headline, self.likely_cause, self.message)


def diagnosis(headline: str, likely_cause: str, message: str | None) -> tuple[str, str]:
    """A failure's (headline, likely cause): the judge's fields when it set them; for a result
    without them (a plain ``assert``, an outcome read back from an older journal), the message's
    first non-blank line and its ``Likely cause:`` line."""
    if headline:
        return headline, likely_cause
    parsed = Mismatch.of_text(message)
    return parsed.headline, parsed.likely_cause


def gist(headline: str, likely_cause: str) -> str:
    """A failure in one line: its headline, with its likely cause when there is one."""
    return headline.rstrip().rstrip(":") + (f"; likely cause: {likely_cause}" if likely_cause else "")


PLAIN_TYPES = frozenset({"NoNetwork", "NoGPU"})  # the sandbox's plain-words errors: the message says it all
# Exceptions that no value a student's code returns can cause in a check's own code: raised there,
# they are the assignment's fault (ToleranceError: grader.judge.compare's, for rtol without atol).
ASSIGNMENT_BUGS = frozenset({"NameError", "UnboundLocalError", "ImportError", "ModuleNotFoundError",
                             "SyntaxError", "ToleranceError"})


def assignment_fault(kind: str, at: str, message: str) -> str:
    """What a student reads when the assignment's own code (``at``: file, line and code) raised."""
    return (f"the assignment's check raised {kind} ({at}){': ' + message if message else ''}. This is a "
            "fault of the assignment's tests, not of your code: tell your instructor")


def failing_cells(count: int, kind: str, more: bool = False) -> str:
    """``2 failing cells`` (``2 more failing cells``); a script's (``kind`` ``py``) are ``2 errors``:
    its cells may be statements."""
    unit = "error" if kind == "py" else "failing cell"
    return f"{count} {'more ' if more else ''}{unit}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class CellError:
    """A cell of the student's (a script's statement or ``# %%`` cell) that raised while it ran.

    ``cell`` counts code cells from 1 (Markdown cells are not counted), as every report does;
    ``line`` is the line within the cell named by ``where`` (a script's lines are the file's)."""

    cell: int | None  # the code cell that ran (None when unknown)
    type: str  # the exception's class name, or SoftTimeout / NoNetwork / NoGPU / MemoryError
    message: str = ""
    line: int | None = None  # where the student's code raised, when it was the student's
    text: str = ""  # that line's code
    where: str = ""  # "cell N" (or a helper module's file name) holding that line
    defines: tuple[str, ...] = ()  # the names the cell would have defined
    not_run: bool = False  # a SoftTimeout: the time limit was used up before this cell
    missing: str = ""  # a NameError's name (a failed cell's ``defines`` may explain it)
    module: str = ""  # a ModuleNotFoundError's package (``torchvision`` for ``torchvision.transforms``)

    @classmethod
    def of_value(cls, value: Any) -> CellError | None:
        """The error a sandbox (or a journal) described as a dict; None for anything else. Only
        fields of the right type are kept: the sandbox is the student's process."""
        if not isinstance(value, dict):
            return None

        def text(key: str) -> str:
            return value[key] if isinstance(value.get(key), str) else ""

        def number(key: str) -> int | None:
            return value[key] if type(value.get(key)) is int else None

        defines = value.get("defines")
        return cls(cell=number("cell"), type=text("type") or "Error", message=text("message"),
                   line=number("line"), text=text("text"), where=text("where"),
                   defines=tuple(d for d in defines if isinstance(d, str)) if isinstance(defines, list) else (),
                   not_run=value.get("not_run") is True, missing=text("missing")[:200],
                   module=text("module")[:100])

    def as_dict(self) -> dict[str, Any]:
        """The error as the journal stores it (what :meth:`of_value` reads back)."""
        return {**asdict(self), "defines": list(self.defines)}

    def text_for(self, kind: str) -> str:
        """``cell 3: NameError at line 2 `x + y`: name 'y' is not defined``. A ``.py`` (``kind``)
        names no cell: its lines are the file's; a line in another cell than the one that ran
        names that cell."""
        where = "" if kind == "py" or self.cell is None else f"cell {self.cell}: "
        line = ""
        if self.line:
            elsewhere = kind != "py" and self.where.startswith("cell ") and self.where != f"cell {self.cell}"
            line = f" at line {self.line}" + (f" of {self.where}" if elsewhere else "")
        code = f" `{self.text}`" if self.text else ""
        if self.type == "SoftTimeout":
            if self.not_run:
                return f"{where}not run: the time limit was used up by earlier cells"
            stopped = f"stopped{line}{code}" if line else "stopped"
            return f"{where}{stopped} at the time limit: an endless loop, or code too slow to grade?"
        if self.type in PLAIN_TYPES:
            return f"{where}{self.message}{' (' + line.strip() + code + ')' if line else ''}"
        message = f": {self.message}" if self.message else ""
        return f"{where}{self.type}{line}{code}{message}"


DECISION_KINDS = frozenset({"name", "definition", "attribute", "signature", "error"})
GRANTED = frozenset({"name", "definition", "attribute"})  # decisions that gave points: reversed to 0
REVIEWER = "TA"  # the ``who`` of a suggested override line


@dataclass(frozen=True)
class Decision:
    """What a heuristic decided for one student, for a TA to review: ``kind`` is ``name`` (a
    graced name or candidate), ``definition`` (one of several definitions), ``attribute`` (a
    tensor found by shape and role), ``signature`` or ``error`` (a failure blamed on the
    student's code rather than the assignment); ``text`` says it in a sentence."""

    kind: str
    text: str

    @classmethod
    def of_value(cls, value: Any) -> Decision | None:
        """A decision as a probe (the student's process) or a journal described it; None for
        anything else. Fields are bounded: the sandbox is the student's process."""
        if not isinstance(value, dict) or value.get("kind") not in DECISION_KINDS:
            return None
        text = value.get("text")
        text = " ".join(text.split())[:300] if isinstance(text, str) else ""  # one line: pasted as CSV
        return cls(str(value["kind"]), text)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def override_line(self, student: str, test: str, points: float) -> str:
        """The ``overrides.csv`` row that reverses this decision for ``test``: a granted one (a
        name, a definition, an attribute) takes the test's points away; a blamed error gives them
        back (``points``: the test's worth)."""
        value = 0 if self.kind in GRANTED else points
        reason = f"reverses: {self.text}".replace('"', "'")
        return ",".join([_csv_field(student), _csv_field(test), f"{value:g}", _csv_field(reason), REVIEWER])


def _csv_field(text: str) -> str:
    return f'"{text}"' if any(c in text for c in ',"\n') else text
FOLLOWING_ERRORS = frozenset({"NameError", "UnboundLocalError"})  # what a name never defined raises


@dataclass(frozen=True)
class ErrorGroup:
    """A cell that raised, with the later errors that follow from it: a NameError for a name the
    cell (or one of its followers) would have defined. ``errors[0]`` is the cause."""

    errors: tuple[CellError, ...]

    @property
    def cause(self) -> CellError:
        return self.errors[0]

    @property
    def following(self) -> tuple[CellError, ...]:
        return self.errors[1:]

    def text_for(self, kind: str) -> str:
        """The cause's line; with followers, ``import tensorflow`` failed (line 3); 26 later errors
        follow from it: ModuleNotFoundError: ...``."""
        cause = self.cause
        if not self.following:
            return cause.text_for(kind)
        count = len(self.following)
        follow = f"{count} later error{'s follow' if count > 1 else ' follows'} from it"
        where = "" if kind == "py" or cause.cell is None else f"cell {cause.cell}: "
        if not cause.text or cause.line is None:
            return f"{where}{cause.type}{': ' + cause.message if cause.message else ''}; {follow}"
        said = cause.message if cause.type in PLAIN_TYPES else (
            f"{cause.type}: {cause.message}" if cause.message else cause.type)
        return f"{where}`{cause.text}` failed (line {cause.line}); {follow}: {said}"

    def details_for(self, kind: str, limit: int = 5) -> str:
        """The later errors, one line each (``limit`` at most, then how many more)."""
        lines = [f"  then {error.text_for(kind)}" for error in self.following[:limit]]
        if len(self.following) > limit:
            lines.append(f"  and {len(self.following) - limit} more like them")
        return "\n".join(lines)


def group_errors(errors: list[CellError]) -> list[ErrorGroup]:
    """``errors`` (in the order they ran) grouped by cause: a NameError for a name an earlier
    failed cell would have defined joins that cell's group (transitively: ``model = tf.keras...``
    failing after ``import tensorflow as tf`` passes the cause on to ``model.fit``), and so does
    another failed import of a package whose import failed before."""
    groups: list[list[CellError]] = []
    group_of: dict[str, int] = {}  # a name a failed cell would have defined -> its group
    package_of: dict[str, int] = {}  # a package whose import failed -> the group of its first failure
    for error in errors:
        index = group_of.get(error.missing) if error.type in FOLLOWING_ERRORS and error.missing else None
        if index is None and error.module:  # `import torchvision.transforms` after `import torchvision`
            index = package_of.get(error.module)
            package_of.setdefault(error.module, len(groups) if index is None else index)
        if index is None:
            groups.append([error])
            index = len(groups) - 1
        else:
            groups[index].append(error)
        for name in error.defines:  # the last failed definition of a name is the one missed
            group_of[name] = index
    return [ErrorGroup(tuple(group)) for group in groups]


def errors_summary(errors: list[CellError], kind: str) -> str:
    """``3 errors``; with followers ``1 error, and 26 later errors that follow from it``."""
    groups = group_errors(errors)
    following = sum(len(group.following) for group in groups)
    if not following:
        return failing_cells(len(errors), kind)
    later = f"{following} later error{'s that follow' if following > 1 else ' that follows'}"
    causes = "it" if len(groups) == 1 else "them"
    return f"{failing_cells(len(groups), kind)}, and {later} from {causes}"


class NoObservation(Exception):
    """The student's probe produced no observation; the message says why, for the student. A probe
    that raised on a student's work is the student's (the sandbox is the student's process, so
    its word on where an exception came from cannot decide blame): ``assignment_error`` stays
    empty unless a trusted caller knows the assignment is at fault."""

    def __init__(self, message: str, assignment_error: str = "", blamed: str = "") -> None:
        super().__init__(message)
        self.assignment_error = assignment_error
        self.blamed = blamed  # a heuristic blamed the student's code for this error: why, for review
