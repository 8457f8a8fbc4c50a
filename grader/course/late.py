"""The late policy: a deadline in ``assignment.toml`` and what a late submission loses.

```toml
[late]
deadline = "2025-03-14T23:59:00+01:00"   # ISO 8601, with its zone
grace_minutes = 15                       # optional: late by less than this is on time
per_day = 10                             # percent of the earned score lost per started day, or
curve = [[1, 0.9], [3, 0.7], [7, 0.0]]   # instead: up to N days late, the score is multiplied by M
cap = 50                                 # optional: never more than this percent is lost
```

Each submission's time comes from what was recorded when it was handed in (the LMS archive, the
roster's ``submitted_at`` column), never from the file's modification time unless asked
(``--late-from-mtime``): copying a folder changes modification times, and a regrade must give the
same penalty. Times without a zone are read in the deadline's zone.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from grader.errors import GraderError

TIME_COLUMN = "submitted_at"  # in the roster


@dataclass(frozen=True)
class LatePolicy:
    deadline: datetime
    per_day: float | None = None  # percent per started day
    curve: tuple[tuple[float, float], ...] = ()  # (days late up to, multiplier), ascending
    cap: float = 100.0  # percent
    grace: timedelta = timedelta(0)

    def days_late(self, submitted: datetime) -> int:
        """Started days after the deadline (and its grace): 0 when on time."""
        late = submitted - self.deadline - self.grace
        return max(0, math.ceil(late / timedelta(days=1))) if late > timedelta(0) else 0

    def lost(self, days: int) -> float:
        """The fraction of the score lost ``days`` late (0.2 for 20%)."""
        if days <= 0:
            return 0.0
        if self.curve:
            multiplier = next((m for d, m in self.curve if days <= d), self.curve[-1][1])
            fraction = 1.0 - multiplier
        else:
            fraction = (self.per_day or 0.0) * days / 100
        return min(max(fraction, 0.0), self.cap / 100)

    def describe(self) -> dict[str, Any]:
        """For ``run.json``."""
        return {"deadline": self.deadline.isoformat(), "per_day": self.per_day,
                "curve": [list(point) for point in self.curve], "cap": self.cap,
                "grace_minutes": self.grace / timedelta(minutes=1)}


def policy_of(config: dict[str, Any], where: str) -> LatePolicy | None:
    """The ``[late]`` table of an assignment.toml, or None; a malformed one is one clear error."""
    late = config.get("late")
    if late is None:
        return None
    if not isinstance(late, dict) or "deadline" not in late:
        raise GraderError(f"{where}: [late] needs a deadline, e.g. deadline = \"2025-03-14T23:59:00+01:00\"")
    deadline = parse_time(late["deadline"], None, f"{where}: [late] deadline")
    per_day, curve = late.get("per_day"), late.get("curve")
    if (per_day is None) == (curve is None):
        raise GraderError(f"{where}: [late] needs either per_day = PERCENT or curve = [[DAYS, "
                          "MULTIPLIER], ...], not both and not neither")
    points: tuple[tuple[float, float], ...] = ()
    if curve is not None:
        try:
            points = tuple((float(d), float(m)) for d, m in curve)
        except (TypeError, ValueError):
            raise GraderError(f"{where}: [late] curve must be a list of [days, multiplier] pairs, "
                              "e.g. [[1, 0.9], [3, 0.7], [7, 0.0]]") from None
        if not points or any(b[0] <= a[0] for a, b in zip(points, points[1:], strict=False)) or any(
                not 0 <= m <= 1 for _, m in points):
            raise GraderError(f"{where}: [late] curve needs days in increasing order and "
                              "multipliers between 0 and 1")
    numbers = {"per_day": per_day, "cap": late.get("cap", 100), "grace_minutes": late.get("grace_minutes", 0)}
    for key, value in numbers.items():
        if value is not None and (not isinstance(value, int | float) or value < 0):
            raise GraderError(f"{where}: [late] {key} must be a number of at least 0")
    return LatePolicy(deadline, None if per_day is None else float(per_day), points,
                      float(numbers["cap"]), timedelta(minutes=float(numbers["grace_minutes"])))


def policy_for(assignment: Any) -> LatePolicy | None:
    """The late policy of an assignment's ``assignment.toml``, or None."""
    import tomllib

    path = assignment.root / "assignment.toml"
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # load_assignment has already said what is wrong with it
    return policy_of(config, str(path))


def parse_time(value: Any, zone_of: datetime | None, where: str) -> datetime:
    """An ISO 8601 time (a TOML datetime too); without a zone it takes ``zone_of``'s, or is an error."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise GraderError(f"{where}: cannot read the time {value!r}: write it as ISO 8601, "
                              "e.g. 2025-03-14T23:59:00+01:00") from None
    if moment.tzinfo is None:
        if zone_of is None:
            raise GraderError(f"{where}: the time {value!r} has no zone: add one, e.g. +01:00 or Z")
        moment = moment.replace(tzinfo=zone_of.tzinfo)
    return moment


def roster_times(roster: Path, policy: LatePolicy) -> dict[str, datetime]:
    """The roster's ``submitted_at`` column, by student (an empty cell: no time known)."""
    with open(roster, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return {}
    header = [cell.strip().lower() for cell in rows[0]]
    if TIME_COLUMN not in header or "student" not in header:
        return {}
    at, who = header.index(TIME_COLUMN), header.index("student")
    times = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) > max(at, who) and row[at].strip():
            times[row[who].strip()] = parse_time(row[at], policy.deadline, f"{roster.name}, line {line}")
    return times


def submission_time(submission: Any, policy: LatePolicy, from_mtime: bool) -> datetime | None:
    """When the LMS says ``submission`` was handed in; its file's modification time only when
    ``from_mtime`` (a regrade of a copied folder would change it)."""
    recorded = getattr(submission, "submitted_at", None)
    if recorded is not None:
        return parse_time(recorded, policy.deadline, f"submission {submission.student}")
    if from_mtime and submission.path is not None:
        try:
            return datetime.fromtimestamp(Path(submission.path).stat().st_mtime, policy.deadline.tzinfo)
        except OSError:
            return None
    return None
