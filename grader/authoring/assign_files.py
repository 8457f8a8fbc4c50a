"""The files ``grader assign`` writes: the assignment's test file (one probe and one test per test
cell of the solution notebook), ``assignment.toml``, the data files beside the solution notebook,
and the record of what it wrote (a hash of each file), so that ``--force`` refuses to overwrite a
file edited by hand since."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProbeCell:
    name: str  # the probe's name; the test is test_<name>
    points: float
    hidden: bool
    description: str
    source: str  # the cell's code, header line removed
    question: str = ""  # the question it belongs to (``question=``); "" for a question of its own


@dataclass(frozen=True)
class Authored:
    """What ``grader assign`` writes, as text."""

    name: str
    title: str
    starter: Any  # nbformat.NotebookNode
    reference: str
    tests: tuple[ProbeCell, ...]
    toml: dict[str, Any]
    imports: str = ""  # the solution notebook's import statements: test cells run with their names


TEST_FILE_HEAD = '''"""Tests of {name}, made by `grader assign` from {notebook}: edit its test cells and run
`grader assign` again rather than editing this file.

Each test cell's code runs as a probe with the student's names (and once with the reference's)
and the names the solution notebook's imports bind (_IMPORTS), whatever the student imported;
observe(key=value, ...) records what the test compares, key by key.
"""

import torch

from grader.api import assert_close, fail, hidden, points, probe, question

_IMPORTS = {imports}


def _run_cell(ns, device, source, filename):
    """Run a test cell's code with the submission's names and the solution's imports; return what
    it observed."""
    observed = {{}}

    def observe(**values):
        observed.update(values)

    imported = {{}}
    exec(compile(_IMPORTS, "the solution notebook's imports", "exec"), imported)
    imported.pop("__builtins__", None)
    names = {{**ns, "torch": torch, **imported, "observe": observe, "device": device}}
    exec(compile(source, filename, "exec"), names)
    return observed


def _compare(got, want, is_hidden=False):
    for key in want:
        if key not in got:
            fail(f"{{key}} was not observed: the test's code took another path with your code")
        assert_close(got[key], want[key], what=key, hidden=is_hidden)
'''


def tests_source(authored: Authored, notebook_name: str) -> str:
    """The assignment's test file: one probe and one test per test cell."""
    imports = authored.imports.rstrip() + "\n" if authored.imports.strip() else ""
    parts = [TEST_FILE_HEAD.format(name=authored.name, notebook=notebook_name, imports=repr(imports))]
    for test in authored.tests:
        source = test.source.rstrip() + "\n"
        literal = f"r'''\n{source}'''" if "'''" not in source else repr(source)
        markers = (("@hidden\n" if test.hidden else "") + (f"@question({test.question!r})\n" if test.question
                   else "") + f"@points({test.points:g})")
        parts.append(
            f"\n\n_cell_{test.name} = {literal}\n\n\n"
            f"@probe\ndef {test.name}(ns, device):\n"
            f"    return _run_cell(ns, device, _cell_{test.name}, {f'test cell {test.name}'!r})\n\n\n"
            f"{markers}\ndef test_{test.name}(observe):\n    {_docstring(test.description)}\n"
            f"    got, want = observe({test.name})\n    _compare(got, want, is_hidden={test.hidden})\n")
    return "".join(parts)


def _docstring(text: str) -> str:
    plain = '"""' not in text and "\\" not in text and not text.endswith('"')
    return f'"""{text}"""' if plain else repr(text)


def toml_text(settings: dict[str, Any], reference: str) -> str:
    lines = [f"{key} = {json.dumps(value)}" for key, value in settings.items() if key != "limits"]
    lines.append(f"reference = {json.dumps(reference)}")
    lines += ["", "[limits]", *(f"{key} = {json.dumps(value)}" for key, value in settings["limits"].items())]
    return "\n".join(lines) + "\n"


# --- what grader assign wrote, so that --force never overwrites a hand edit -----------------------

RECORD = ".grader-assign.json"  # in the assignment folder: a hash of each file grader assign wrote
DATA_DIR = "data"  # beside the solution notebook: the assignment's data files, copied into its folder


def data_files(folder: Path) -> list[Path]:
    """The files of a ``data/`` folder that an assignment carries: no links, no hidden or cache
    files (as ``grader release`` copies them)."""
    return [path for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.is_symlink() and not any(
                part.startswith(".") or part == "__pycache__" for part in path.relative_to(folder).parts)]


def copy_data(source: Path, target: Path) -> list[Path]:
    """Replace ``target`` (an assignment's ``data/``) with the data files of ``source``."""
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    copied = []
    for path in data_files(source):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        copied.append(destination)
    return copied


def generated_toml(text: str) -> str:
    """The part of ``assignment.toml`` that grader assign writes: its settings and ``[limits]``;
    the author's own tables (``[late]``, ``[gradescope]``...) are kept by ``--force``, not written."""
    sections = re.split(r"(?m)^(?=\[)", text)
    return "\n".join(s.strip() for s in sections if not s.startswith("[") or s.startswith("[limits]"))


def _digest(path: Path, toml: bool) -> str:
    data = path.read_bytes()
    if toml:
        data = generated_toml(data.decode("utf-8", errors="replace")).encode()
    return hashlib.sha256(data).hexdigest()


def read_record(folder: Path) -> dict[str, str] | None:
    """``{path relative to folder: hash}`` of what grader assign last wrote there; None without a
    readable record."""
    try:
        recorded = json.loads((folder / RECORD).read_text(encoding="utf-8"))["written"]
        return {str(k): str(v) for k, v in dict(recorded).items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def record_written(folder: Path, paths: list[Path], toml: Path, kept_data: bool = False) -> None:
    """Write the record of what grader assign wrote into ``folder``: each file's hash, by its path
    relative to the folder (the reference may lie in ``../../reference/``). ``kept_data``: the
    ``data/`` files it wrote earlier were left as they are, and stay recorded."""
    earlier = (read_record(folder) or {}) if kept_data else {}
    written = {k: v for k, v in earlier.items() if Path(k).parts[:1] == (DATA_DIR,)}
    written.update({os.path.relpath(path, folder): _digest(path, path == toml) for path in paths})
    (folder / RECORD).write_text(json.dumps({"written": written}, indent=1, sort_keys=True) + "\n",
                                 encoding="utf-8")


def edited_by_hand(folder: Path, data: bool) -> list[str]:
    """Files of ``folder`` that ``grader assign`` would replace and that changed since it wrote
    them (or, with ``data``, files in its ``data/`` it did not write), each as ``PATH (why)``.
    Without a record (an assignment made by hand, or by an older grader), only the latter."""
    recorded = read_record(folder)
    changed = []
    if recorded is not None:
        for relative, digest in sorted(recorded.items()):
            path = folder / relative
            if not data and Path(relative).parts[:1] == (DATA_DIR,):
                continue  # data/ is replaced only when the notebook has one beside it
            if path.is_file() and _digest(path, path.name == "assignment.toml") != digest:
                changed.append(f"{path} (edited by hand since grader assign wrote it)")
    if data and (folder / DATA_DIR).is_dir():
        changed += [f"{path} (not written by grader assign)" for path in data_files(folder / DATA_DIR)
                    if os.path.relpath(path, folder) not in (recorded or {})]
    return changed
