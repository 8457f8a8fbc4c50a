"""Every file the grader writes (the report, CI results, copies, run.json) is written here:
atomically, readable by the instructor's group, text as UTF-8.

A reader (the instructor, a sync tool, a second ``grader grade``) never sees half a file: the data
goes to a temporary file in the same folder, then ``os.replace`` puts it in place. ``mkstemp`` makes
that file 0600; the report is meant to be shared, so it gets the mode a new file would get (0666
less the umask: 0644 under the usual umask, group-readable under 002).
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path

from grader.errors import GraderError

_SURROGATES = re.compile("[\ud800-\udfff]")


def clean(text: object) -> str:
    """``text`` as a str that every encoder takes: lone surrogates (``os.fsdecode`` of a name that is
    not UTF-8, a message built from one) become U+FFFD."""
    text = text if isinstance(text, str) else "" if text is None else str(text)
    return _SURROGATES.sub("\ufffd", text)


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8, lone surrogates shown as U+FFFD) to ``path`` through a
    temporary file in the same folder, so that a reader never sees half a file; the folder is made
    when it does not exist. Every file the grader writes goes through here, except the append-only
    journal."""
    if isinstance(data, str):
        try:  # a page of 250 kB has no lone surrogate: not scanned for them first (0.5 ms)
            data = data.encode("utf-8")
        except UnicodeEncodeError:  # UTF-8 encodes every character but a lone surrogate
            data = clean(data).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, new_file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@functools.cache
def new_file_mode() -> int:
    """0666 less this process's umask (read without changing it where /proc tells it), read once a
    process (a forked one inherits the umask with it): the grader never changes its umask, and each
    file written would otherwise read /proc/self/status again. Whatever changes the umask in this
    process afterwards calls ``new_file_mode.cache_clear()``."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # pragma: no cover - systems without /proc
    os.umask(mask)
    return 0o666 & ~mask


def check_writable(folder: Path, what: str = "the report", option: str = "-o folder") -> None:
    """Fail now, before grading, with one line, when files cannot be written into ``folder``."""
    try:
        if folder.exists() and not folder.is_dir():
            raise GraderError(f"{folder} is a file: give {option.split()[0]} a folder")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".grader-write-test."):
            pass
    except OSError as error:
        raise GraderError(f"cannot write {what} to {folder}: {error.strerror}; choose another "
                          f"{option}") from None
