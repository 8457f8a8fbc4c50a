"""Submissions straight from the LMS: Canvas's "Download Submissions" zip, or the folder unpacked
from it.

Canvas names each file ``NAME_USERID_FILEID_FILENAME``, or ``NAME_LATE_USERID_FILEID_FILENAME``
when Canvas marked the submission late: ``NAME`` is the student's name in lower case, last name
first; ``USERID`` the Canvas user id (the roster's ``lms_id``); ``FILEID`` the uploaded file's id,
which grows with every upload; ``FILENAME`` the student's own file name (Canvas adds ``-1``,
``-2`` when the same name was uploaded before).

All of a student's uploads of the latest attempt are graded together, as one submission: a folder
holding each file under the student's own name (of the same name uploaded again, ``x-1.py``, the
highest ``FILEID``), whose entry is chosen by the rule of every door
(:func:`grader.intake.submissions.choose_entry`). An upload whose own name cannot be a file name
(``notes\\..\\homework.py``) is left out: it costs that upload, never the archive. The
student id is the roster's ``student`` for that ``lms_id``; without a roster, or for a user id the
roster lacks, the ``NAME`` (``NAME_USERID`` when two users share it). The submission time kept for
the late policy (:attr:`Submission.submitted_at`) is the zip entry's time stamp (UTC when the entry
carries the extended-time field, else the archive's local time, without a zone); when every entry
has the same time (the archive's build time, not the students') no time is kept. A folder
unpacked from the archive carries no trusted time (modification times change with every copy).
Canvas's own late mark (``_LATE``, in any letter case) is kept as :attr:`Submission.late`.

A zip is unpacked into a private temporary folder (removed when the process exits); one with an
absolute or ``..`` path (outside the student-chosen part of a Canvas name), a link, an encrypted
entry, or more than :data:`MAX_EXPANDED_BYTES` when unpacked is refused with one line, before
anything is graded.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from grader.errors import GraderError
from grader.intake import submissions
from grader.intake.submissions import SOURCE_SUFFIXES, Submission

CANVAS_NAME = re.compile(
    r"^(?P<name>[^_]+?)(?P<late>_(?i:late))?_(?P<user>\d+)_(?P<file_id>\d+)_(?P<file>.+)$", re.S)
RENAMED = re.compile(r"^(?P<stem>.+?)-(?P<n>\d+)(?P<suffix>\.[^.]*)?$", re.S)  # Canvas's "-1", "-2"
MAX_EXPANDED_BYTES = 2 << 30  # what a whole archive may unpack to
MAX_ENTRIES = 50_000
EXTENDED_TIME = 0x5455  # the zip extra field holding a Unix (UTC) modification time
SKIPPED_PARTS = ("__MACOSX",)


@dataclass(frozen=True)
class Upload:
    """One file of a Canvas archive, read from its name."""

    name: str  # Canvas's NAME part
    user: str
    file_id: int
    file: str  # the student's own file name
    late: bool
    path: Path  # where it lies now (unpacked)
    time: datetime | None = None


def discover(source: Path, roster: Path | None = None,
             entry: submissions.EntryRule | str | None = None) -> list[Submission]:
    """The submissions in ``source``: a folder of ``STUDENT.ipynb`` files, a Canvas zip, or a
    folder unpacked from one (every file named as Canvas names them)."""
    rule = submissions.as_rule(entry)
    if source.is_file() and source.suffix.lower() == ".zip":
        return _from_zip(source, roster, rule)
    if source.is_dir() and _is_canvas_folder(source):
        uploads = [_upload(name, source / name, None) for name in sorted(os.listdir(source))
                   if not name.startswith((".", "_"))]
        return _submissions([u for u in uploads if u is not None], [], roster, rule, _private_folder())
    return submissions.discover(source, rule)


def _private_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="grader-lms-"))  # 0700: ours alone
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _is_canvas_folder(folder: Path) -> bool:
    names = [n for n in os.listdir(folder) if not n.startswith((".", "_"))]
    return bool(names) and all(CANVAS_NAME.match(n) for n in names)


def _upload(name: str, path: Path, time: datetime | None) -> Upload | None:
    match = CANVAS_NAME.match(name)
    if not match:
        return None
    return Upload(match["name"], match["user"], int(match["file_id"]), match["file"],
                  bool(match["late"]), path, time)


def _submissions(uploads: list[Upload], others: list[Path], roster: Path | None,
                 rule: submissions.EntryRule, work: Path) -> list[Submission]:
    """One submission per Canvas user (all the files of its latest attempt, together in a folder
    of ``work``), and a row for each file whose name does not say whose it is."""
    by_user: dict[str, list[Upload]] = defaultdict(list)
    for upload in uploads:
        by_user[upload.user].append(upload)
    ids = _student_ids(by_user, roster)
    found = [_user_submission(ids[user], files, rule, work / f"user-{user}")
             for user, files in by_user.items()]
    taken = {s.student for s in found}
    for path in others:
        student = submissions.shown(path.stem if path.suffix in SOURCE_SUFFIXES else path.name)
        student = student if student not in taken else f"{student}~unnamed"
        taken.add(student)
        found.append(Submission(student, None, f"{submissions.shown(path.name)} is not named as "
                                "Canvas names submissions (NAME_USERID_FILEID_FILE): whose is it?"))
    return found


def _user_submission(student: str, files: list[Upload], rule: submissions.EntryRule,
                     folder: Path) -> Submission:
    """One user's uploads as one submission: each file under the student's own name in
    ``folder`` (a name uploaded again: its latest), the entry chosen as every door chooses it."""
    late = any(u.late for u in files)
    times = [u.time for u in files if u.time is not None]
    when = max(times, key=_comparable) if times else None
    latest: dict[str, Upload] = {}
    dropped: list[str] = []
    for upload in sorted(files, key=lambda u: u.file_id):
        problem = _unusable(upload)
        if problem:
            dropped.append(problem)
            continue
        latest[_original_name(upload.file)] = upload  # a later upload of a name replaces it
    folder.mkdir()
    for name, upload in latest.items():
        shutil.copyfile(upload.path, folder / _safe_name(name), follow_symlinks=False)
    sources = sorted(p for p in folder.iterdir() if p.suffix in SOURCE_SUFFIXES)
    if not sources:
        names = ", ".join(submissions.shown(u.file) for u in files)
        wrong_case = [n for n in latest if os.path.splitext(n)[1].lower() in SOURCE_SUFFIXES]
        if wrong_case:
            problem = f"{submissions.shown(wrong_case[0])} is not a .ipynb or .py file (rename it)"
        elif dropped:
            problem = "; ".join(dropped[:3])
        else:
            problem = f"handed in {names}: no .ipynb or .py file"
        return Submission(student, None, problem, submitted_at=when, late=late)
    chosen, why = submissions.choose_entry(folder, sources, rule)
    if chosen is None:
        return Submission(student, None, f"your uploads: {why}", submitted_at=when, late=late)
    return Submission(student, chosen, submitted_at=when, late=late, folder=folder,
                      shown_as=submissions.shown(chosen.name))


def _comparable(time: datetime) -> tuple:
    return (time.replace(tzinfo=None) if time.tzinfo is None else time.astimezone(UTC).replace(tzinfo=None),)


def _original_name(name: str) -> str:
    """The student's file name without the ``-1``, ``-2`` Canvas adds to a name uploaded again."""
    match = RENAMED.match(name)
    return match["stem"] + (match["suffix"] or "") if match else name


