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
import json
import os
import re
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
    shown_as: str = ""
    """The entry's name as the student named it (``alice/work.ipynb``, a Canvas upload's own
    name), for the report and feedback; empty: :attr:`file_name`."""

    @property
    def kind(self) -> str:
        return "ipynb" if self.path is not None and self.path.suffix == ".ipynb" else "py"

    @property
    def file_name(self) -> str:
        """The file's name as it can be shown and written anywhere (valid UTF-8)."""
        return shown(self.path.name) if self.path is not None else ""

    @property
    def label(self) -> str:
        """The file as the student named it, never a temporary path (scores.csv's ``file``)."""
        return self.shown_as or self.file_name


@dataclass(frozen=True)
class EntryRule:
    """How the entry of a submission with several files is chosen (:func:`choose_entry`):
    ``entry`` is the assignment's ``[submission] entry``; ``names`` the names its task asks for
    (``[names]`` keys and aliases, else the names its probes pass to ``defined()``)."""

    entry: str | None = None
    names: tuple[str, ...] = ()


def as_rule(rule: EntryRule | str | None) -> EntryRule:
    return rule if isinstance(rule, EntryRule) else EntryRule(entry=rule)


DEFINED_NAME = re.compile(rb"""\bdefined\(\s*\w+\s*,\s*["']([A-Za-z_]\w*)["']""")


def task_names(test_files: tuple[Path, ...] | list[Path], names_table: object = None) -> tuple[str, ...]:
    """The names a task asks for: the ``[names]`` table's alias keys and their aliases, else the
    names its probes pass to :func:`grader.probing.defined` (read, never imported)."""
    aliases = names_table.get("aliases") if isinstance(names_table, dict) else None
    found: list[str] = []
    if isinstance(aliases, dict):
        for key, values in aliases.items():
            found += [str(key), *(str(v) for v in values if isinstance(v, str))] \
                if isinstance(values, list) else [str(key)]
    if not found:
        for path in test_files:
            try:
                found += [m.decode() for m in DEFINED_NAME.findall(Path(path).read_bytes())]
            except OSError:
                continue
    return tuple(dict.fromkeys(found))


def shown(name: str) -> str:
    """``name`` as valid text: bytes that were not UTF-8 become U+FFFD replacement characters."""
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that did not come from the file system
        raw = name.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def discover(folder: Path, entry: EntryRule | str | None = None) -> list[Submission]:
    """Every student in ``folder``: ``ID.ipynb``, ``ID.py`` or a folder ``ID/`` holding one
    (``entry``: how a folder's entry is chosen, see :func:`choose_entry`)."""
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


def single(path: Path, entry: EntryRule | str | None = None) -> Submission:
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


def _from_entry(entry: Path, entry_name: EntryRule | str | None = None) -> Submission:
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
    return Submission(student, entry, shown_as=shown(entry.name))


def _from_folder(folder: Path, entry: EntryRule | str | None = None) -> Submission:
    """A folder's entry (:func:`choose_entry`), found without following any link. The entry's
    other files stay beside it."""
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
    chosen, problem = choose_entry(folder, sorted(sources), as_rule(entry))
    if chosen is None:
        return Submission(folder.name, None, f"folder {label}/ {problem}")
    return Submission(folder.name, chosen, folder=chosen.parent,
                      shown_as=f"{label}/{shown(chosen.relative_to(folder).as_posix())}")


MAX_ENTRY_CANDIDATES = 200  # source files read to choose an entry
ENTRY_SCAN_BYTES = 1 << 20  # of each
SHOWN_CANDIDATES = 6  # files named in the row when none is the entry


