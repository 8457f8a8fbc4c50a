"""Finding the submissions in a folder: one per student, named by the student's id."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError

SOURCE_SUFFIXES = (".ipynb", ".py")
IGNORED_NAMES = {"readme", "readme.md", "readme.txt", "__pycache__", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class Submission:
    """One student's work. ``problem`` says why it cannot be run, when it cannot."""

    student: str
    path: Path | None
    problem: str | None = None

    @property
    def kind(self) -> str:
        return "ipynb" if self.path is not None and self.path.suffix == ".ipynb" else "py"


def discover(folder: Path) -> list[Submission]:
    """Every student in ``folder``: ``ID.ipynb``, ``ID.py`` or a folder ``ID/`` holding one."""
    if not folder.exists():
        raise GraderError(f"submissions folder {folder} does not exist: check the path")
    if not folder.is_dir():
        raise GraderError(f"{folder} is not a folder: give the folder that holds the submissions")
    try:
        entries = sorted(folder.iterdir())
    except OSError as error:
        raise GraderError(f"cannot list {folder}: {error.strerror}") from None
    by_student: dict[str, list[Submission]] = defaultdict(list)
    for entry in entries:
        if entry.name.startswith((".", "_")) or entry.name.lower() in IGNORED_NAMES:
            continue
        submission = _from_entry(entry, folder)
        by_student[submission.student].append(submission)
    if not by_student:
        raise GraderError(
            f"{folder} holds no submissions: expected STUDENT.ipynb, STUDENT.py or STUDENT/ folders"
        )
    return [_one_per_student(student, found) for student, found in by_student.items()]


def single(path: Path) -> Submission:
    """One file given on the command line (``grader check``)."""
    if not path.exists():
        raise GraderError(f"{path} does not exist: check the file name")
    return _from_entry(path)


def _from_entry(entry: Path, folder: Path | None = None) -> Submission:
    entry = entry.absolute()
    if folder is not None and entry.is_symlink() and not _inside(entry, folder):
        student = entry.stem if entry.suffix in SOURCE_SUFFIXES else entry.name
        return Submission(student, None, f"{entry.name} is a link to a file outside the submissions "
                          "folder: copy the file itself into the folder")
    if entry.is_dir():
        return _from_folder(entry)
    student = entry.stem if entry.suffix in SOURCE_SUFFIXES else entry.name
    if entry.suffix not in SOURCE_SUFFIXES:
        return Submission(student, entry, f"{entry.name} is not a .ipynb or .py file")
    return Submission(student, entry)


def _inside(link: Path, folder: Path) -> bool:
    return link.resolve().is_relative_to(folder.resolve())


def _from_folder(folder: Path) -> Submission:
    sources = sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in SOURCE_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in p.parts)
    )
    notebooks = [p for p in sources if p.suffix == ".ipynb"]
    chosen = notebooks or sources
    if len(chosen) == 1:
        return Submission(folder.name, chosen[0])
    if not chosen:
        problem = f"folder {folder.name}/ holds no .ipynb or .py file"
    else:
        names = ", ".join(str(p.relative_to(folder)) for p in chosen)
        problem = f"folder {folder.name}/ holds several candidates ({names}): keep exactly one"
    return Submission(folder.name, None, problem)


def _one_per_student(student: str, found: list[Submission]) -> Submission:
    if len(found) == 1:
        return found[0]
    names = ", ".join(s.path.name if s.path else student for s in found)
    return Submission(student, None, f"student {student} has several submissions ({names}): keep one")