def _unusable(upload: Upload) -> str:
    """Why this upload cannot be graded (its own name is not a file name, it is not a regular
    file), or ""; it costs that upload only."""
    shown = submissions.shown(upload.file)
    if re.search(r"[\\/\x00]", upload.file) or upload.file in (".", ".."):
        return f"the upload named {shown!r} cannot be a file name (rename it and upload it again)"
    try:
        info = os.lstat(upload.path)
    except OSError as error:
        return f"cannot read {shown}: {error.strerror}"
    if stat.S_ISLNK(info.st_mode):
        return f"{shown} {submissions.LINK_PROBLEM}"
    if not stat.S_ISREG(info.st_mode):
        return f"{shown} is not a regular file: upload the file itself"
    return ""


def _student_ids(by_user: dict[str, list[Upload]], roster: Path | None) -> dict[str, str]:
    """Canvas user id -> the student's id: the roster's, else Canvas's NAME (``NAME_USERID`` when
    several users share a NAME or it is a roster id of someone else)."""
    from grader.course.roster import read_roster

    listed = {s.lms_id: s.student for s in read_roster(roster)} if roster is not None else {}
    names: dict[str, int] = defaultdict(int)
    for files in by_user.values():
        names[files[0].name] += 1
    ids = {}
    for user, files in by_user.items():
        if user in listed:
            ids[user] = listed[user]
            continue
        name = submissions.shown(files[0].name)
        clash = names[files[0].name] > 1 or name in listed.values()
        ids[user] = f"{name}_{user}" if clash else name
    return ids


# The zip ------------------------------------------------------------------------------------


def _from_zip(archive: Path, roster: Path | None, rule: submissions.EntryRule) -> list[Submission]:
    try:
        with zipfile.ZipFile(archive) as zipped:
            entries = _checked_entries(archive, zipped)
            folder = _private_folder()
            (folder / "files").mkdir()
            uploads, others = _unpack(archive, zipped, entries, folder / "files")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as error:
        raise GraderError(f"{archive} cannot be read as a zip archive ({error}): download it "
                          "again from the LMS") from None
    except OSError as error:
        raise GraderError(f"cannot read {archive}: {error.strerror}") from None
    if not uploads:
        raise GraderError(f"{archive} is not a Canvas \"Download Submissions\" archive (no file "
                          "is named NAME_USERID_FILEID_FILE): unzip it and give the folder")
    if len(uploads) > 1 and len({u.time for u in uploads}) == 1:
        uploads = [_without_time(u) for u in uploads]  # the archive's build time, not the students'
    return _submissions(uploads, others, roster, rule, folder)


