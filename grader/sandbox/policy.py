"""What a sandbox may see: an allow-list, decided in one place for every executor.

The sandbox's root is a new, nearly empty tree (:mod:`grader.sandbox.filesystem` builds it from
this policy). Read-only inside it: the system's programs and libraries (``/usr``, ``/lib``...), the
Python installation and its packages, the grader's own package, a few files of ``/etc`` the dynamic
linker and time zones need, device nodes a program needs (and a GPU's, on a GPU); the files a
request names (an assignment's data, a folder submission's helper modules). Writable: one private
tmpfs (``/tmp``, the working folder, and ``/dev/shm``). Nothing else exists inside: not the
reference, not the tests, not other submissions, not the report, not a home folder or a checkout,
not a host socket. A copy of the grader with bundled solutions (``grader/_bundled``) is masked.
"""

from __future__ import annotations

import glob
import os
import site
import sys
from dataclasses import dataclass, field
from pathlib import Path

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "mime.types")
DEVICES = ("null", "zero", "full", "random", "urandom")
GPU_DEVICES = ("/dev/nvidia*", "/dev/nvidia-caps", "/dev/dri")
MASKED_NAMES = ("_bundled",)  # inside a grader package: bundled references and hidden tests
PROC_MASKED = ("kcore", "sysrq-trigger", "keys", "timer_list", "sched_debug", "kallsyms")
WORKDIR = "/tmp"
DATA_DIR = "data"  # an assignment's (and a release's) data folder: shown as data/ and entry by entry


@dataclass(frozen=True)
class Policy:
    """The allow-list of one sandbox: host paths shown read-only at the same place inside."""

    read_only: tuple[str, ...]
    """Folders and files bound read-only at the same path (their parents are created, empty)."""
    symlinks: tuple[tuple[str, str], ...]
    """``(path, target)``: host links re-created inside (``/bin -> usr/bin`` on merged-usr systems)."""
    masked: tuple[str, ...]
    """Folders inside ``read_only`` ones hidden under an empty read-only tmpfs."""
    devices: tuple[str, ...]
    """Device nodes bound into ``/dev``."""
    etc_files: dict[str, str] = field(default_factory=dict)
    """Files written into ``/etc``: a passwd and group naming the sandbox user, hosts."""
    sysfs: bool = False
    """Whether ``/sys`` is shown read-only (CUDA reads it to find the GPU)."""


def python_paths() -> list[str]:
    """The Python installation, its packages and the grader package: nothing around them."""
    grader_package = str(Path(__file__).resolve().parent.parent)
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(), grader_package}
    user_site = site.getusersitepackages()
    if user_site and os.path.isdir(user_site) and user_site in sys.path:
        paths.add(user_site)
    resolved = {os.path.realpath(p) for p in paths if p and os.path.isdir(p)}
    # A venv's python is a link into the base installation: keep the link's folder too.
    resolved |= {os.path.dirname(os.path.realpath(sys.executable))}
    return _outermost(path for path in resolved if path != "/")


def sandbox_policy(uid: int, gid: int, gpu: bool = False) -> Policy:
    """The allow-list for a sandbox whose student runs as ``uid``/``gid``."""
    read_only, symlinks = [], []
    for path in SYSTEM:
        if os.path.islink(path):
            symlinks.append((path, os.readlink(path)))
        elif os.path.isdir(path):
            read_only.append(path)
    read_only += [f"/etc/{name}" for name in ETC if os.path.exists(f"/etc/{name}")]
    read_only += [p for p in python_paths() if not any(_inside(p, q) for q in read_only)]
    devices = [f"/dev/{name}" for name in DEVICES if os.path.exists(f"/dev/{name}")]
    if gpu:
        for pattern in GPU_DEVICES:
            devices += sorted(glob.glob(pattern))
    masked = sorted({
        os.path.join(package, name)
        for package in _grader_packages()
        for name in MASKED_NAMES
        if os.path.isdir(os.path.join(package, name))
    })
    etc_files = {
        "passwd": f"root:x:0:0::/:/usr/sbin/nologin\nstudent:x:{uid}:{gid}::{WORKDIR}:/usr/sbin/nologin\n",
        "group": f"root:x:0:\nstudent:x:{gid}:\n",
        "hosts": "127.0.0.1 localhost\n::1 localhost\n",
        "hostname": "sandbox\n",
    }
    return Policy(tuple(read_only), tuple(symlinks), tuple(masked), tuple(devices), etc_files, gpu)


def shown_files(data: str | os.PathLike | None, folder: str | os.PathLike | None) -> tuple[str, ...]:
    """What a request shows in the working folder: an assignment's (or a release's) ``data/``
    folder and a folder submission's own folder (its helper modules), those that exist."""
    return tuple(str(path) for path in (data, folder) if path is not None and os.path.isdir(path))


def visible_files(paths: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """``(host path, path inside)`` for files a request shows in the working folder: each entry
    of a folder (an assignment's ``data/``, a folder submission's helper modules) or a file.
    The entries of a folder named ``data`` (the assignment's) are shown twice: in ``data/``, the
    release's layout (``open("data/x.csv")`` works as in the release folder), and by name, where
    graded work has always found them (``open("x.csv")``). A name taken stays with what came
    first. Links are never followed: a link is left out, as are hidden files."""
    shown: dict[str, str | None] = {}  # the name inside the working folder -> the host path
    for path in paths:
        if os.path.islink(path):
            continue
        entries = [os.path.join(path, name) for name in sorted(os.listdir(path))] if os.path.isdir(path) \
            else [path]
        layout = os.path.isdir(path) and os.path.basename(path.rstrip("/")) == DATA_DIR \
            and DATA_DIR not in shown
        if layout:
            shown[DATA_DIR] = None  # a folder of the entries below, made in the working folder
        for entry in entries:
            name = os.path.basename(entry)
            if os.path.islink(entry) or name.startswith("."):
                continue
            if layout:
                shown.setdefault(f"{DATA_DIR}/{name}", entry)
            shown.setdefault(name, entry)
    return [(host, f"{WORKDIR}/{name}") for name, host in shown.items() if host is not None]


def data_hint(paths: list[str] | tuple[str, ...], limit: int = 6) -> str:
    """Where an assignment's ``data/`` folder (among ``paths``) is shown, for a failed download's
    message; empty when there is none."""
    for path in paths:
        if os.path.basename(path.rstrip("/")) == DATA_DIR and os.path.isdir(path) \
                and not os.path.islink(path):
            inside = f"{WORKDIR}/{DATA_DIR}/"
            shown = [f"{name.removeprefix(WORKDIR + '/')}{'/' if os.path.isdir(host) else ''}"
                     for host, name in visible_files([path]) if name.startswith(inside)]
            if shown:
                more = ", ..." if len(shown) > limit else ""
                return (f"the assignment's data files are in {DATA_DIR}/, as in the release: "
                        f"{', '.join(shown[:limit])}{more}")
    return ""


def _grader_packages() -> set[str]:
    """This grader's package folder, and any installed copy in the site-packages shown."""
    found = {os.path.realpath(Path(__file__).resolve().parent.parent)}
    for packages in (*site.getsitepackages(), site.getusersitepackages()):
        if packages and os.path.isdir(os.path.join(packages, "grader")):
            found.add(os.path.realpath(os.path.join(packages, "grader")))
    return found


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _outermost(paths: object) -> list[str]:
    paths = sorted(set(paths))  # type: ignore[arg-type]
    return [p for p in paths if not any(p != q and _inside(p, q) for q in paths)]
