"""The journal: every graded submission, appended as it is judged, so that nothing graded is lost.

``OUT_DIR/.grader/journal.jsonl`` holds one JSON line per graded submission, written with one
``write`` under an exclusive lock, then synced: a crash or ``kill -9`` loses at most the
submissions in flight. Running the same command again reuses every entry whose submission file,
assignment fingerprint, grading options and grader version are unchanged, and grades only what is
new or changed (a student's newest entry wins, so a row never appears twice).

Reading is tolerant: a line torn by a crash, a line that is not JSON or not UTF-8, and an entry
that lacks a field or holds one of the wrong type are skipped (their students are graded again),
and entries of another grader version or other options are not reused. :attr:`Journal.notes` says
what was skipped; nothing in the file can stop a batch.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from dataclasses import MISSING, asdict, fields
from pathlib import Path
from typing import Any

from grader.intake.submissions import Submission, folder_files, open_source
from grader.model import TestOutcome

JOURNAL_NAME = "journal.jsonl"
log = logging.getLogger(__name__)  # notes reach stderr even when nobody configured logging
FORMAT = 2  # of an entry; entries of format 1 (no "format" field) are read the same way
_OUTCOME_FIELDS = {f.name for f in fields(TestOutcome)}
_OUTCOME_REQUIRED = {f.name for f in fields(TestOutcome) if f.default is MISSING}  # older entries: no others
_RUN_TYPES = {"status": str, "message": str, "seconds": (int, float), "code_seconds": (int, float),
              "load": dict, "output": str}


def content_hash(submission: Submission) -> str:
    """A hash of the submission's bytes (or of its problem, when it has no readable file), read
    without following a link."""
    digest = hashlib.sha256(submission.problem.encode("utf-8", "replace") if submission.problem else b"")
    if submission.path is not None:
        _hash_file(digest, submission.path)
    if submission.folder is not None:  # its helper modules and data files are graded too
        try:
            others = [p for p in folder_files(submission.folder) if p != submission.path]
        except OSError as error:
            others = []
            digest.update(str(error.strerror).encode("utf-8", "replace"))
        for path in others:
            digest.update(b"\0" + os.fsencode(path.relative_to(submission.folder)) + b"\0")
            _hash_file(digest, path)
    return digest.hexdigest()


def _hash_file(digest, path: Path) -> None:
    try:
        with os.fdopen(open_source(path), "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        digest.update(str(error.strerror).encode("utf-8", "replace"))


class Journal:
    """Append-only record of one output folder's grading, keyed by what makes a grade valid."""

    def __init__(self, out_dir: Path, key: dict[str, Any]) -> None:
        self.path = out_dir / ".grader" / JOURNAL_NAME
        self.key = key
        self.notes: list[str] = []  # what reading skipped, for the instructor

    def completed(self, submissions: list[Submission]) -> dict[str, dict]:
        """Entries that can be reused: same student, same file content, same key; the newest
        valid one per student."""
        wanted = {s.student: content_hash(s) for s in submissions}
        found: dict[str, dict] = {}
        unreadable, stale = 0, set()
        for entry in self._entries():
            if entry is None:
                unreadable += 1
                continue
            student = entry["student"]
            if entry["key"] != self.key:
                stale.add(student)
            elif wanted.get(student) == entry["hash"]:
                found[student] = entry
        if unreadable:
            self.notes.append(f"{unreadable} unreadable line(s) of {self.path} were skipped "
                              "(torn by a crash, or written by another program)")
        stale = (stale & set(wanted)) - set(found)
        if stale:
            self.notes.append(f"{len(stale)} submission(s) graded before by another grader version "
                              "or with other options are graded again")
        for note in self.notes:
            log.warning("note: %s", note)
        return found

    def append(self, submission: Submission, run: dict[str, Any], outcomes: list[TestOutcome],
               protections: dict[str, bool]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "format": FORMAT,
            "student": submission.student,
            "hash": content_hash(submission),
            "key": self.key,
            "run": run,
            "outcomes": [asdict(o) for o in outcomes],
            "protections": protections,
        }
        line = json.dumps(entry, allow_nan=True).encode("ascii") + b"\n"  # \u-escapes any surrogate
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # another grader on the same folder waits its turn
            end = os.lseek(fd, 0, os.SEEK_END)
            if end and os.pread(fd, 1, end - 1) != b"\n":  # a line torn by a crash: end it first
                line = b"\n" + line
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock

    def _entries(self) -> list[dict | None]:
        """Every line's entry, in order; None for a line that cannot be used."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:
            self.notes.append(f"cannot read {self.path} ({error.strerror}): everything is graded again")
            return []
        return [valid_entry(line) for line in data.splitlines() if line.strip()]


def valid_entry(line: bytes) -> dict | None:
    """The entry of one journal line, checked field by field; None when any part is unusable."""
    try:
        entry = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("student"), str):
        return None
    if not isinstance(entry.get("hash"), str) or not isinstance(entry.get("key"), dict):
        return None
    run = entry.get("run", {})
    if not isinstance(run, dict) or any(
            key in run and not isinstance(run[key], kinds) for key, kinds in _RUN_TYPES.items()):
        return None
    outcomes = entry.get("outcomes", [])
    if not isinstance(outcomes, list) or not all(_valid_outcome(o) for o in outcomes):
        return None
    if not isinstance(entry.get("protections", {}), dict):
        return None
    return entry


def _valid_outcome(outcome: Any) -> bool:
    if not isinstance(outcome, dict) or not _OUTCOME_REQUIRED <= set(outcome) <= _OUTCOME_FIELDS:
        return False
    kinds = {"student": str, "test": str, "description": str, "points": (int, float),
             "hidden": bool, "passed": bool, "message": str, "headline": str, "likely_cause": str,
             "assignment_error": str}
    return all(isinstance(outcome[name], kinds.get(name, object)) for name in outcome)


def outcomes_of(entry: dict) -> list[TestOutcome]:
    return [TestOutcome(**outcome) for outcome in entry.get("outcomes", [])]
