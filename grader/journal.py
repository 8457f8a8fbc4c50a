"""The journal: every graded submission, appended as it is judged, so that nothing graded is lost.

``OUT_DIR/.grader/journal.jsonl`` holds one JSON line per graded submission, flushed and synced
as it is written: a crash or Ctrl-C loses at most the submissions in flight (a torn last line is
ignored). Running the same command again reuses every entry whose submission file, assignment
fingerprint and grading options are unchanged, and grades only what is new or changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from grader.plugin import TestOutcome
from grader.submissions import Submission

JOURNAL_NAME = "journal.jsonl"


def content_hash(submission: Submission) -> str:
    """A hash of the submission's bytes (or of its problem, when it has no readable file)."""
    digest = hashlib.sha256(submission.problem.encode() if submission.problem else b"")
    if submission.path is not None:
        try:
            with open(submission.path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError as error:
            digest.update(str(error).encode())
    return digest.hexdigest()


class Journal:
    """Append-only record of one output folder's grading, keyed by what makes a grade valid."""

    def __init__(self, out_dir: Path, key: dict[str, Any]) -> None:
        self.path = out_dir / ".grader" / JOURNAL_NAME
        self.key = key

    def completed(self, submissions: list[Submission]) -> dict[str, dict]:
        """Entries that can be reused: same student, same file content, same key."""
        wanted = {s.student: content_hash(s) for s in submissions}
        found: dict[str, dict] = {}
        for entry in self._entries():
            student = entry.get("student")
            if entry.get("key") == self.key and wanted.get(student) == entry.get("hash"):
                found[student] = entry
        return found

    def append(self, submission: Submission, run: dict[str, Any], outcomes: list[TestOutcome],
               protections: dict[str, bool]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "student": submission.student,
            "hash": content_hash(submission),
            "key": self.key,
            "run": run,
            "outcomes": [asdict(o) for o in outcomes],
            "protections": protections,
        }
        line = json.dumps(entry, allow_nan=True) + "\n"
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def _entries(self) -> list[dict]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []
        entries = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:  # a line torn by a crash
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries


def outcomes_of(entry: dict) -> list[TestOutcome]:
    return [TestOutcome(**outcome) for outcome in entry.get("outcomes", [])]
