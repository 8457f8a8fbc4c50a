"""The files ``grader assign`` writes, as text: the assignment's test file (one probe and one test
per test cell of the solution notebook) and ``assignment.toml``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.authoring.assign import Authored

TEST_FILE_HEAD = '''"""Tests of {name}, made by `grader assign` from {notebook}: edit its test cells and run
`grader assign` again rather than editing this file.

Each test cell's code runs as a probe with the student's names (and once with the reference's);
observe(key=value, ...) records what the test compares, key by key.
"""

import torch

from grader.api import assert_close, fail, hidden, points, probe, question


def _run_cell(ns, device, source, filename):
    """Run a test cell's code with the submission's names; return what it observed."""
    observed = {{}}

    def observe(**values):
        observed.update(values)

    exec(compile(source, filename, "exec"), {{"torch": torch, **ns, "observe": observe, "device": device}})
    return observed


def _compare(got, want, is_hidden=False):
    for key in want:
        if key not in got:
            fail(f"{{key}} was not observed: the test's code took another path with your code")
        assert_close(got[key], want[key], what=key, hidden=is_hidden)
'''


def tests_source(authored: Authored, notebook_name: str) -> str:
    """The assignment's test file: one probe and one test per test cell."""
    parts = [TEST_FILE_HEAD.format(name=authored.name, notebook=notebook_name)]
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