def choose_entry(folder: Path, sources: list[Path], rule: EntryRule) -> tuple[Path | None, str]:
    """The entry among a submission's ``sources`` (``.ipynb``/``.py`` files inside ``folder``),
    by one rule for every door: the assignment's ``[submission] entry`` if it sets one; else the
    one file that no other file of the submission imports and that defines or imports the names
    the task asks for; else the only notebook; else the only file that nothing imports.
    Otherwise ``(None, why)``: which files it saw and why none is the entry."""
    def name_of(path: Path) -> str:
        return shown(path.relative_to(folder).as_posix())

    if rule.entry:
        named = _named_entry(folder, sources, rule.entry)
        if len(named) == 1:
            return named[0], ""
        if named:
            return None, (f"holds several files named {rule.entry} "
                          f"({', '.join(map(name_of, named))}): keep one")
        seen = ", ".join(map(name_of, sources[:SHOWN_CANDIDATES])) or "no .ipynb or .py file"
        return None, f"holds {seen}: none is {rule.entry}, the file this assignment runs"
    if not sources:
        return None, "holds no .ipynb or .py file"
    if len(sources) == 1:
        return sources[0], ""
    notebooks = [p for p in sources if p.suffix == ".ipynb"]
    if len(sources) > MAX_ENTRY_CANDIDATES:
        if len(notebooks) == 1:
            return notebooks[0], ""
        return None, f"holds {len(sources)} .py/.ipynb files: upload only your work and its helpers"
    code = {path: _code_of(path) for path in sources}
    imported_by: dict[Path, list[Path]] = {path: [] for path in sources}
    for path in sources:
        modules = _imported_modules(code[path])
        for other in sources:
            if other != path and other.suffix == ".py" and other.stem in modules:
                imported_by[other].append(path)
    roots = [path for path in sources if not imported_by[path]]
    wanted = set(rule.names)
    fitting = [path for path in roots if not wanted or _binds(code[path], wanted)]
    # then the only notebook; then the only file nothing imports (a misspelled name costs a test,
    # not the whole submission: the probes' grace finds it)
    for among in (fitting, [p for p in fitting if p.suffix == ".ipynb"], notebooks, roots):
        if len(among) == 1:
            return among[0], ""
    asked = ", ".join(sorted(wanted)[:3])
    reasons = []
    for path in sources[:SHOWN_CANDIDATES]:
        if imported_by[path]:
            reasons.append(f"{name_of(path)} (imported by {name_of(imported_by[path][0])})")
        elif wanted and path not in fitting:
            reasons.append(f"{name_of(path)} (defines none of {asked})")
        else:
            reasons.append(name_of(path))
    more = f" and {len(sources) - SHOWN_CANDIDATES} more" if len(sources) > SHOWN_CANDIDATES else ""
    if wanted and len(fitting) > 1:
        why = f"several define {asked}: keep one (helper modules may stay beside it)"
    elif wanted and not fitting:
        why = f"none defines or imports {asked}: hand in the file that does"
    else:
        why = "keep one notebook (helper modules may stay beside it)"
    return None, f"holds {', '.join(reasons)}{more}: none is clearly the entry; {why}"


def _code_of(path: Path) -> str:
    """A source's code, for :func:`choose_entry`: a notebook's code cells, a module's text."""
    try:
        raw = read_source(path, ENTRY_SCAN_BYTES)
    except OSError:
        return ""
    text = raw.decode("utf-8", "replace")
    if path.suffix != ".ipynb":
        return text
    try:
        cells = json.loads(text).get("cells", [])
        return "\n".join("".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source"))
                         for c in cells if isinstance(c, dict) and c.get("cell_type") == "code")
    except (ValueError, AttributeError, TypeError, KeyError):
        return text


_IMPORT_FROM = re.compile(r"^\s*from\s+\.?([A-Za-z_]\w*)[\w.]*\s+import\s+(.+)$", re.M)
_IMPORT = re.compile(r"^\s*import\s+(.+)$", re.M)
_DEFINES = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)"
                      r"|^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)", re.M)


def _imported_modules(code: str) -> set[str]:
    modules = {match[1] for match in _IMPORT_FROM.finditer(code)}
    for match in _IMPORT.finditer(code):
        modules |= {part.split()[0].split(".")[0] for part in match[1].split(",") if part.split()}
    return modules


def _binds(code: str, wanted: set[str]) -> bool:
    """Whether ``code`` defines or imports one of ``wanted`` (``from m import *`` counts)."""
    bound = {a or b for a, b in _DEFINES.findall(code)}
    for match in _IMPORT_FROM.finditer(code):
        names = match[2].strip().strip("()\\ ")
        if names.startswith("*"):
            return True
        bound |= {part.split()[-1] for part in names.split(",") if part.split()}
    for match in _IMPORT.finditer(code):
        bound |= {part.split()[-1].split(".")[0] for part in match[1].split(",") if part.split()}
    return bool(bound & wanted)


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
