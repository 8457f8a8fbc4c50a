"""Finding the submissions in a folder: one per student, named by the student's id.

Everything in a submissions folder was chosen by a student, so discovery trusts none of it: it
looks at each entry with ``lstat`` and never follows a link. A top-level entry that is a link, or
a folder holding a link whose target leaves that folder, is the student's ``error`` row; a link
that stays inside the student's own folder is skipped (the file it points to counts on its own).
Only regular files are ever chosen, so what is graded for a student is a file inside that
student's own entry, reached without a link. Names that are not valid UTF-8 (``os.listdir`` gives
them as surrogate escapes) keep their raw name for opening and get a printable id.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from grader.errors import GraderError

SOURCE_SUFFIXES = (".ipynb", ".py")
IGNORED_NAMES = {"readme", "readme.md", "readme.txt", "__pycache__", ".ipynb_checkpoints"}
MAX_FOLDER_ENTRIES = 10_000  # files and folders looked at inside one student's folder
LINK_PROBLEM = "is a link to a file outside your submission: upload the file itself"


@dataclass(frozen=True)
class Submission:
    """One student's work. ``problem`` says why it cannot be run, when it cannot.

    ``path`` is the raw path (it may hold surrogate escapes: open it, show :attr:`file_name`).
    ``submitted_at`` is when the LMS says it was handed in (a naive time is the LMS's local
    time), and ``late`` whether the LMS marked it late; both None when nobody recorded them."""

    student: str
    path: Path | None
    problem: str | None = None
    submitted_at: datetime | None = None
    late: bool | None = None
    folder: Path | None = None
    """For a folder submission, the folder of its entry: its other files (helper modules, data)
    are shown beside the entry in the sandbox's working folder."""

    @property
    def kind(self) -> str:
        return "ipynb" if self.path is not None and self.path.suffix == ".ipynb" else "py"

    @property
    def file_name(self) -> str:
        """The file's name as it can be shown and written anywhere (valid UTF-8)."""
        return shown(self.path.name) if self.path is not None else ""


def shown(name: str) -> str:
    """``name`` as valid text: bytes that were not UTF-8 become U+FFFD replacement characters."""
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that did not come from the file system
        raw = name.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def discover(folder: Path, entry: str | None = None) -> list[Submission]:
    """Every student in ``folder``: ``ID.ipynb``, ``ID.py`` or a folder ``ID/`` holding one
    (``entry``: the assignment's ``[submission] entry``, the file a folder is run from)."""
    if not folder.exists():
        raise GraderError(f"submissions folder {folder} does not exist: check the path")
    if not folder.is_dir():
        raise GraderError(f"{folder} is not a folder: give the folder that holds the submissions")
    try:
        names = sorted(os.listdir(folder))
    except OSError as error:
        raise GraderError(f"cannot list {folder}: {error.strerror}") from None
    by_stem: dict[str, list[Submission]] = defaultdict(list)
    for name in names:
        if name.startswith((".", "_")) or name.lower() in IGNORED_NAMES:
            continue
        submission = _from_entry(folder.absolute() / name, entry)
        by_stem[submission.student].append(submission)
    if not by_stem:
        raise GraderError(
            f"{folder} holds no submissions: expected STUDENT.ipynb, STUDENT.py or STUDENT/ folders"
        )
    ids = student_ids(list(by_stem))
    return [_one_per_student(ids[stem], found) for stem, found in by_stem.items()]


def student_ids(stems: list[str]) -> dict[str, str]:
    """A printable, unique id for each raw stem: the stem itself when it is valid UTF-8, else its
    :func:`shown` form, with ``~`` and a hash of its bytes when that form is already taken."""
    ids = {stem: shown(stem) for stem in stems}
    taken = {stem for stem in stems if ids[stem] == stem}  # valid names keep their id
    for stem in stems:
        if ids[stem] == stem:
            continue
        others = [other for other in stems if other != stem and ids[other] == ids[stem]]
        if others or ids[stem] in taken:
            digest = hashlib.sha256(stem.encode("utf-8", "surrogateescape")).hexdigest()
            ids[stem] = f"{ids[stem]}~{digest[:8]}"
        taken.add(ids[stem])
    return ids


def single(path: Path, entry: str | None = None) -> Submission:
    """One file (or folder) given on the command line (``grader check``, ``grader ci``)."""
    if not os.path.lexists(path):
        raise GraderError(f"{path} does not exist: check the file name")
    for part in _relative_parents(path):  # a repository's folder may be a link too
        if os.path.islink(part):
            return Submission(_stem(path.name), None, f"{shown(str(part))}/ {LINK_PROBLEM}")
    submission = _from_entry(path.absolute(), entry)
    return replace(submission, student=shown(submission.student))


def _relative_parents(path: Path) -> list[Path]:
    """The folders of a relative ``path`` below the working folder (those a repository holds)."""
    if path.is_absolute():
        return []
    return [Path(*path.parts[:i]) for i in range(1, len(path.parts))]


def _stem(name: str) -> str:
    suffix = os.path.splitext(name)[1]
    return name[: -len(suffix)] if suffix in SOURCE_SUFFIXES else name


