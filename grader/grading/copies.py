"""Each graded submission, kept in the report folder: ``OUT/.grader/submissions/`` (mode 0700).

A submission often lives in a temporary folder (a Canvas zip unpacked, Gradescope's upload), gone
when the grader exits; ``grader similar``, the report pages and a regrade read the copy kept here.
Each student's files lie in ``KEY/`` laid out as the sandbox showed them (the entry and, for a
folder submission, its helper modules and data files); ``index.json`` maps each student to the
entry's copy and the file's name as the student named it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from grader.files import atomic_write
from grader.intake.submissions import Submission, folder_files, open_source

FOLDER = Path(".grader") / "submissions"
INDEX = "index.json"
MAX_COPY_BYTES = 64 * 1024 * 1024  # of one submission's files; a larger one keeps its entry only


def keep(out_dir: Path, submissions: list[Submission], refresh: bool = True) -> None:
    """Copy ``submissions`` into ``out_dir``'s folder of copies (again with ``refresh``, else only
    those not copied yet), and record them in its index."""
    root = out_dir / FOLDER
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    os.chmod(root.parent, 0o700)
    index = read_index(out_dir)
    for submission in submissions:
        if submission.path is None or (not refresh and submission.student in index):
            continue
        key = _key(submission.student)
        target = root / key
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        try:
            entry = _copy(submission, target)
        except OSError:
            shutil.rmtree(target, ignore_errors=True)
            index.pop(submission.student, None)
            continue
        index[submission.student] = {"entry": f"{key}/{entry}", "file": submission.label}
    atomic_write(root / INDEX, json.dumps(index, indent=1, sort_keys=True))


def read_index(out_dir: Path) -> dict[str, dict]:
    try:
        index = json.loads((out_dir / FOLDER / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): v for k, v in index.items() if isinstance(v, dict)} if isinstance(index, dict) else {}


def entry_copy(out_dir: Path, student: str, index: dict[str, dict] | None = None) -> Path | None:
    """The kept copy of ``student``'s entry, if there is one (never a path leaving the folder)."""
    record = (index if index is not None else read_index(out_dir)).get(student, {})
    relative = record.get("entry") if isinstance(record, dict) else None
    if not isinstance(relative, str) or relative.startswith("/") or ".." in Path(relative).parts:
        return None
    path = out_dir / FOLDER / relative
    return path if path.is_file() and not path.is_symlink() else None


def _copy(submission: Submission, target: Path) -> str:
    """Copy the entry (and its folder's files) into ``target``; the entry's path inside it."""
    if submission.folder is None:
        _copy_file(submission.path, target / _plain(submission.path.name))
        return _plain(submission.path.name)
    files, total = [], 0
    for path in folder_files(submission.folder):
        total += path.lstat().st_size
        files.append(path)
    if total > MAX_COPY_BYTES:
        files = [submission.path]
    for path in files:
        relative = path.relative_to(submission.folder)
        destination = target.joinpath(*(_plain(part) for part in relative.parts))
        destination.parent.mkdir(parents=True, exist_ok=True)
        _copy_file(path, destination)
    return "/".join(_plain(part) for part in submission.path.relative_to(submission.folder).parts)


def _copy_file(source: Path, destination: Path) -> None:
    with os.fdopen(open_source(source), "rb") as data, open(destination, "xb") as out:
        shutil.copyfileobj(data, out)


def _plain(name: str) -> str:
    """A name that is valid UTF-8 and safe to create (not valid UTF-8: replaced)."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text if text not in (".", "..") else f"_{text}"


def _key(student: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", student)[:40]
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{readable}-{digest}"
