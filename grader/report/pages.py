"""What every page of the report shares: the templates (autoescaped), the Content-Security-Policy,
a failure in one line, and the names students get in file names and tables. The bottom of
``grader.report``: it imports no other report module but ``escaping``."""

from __future__ import annotations

import functools
import hashlib
from typing import TYPE_CHECKING, Any

from grader.report.escaping import bound

if TYPE_CHECKING:
    from grader.grading.batch import BatchResult

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def first_line(headline: str, likely_cause: str) -> str:
    """A failure in one line: its headline, and its likely cause when there is one (the columns of
    :func:`grader.report.tables.results_table`)."""
    return headline + (f" (likely cause: {likely_cause})" if likely_cause else "")


def render(template: str, **context: Any) -> str:
    """A template of grader/templates, with autoescape on (every value is HTML-escaped)."""
    return _templates().get_template(template).render(**context)


def compile_templates() -> None:
    """Compile the report's and the feedback's templates now (tens of milliseconds), e.g. in
    ``grader grade``'s background thread while the sandboxes run, not when the report is due."""
    for name in ("report.html.j2", "feedback.html.j2"):
        _templates().get_template(name)


@functools.cache
def _templates():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("grader.report", "templates"), autoescape=True,
                       undefined=StrictUndefined, keep_trailing_newline=True)


_NAME_KEEP = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


MAX_NAME_BYTES = 200  # of the 255 a file name may have, leaving room for ".notebook.html"


def file_name(student: str) -> str:
    """The stem of a student's feedback files: ASCII letters, digits, ``_`` and ``-`` as they are,
    every other character (``.``, ``%``, ``/``, non-ASCII, a lone surrogate) as %XX of its UTF-8
    bytes. Two ids never share a stem, and no id's stem ends in another's ``.notebook``; a stem
    over ``MAX_NAME_BYTES`` is cut and ends in a hash of the whole id."""
    name = "".join(c if c in _NAME_KEEP else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
                   for c in student) or "%"
    if len(name) > MAX_NAME_BYTES:
        digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        name = f"{name[:MAX_NAME_BYTES - 17]}~{digest}"
    return name


def student_ids(batch: BatchResult) -> dict[str, str]:
    """Each submission's id as the report shows it: bounded, and unique (two names that differ only
    in bytes that are not UTF-8 would otherwise be shown alike)."""
    shown: dict[str, str] = {}
    taken: set[str] = set()
    for run in batch.runs:
        student = run.submission.student
        name, number = bound(student, "student"), 1
        while name in taken:
            number += 1
            name = f"{bound(student, 'student')} ({number})"
        shown[student] = name
        taken.add(name)
    return shown