def _without_time(upload: Upload) -> Upload:
    return Upload(upload.name, upload.user, upload.file_id, upload.file, upload.late, upload.path)


def _checked_entries(archive: Path, zipped: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's file entries, or one clear refusal for the whole archive."""
    infos = zipped.infolist()
    if len(infos) > MAX_ENTRIES:
        raise GraderError(f"refused {archive}: it holds {len(infos)} entries (at most {MAX_ENTRIES})")
    total = 0
    entries = []
    for info in infos:
        name = _archive_part(info.filename)
        parts = [p for p in re.split(r"[\\/]", name) if p not in ("", ".")]
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\0" in name:
            raise GraderError(f"refused {archive}: the entry {name!r} has an absolute path; "
                              "download the archive again from the LMS")
        if ".." in parts:
            raise GraderError(f"refused {archive}: the entry {name!r} leads out of the archive "
                              "('..'); download the archive again from the LMS")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise GraderError(f"refused {archive}: the entry {name!r} is a link; an LMS archive "
                              "holds files only")
        if info.flag_bits & 0x1:
            raise GraderError(f"refused {archive}: the entry {name!r} is encrypted")
        whole = [p for p in info.filename.split("/") if p not in ("", ".")]
        if info.is_dir() or not whole or whole[0] in SKIPPED_PARTS or whole[-1].startswith("."):
            continue
        total += info.file_size
        entries.append(info)
    if total > MAX_EXPANDED_BYTES:
        raise GraderError(f"refused {archive}: it unpacks to {total >> 20} MB, more than "
                          f"{MAX_EXPANDED_BYTES >> 20} MB")
    return entries


def _archive_part(name: str) -> str:
    """The part of an entry's name that the archive chose: all of it, less the student's own file
    name at the end of a Canvas name (never used as a path: checked with the upload)."""
    folder, _, base = name.rpartition("/")
    match = CANVAS_NAME.match(base)
    if match is None:
        return name
    return f"{folder}/{base[:match.start('file')]}" if folder else base[:match.start("file")]


def _unpack(archive: Path, zipped: zipfile.ZipFile, entries: list[zipfile.ZipInfo],
            folder: Path) -> tuple[list[Upload], list[Path]]:
    """Write each entry to ``folder/INDEX/FILENAME`` (never a name from the archive as a path),
    counting what is really written, whatever the archive's headers claim."""
    written = 0
    uploads, others = [], []
    for index, info in enumerate(entries):
        base = info.filename.rstrip("/").rpartition("/")[2]
        match = CANVAS_NAME.match(base)
        if match is None:
            base = re.split(r"[\\/]", base)[-1]
            match = CANVAS_NAME.match(base)
        own = _safe_name(match["file"] if match else base)
        place = folder / f"{index:05d}"
        place.mkdir()
        target = place / own
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out, zipped.open(info) as data:
            for block in iter(lambda: data.read(1 << 20), b""):
                written += len(block)
                if written > MAX_EXPANDED_BYTES:
                    raise GraderError(f"refused {archive}: it unpacks to more than "
                                      f"{MAX_EXPANDED_BYTES >> 20} MB")
                out.write(block)
        if match:
            uploads.append(Upload(match["name"], match["user"], int(match["file_id"]),
                                  match["file"], bool(match["late"]), target, _entry_time(info)))
        else:
            others.append(target)
    return uploads, others


def _safe_name(name: str) -> str:
    """A file name that is safe to create here and keeps the suffix that decides the kind."""
    name = re.sub(r"[\x00-\x1f\x7f/\\\\]", "_", name).strip() or "file"
    if name in (".", "..") or name.startswith("."):
        name = "_" + name
    stem, suffix = os.path.splitext(name)
    while len((stem + suffix).encode("utf-8", "surrogateescape")) > 200:
        stem = stem[:-1]
    return stem + suffix


def _entry_time(info: zipfile.ZipInfo) -> datetime | None:
    """The entry's time: UTC from the extended-time field when present, else the zip's local time."""
    extra = info.extra
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        body = extra[4:4 + size]
        if kind == EXTENDED_TIME and len(body) >= 5 and body[0] & 1:
            return datetime.fromtimestamp(struct.unpack("<i", body[1:5])[0], UTC)
        extra = extra[4 + size:]
    try:
        return datetime(*info.date_time)
    except ValueError:  # a damaged date field
        return None
