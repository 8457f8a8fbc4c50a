"""The class statistics, defined once: the terminal summary, ``report.html``, its plot and ``run.json``
all show these numbers.

Mean, median and pass rate (full marks) are over the students who handed something in; a student of
the roster who handed nothing in (status ``missing``) is counted apart, never as a 0 in the mean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MISSING = "missing"


def handed_in(scores: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``scores`` of the students who handed something in (every status but missing)."""
    return scores[scores.status != MISSING] if len(scores) else scores


def class_statistics(scores: pd.DataFrame) -> dict[str, Any]:
    """Students, handed in, missing, maximum, mean and median score, passed and pass rate (percent),
    and the count of each status, as numbers (``None`` for a mean of nobody)."""
    students = len(scores)
    counted = handed_in(scores)
    count = len(counted)
    max_score = float(scores.max_score.max()) if students else 0.0
    passed = int(((counted.score >= counted.max_score) & (counted.max_score > 0)).sum()) if count else 0
    statuses = scores.status.value_counts() if students else {}
    return {
        "students": students,
        "handed_in": count,
        "missing": students - count,
        "max_score": max_score,
        "mean": round(float(counted.score.mean()), 2) if count else None,
        "median": float(counted.score.median()) if count else None,
        "passed": passed,
        "pass_rate": round(100 * passed / count, 1) if count else 0.0,
        "statuses": {str(status): int(number) for status, number in
                     sorted(dict(statuses).items(), key=lambda item: -item[1])},
    }


def summary_line(statistics: dict[str, Any]) -> str:
    """The statistics in one line of text (the terminal's summary)."""
    s = statistics
    mean = "-" if s["mean"] is None else f"{s['mean']:.2f}"
    median = "-" if s["median"] is None else f"{s['median']:g}"
    missing = f"; {s['missing']} handed nothing in (not counted)" if s["missing"] else ""
    return (f"mean {mean} / {s['max_score']:g}, median {median}, full marks {s['pass_rate']:g} % "
            f"({s['passed']} of {s['handed_in']} who handed in{missing})")


def run_line(head: dict) -> str:
    """The header in one line: how many submissions, how many of them this run graded, and how long
    it took (the report's first line and the terminal's title)."""
    total, now = head.get("submissions", 0), head.get("graded_now", head.get("submissions", 0))
    seconds = f"{head.get('seconds', 0.0):.2f} s"
    if now == total:
        return f"{total} submissions graded in {seconds}"
    named = head.get("regraded", [])
    who = f" ({', '.join(named)}{' and more' if now > len(named) else ''})" if named else ""
    return (f"{total} submissions: {now} graded again in {seconds}{who}, "
            f"{total - now} unchanged ones taken from the previous grading")