def _from_entry(entry: Path, entry_name: str | None = None) -> Submission:
    """The submission of one top-level entry; its ``student`` is still the raw stem."""
    student = _stem(entry.name)
    try:
        info = os.lstat(entry)
    except OSError as error:
        return Submission(student, None, f"cannot read {shown(entry.name)}: {error.strerror}")
    if stat.S_ISLNK(info.st_mode):
        return Submission(student, None, f"{shown(entry.name)} {LINK_PROBLEM}")
    if stat.S_ISDIR(info.st_mode):
        return _from_folder(entry, entry_name)
    if not stat.S_ISREG(info.st_mode):
        return Submission(student, None, f"{shown(entry.name)} is not a regular file: upload the "
                          "file itself")
    if entry.suffix not in SOURCE_SUFFIXES:
        return Submission(student, entry, f"{shown(entry.name)} is not a .ipynb or .py file")
    return Submission(student, entry)


def _from_folder(folder: Path, entry: str | None = None) -> Submission:
    """A folder's entry, found without following any link: the file ``entry`` names (the
    assignment's ``[submission] entry``) when the folder holds it, else its one notebook (beside
    any number of helper modules), else its one module. The entry's other files stay beside it."""
    label = shown(folder.name)
    sources: list[Path] = []
    try:
        for path, info in _walk(folder):
            relative = shown(str(path.relative_to(folder)))
            if stat.S_ISLNK(info.st_mode):
                if not _stays_inside(path, folder):
                    return Submission(folder.name, None, f"{label}/{relative} {LINK_PROBLEM}")
            elif stat.S_ISREG(info.st_mode) and path.suffix in SOURCE_SUFFIXES:
                sources.append(path)
    except _TooMany:
        return Submission(folder.name, None, f"folder {label}/ holds more than "
                          f"{MAX_FOLDER_ENTRIES} files: upload only the notebook and its helpers")
    except OSError as error:
        return Submission(folder.name, None, f"cannot read folder {label}/: {error.strerror}")
    sources.sort()
    named = _named_entry(folder, sources, entry) if entry else []
    notebooks = [p for p in sources if p.suffix == ".ipynb"]
    chosen = named or notebooks or sources
    if len(chosen) == 1:
        return Submission(folder.name, chosen[0], folder=chosen[0].parent)
    if not chosen:
        problem = f"folder {label}/ holds no .ipynb or .py file"
    else:
        names = ", ".join(shown(str(p.relative_to(folder))) for p in chosen)
        what = "files named " + entry if named else "notebooks" if notebooks else "modules"
        asked = ("keep one" if named else f"none is {entry}, the file this assignment runs"
                 if entry else "keep one notebook (helper modules may stay beside it)")
        problem = f"folder {label}/ holds several {what} ({names}): {asked}"
    return Submission(folder.name, None, problem)


def _named_entry(folder: Path, sources: list[Path], entry: str) -> list[Path]:
    """The sources matching ``entry``: by its path inside the folder, else by its file name."""
    exact = [p for p in sources if p.relative_to(folder).as_posix() == entry]
    return exact or [p for p in sources if p.name == Path(entry).name]


class _TooMany(Exception):
    pass


def folder_files(folder: Path) -> list[Path]:
    """The regular files of a folder submission's ``folder`` (not hidden, not in ``__pycache__``,
    never through a link): what its sandbox shows beside the entry."""
    try:
        return sorted(path for path, info in _walk(folder) if stat.S_ISREG(info.st_mode))
    except _TooMany:
        raise OSError(0, f"more than {MAX_FOLDER_ENTRIES} files", str(folder)) from None


def _walk(folder: Path):
    """``(path, lstat)`` of everything in ``folder`` except hidden entries and ``__pycache__``,
    descending only into real folders (never through a link)."""
    seen = 0
    pending = [folder]
    while pending:
        current = pending.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                if entry.name.startswith(".") or entry.name == "__pycache__":
                    continue
                seen += 1
                if seen > MAX_FOLDER_ENTRIES:
                    raise _TooMany
                info = entry.stat(follow_symlinks=False)
                path = Path(entry.path)
                if stat.S_ISDIR(info.st_mode):
                    pending.append(path)
                yield path, info


def _stays_inside(link: Path, folder: Path) -> bool:
    """Whether ``link`` (and every link it leads through) ends inside ``folder``: read, not opened."""
    return Path(os.path.realpath(link)).is_relative_to(os.path.realpath(folder))


def open_source(path: Path) -> int:
    """A read-only descriptor of the submission file ``path``, refusing a link in its last
    component (``O_NOFOLLOW``) and anything but a regular file (a FIFO would block a read)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file", str(path))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_source(path: Path, limit: int) -> bytes:
    """Up to ``limit`` bytes of the submission file ``path``, read through :func:`open_source`."""
    with os.fdopen(open_source(path), "rb") as handle:
        return handle.read(limit)


def _one_per_student(student: str, found: list[Submission]) -> Submission:
    if len(found) == 1:
        return replace(found[0], student=student)
    names = ", ".join(s.file_name if s.path else shown(s.student) for s in found)
    return Submission(student, None, f"student {student} has several submissions ({names}): keep one")
