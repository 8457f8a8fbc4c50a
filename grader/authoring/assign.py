"""``grader assign solution.ipynb -o assignments/NAME``: an instructor's solution notebook becomes an
assignment (starter notebook, reference, tests, ``assignment.toml``).

Markers in the solution notebook:

- Code between a ``# BEGIN SOLUTION`` line and a ``# END SOLUTION`` line is the solution: the
  starter gets ``raise NotImplementedError`` in its place (at the marker's indentation), or the code
  after ``placeholder=`` when the marker says ``# BEGIN SOLUTION placeholder=self.weights = ...``.
  The reference keeps the code, and the marker lines as comments; before each cell's code it has
  a ``# %% cell N`` line (N counts code cells, as a notebook's errors do), so that ``grader audit``
  mutates only the solution regions and names the notebook's cells and lines.
- A code cell whose first line is ``# TEST points=2 name=forward_values`` (add ``hidden`` for a
  hidden test, ``description="..."`` for what students read, ``question=q1`` for the question it
  belongs to (without it, the test is a question of its own); or tag the cell ``test`` and put the
  same keys in the cell's ``metadata.grader``) is a test. The starter cell before it is marked as
  where its question's cells end (``metadata.grader.questions``): ``grader release`` puts a
  ``check("q1")`` cell there. Its code runs as a probe with the student's names, the names the
  solution notebook's own imports bind (``torch``, ``nn``, ``F``, ``np``...: whatever the student
  imported) and ``device``; ``observe(key=value, ...)`` records what is compared with the
  reference's values, key by key. Test cells are left out of the starter and the reference.
- ``metadata.grader = {name, title, timeout, memory}`` in the notebook's metadata fills in
  ``assignment.toml`` (defaults: the folder's name, the first heading, derived, ``2G``).
- A ``data/`` folder beside the solution notebook is the assignment's data: copied into the
  assignment's ``data/`` (which a release ships as ``data/``), and the solution is graded with it.
  The solution opens its files as ``data/x.csv``, as students do in the release.
- ``.grader-assign.json`` in the assignment folder records a hash of each file written; ``--force``
  refuses, naming the file, to replace one edited by hand since (move the change into the notebook).

Before anything is written, the assignment is graded in a temporary folder: the reference must get
full marks and the starter zero.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import shlex
import shutil
import tempfile
from pathlib import Path
from typing import Any

from grader.authoring.assign_files import (
    DATA_DIR,
    Authored,
    ProbeCell,
    copy_data,
    edited_by_hand,
    record_written,
    tests_source,
    toml_text,
)
from grader.errors import GraderError

BEGIN = re.compile(r"^(?P<indent>[ \t]*)#+\s*BEGIN SOLUTION\b(?P<rest>.*)$")
END = re.compile(r"^[ \t]*#+\s*END SOLUTION\b")
CELL_HEADER_TEXT = "# %% cell {number}"  # the reference's line before each solution notebook code cell
CELL_HEADER = re.compile(r"^# %% cell (?P<number>\d+)$")
TEST_HEADER = re.compile(r"^\s*#\s*TEST\b(?P<rest>.*)$")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
RESERVED = {"torch", "hidden", "points", "probe", "assert_close", "fail"}


def author(path: Path, folder_name: str) -> Authored:
    """Split a solution notebook into starter, reference, tests and settings (nothing written)."""
    import nbformat

    try:
        notebook = nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise GraderError(f"{path} does not exist: give the solution notebook's path") from None
    except Exception as error:  # nbformat raises many kinds for malformed files
        raise GraderError(f"cannot read {path} as a notebook: {error}") from None
    meta = dict(notebook.metadata.get("grader", {}))
    name = str(meta.get("name") or folder_name)
    if not NAME.fullmatch(name):
        raise GraderError(f"the assignment name {name!r} must be letters, digits and _ (a Python name): "
                          "set metadata.grader.name in the notebook or choose another -o folder")
    starter, tests, reference, imports = copy.deepcopy(notebook), [], [], []
    starter.cells = []
    code_cells = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            starter.cells.append(cell)
            continue
        code_cells += 1
        test = _test_cell(cell, code_cells)
        if test is not None:
            tests.append(test)
            if starter.cells:  # the question's cells end with the starter's cell before this test
                marks = starter.cells[-1].metadata.setdefault("grader", {}).setdefault("questions", [])
                if (question := test.question or f"test_{test.name}") not in marks:
                    marks.append(question)
            continue
        _, hollow = _split_solution(cell.source, code_cells)
        code = _plain_python(cell.source, code_cells)
        imports += [i for i in _imports_of(code) if i not in imports]
        if code.strip():
            reference.append(f"{CELL_HEADER_TEXT.format(number=code_cells)}\n{code}")
        starter_cell = copy.deepcopy(cell)
        starter_cell.source, starter_cell.outputs, starter_cell.execution_count = hollow, [], None
        starter.cells.append(starter_cell)
    _check_tests(tests, path)
    starter.metadata.pop("grader", None)
    if not any("grader check" in c.source for c in starter.cells):
        starter.cells.insert(0, nbformat.v4.new_markdown_cell(
            f"**How to check your work.** In a terminal, run `grader check {name} starter.ipynb` (use "
            "your notebook's name if you renamed it): it runs the public tests and says what is wrong."))
    title = str(meta.get("title") or _first_heading(notebook) or name)
    header = f'"""Reference solution of {name}, made by `grader assign` from {path.name}."""\n\n'
    return Authored(name, title, starter, header + "\n\n".join(r for r in reference if r.strip()) + "\n",
                    tuple(tests), _settings(name, title, meta), "\n".join(imports))


def _imports_of(code: str) -> list[str]:
    """The top-level import statements of a solution cell's code (``import torch.nn as nn``,
    ``from torch.nn import functional as F``), one per name: the names test cells run with, so
    that they do not depend on which of them a student happened to import."""
    found = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.Import):
            found += [ast.unparse(ast.Import([alias])) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__" and not node.level:
            found += [ast.unparse(ast.ImportFrom(node.module, [alias], 0)) for alias in node.names
                      if alias.name != "*"]
    return found


def _split_solution(source: str, cell: int) -> tuple[str, str]:
    """(the code without marker lines, the starter's code) of one cell."""
    code, hollow, inside = [], [], None
    for number, line in enumerate(source.splitlines(), 1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if inside is not None:
                raise GraderError(f"cell {cell}, line {number}: BEGIN SOLUTION inside another one "
                                  f"(opened at line {inside}): add the missing # END SOLUTION")
            inside = number
            rest = begin["rest"].strip()
            if rest and not rest.startswith("placeholder="):
                raise GraderError(f"cell {cell}, line {number}: after BEGIN SOLUTION write nothing or "
                                  f"placeholder=CODE, not {rest!r}")
            placeholder = rest.removeprefix("placeholder=").strip() or "raise NotImplementedError"
            hollow.append(begin["indent"] + placeholder)
        elif end:
            if inside is None:
                raise GraderError(f"cell {cell}, line {number}: END SOLUTION without a BEGIN SOLUTION")
            inside = None
        else:
            code.append(line)
            if inside is None:
                hollow.append(line)
    if inside is not None:
        raise GraderError(f"cell {cell}, line {inside}: BEGIN SOLUTION is never closed: add # END SOLUTION")
    return "\n".join(code), "\n".join(hollow)


def _plain_python(code: str, cell: int) -> str:
    """A cell's code as module code: IPython magics and shell lines are commented out."""
    lines = [f"# {line}" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()]
    text = "\n".join(lines).rstrip()
    try:
        ast.parse(text)
    except SyntaxError as error:
        raise GraderError(f"cell {cell} of the solution is not valid Python (line {error.lineno}: "
                          f"{error.msg}): fix it in the notebook") from None
    return text


def _test_cell(cell: Any, number: int) -> ProbeCell | None:
    lines = cell.source.splitlines()
    header = TEST_HEADER.match(lines[0]) if lines else None
    if header is None and "test" not in cell.metadata.get("tags", []):
        return None
    options = dict(cell.metadata.get("grader", {}))
    body = "\n".join(lines[1:] if header else lines)
    if header:
        try:
            words = shlex.split(header["rest"])
        except ValueError as error:
            raise GraderError(f"test cell {number}: cannot read its first line ({error})") from None
        for word in words:
            key, has_value, value = word.partition("=")
            if not has_value and key in ("hidden", "public"):
                options["hidden"] = key == "hidden"
            elif has_value and key in ("points", "name", "description", "question"):
                options[key] = value
            else:
                raise GraderError(f"test cell {number}: unknown {word!r} in its first line; write e.g. "
                                  '# TEST points=2 name=forward_values hidden description="..." question=q1')
    try:
        tree = ast.parse(body)
    except SyntaxError as error:
        line = (error.lineno or 0) + bool(header)
        raise GraderError(f"test cell {number}: line {line}: {error.msg}") from None
    if not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "observe"
               for n in ast.walk(tree)):
        raise GraderError(f"test cell {number} observes nothing: call observe(name=value, ...) with what "
                          "the test compares")
    name = str(options.get("name") or f"cell_{number}").removeprefix("test_")
    if not NAME.fullmatch(name) or name in RESERVED:
        raise GraderError(f"test cell {number}: name={name!r} must be a Python name (not starting with _ "
                          f"and none of {', '.join(sorted(RESERVED))})")
    if "points" not in options:
        raise GraderError(f"test cell {number} does not say its points: start it with e.g. "
                          f"# TEST points=2 name={name}")
    try:
        points = float(options["points"])
    except (TypeError, ValueError):
        raise GraderError(f"test cell {number}: points={options.get('points')!r} is not a number") from None
    docstring = ast.get_docstring(tree) if tree.body else None
    description = str(options.get("description") or (docstring or "").strip().split("\n")[0]
                      or name.replace("_", " "))
    question = str(options.get("question") or "").strip()
    if question and not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", question):
        raise GraderError(f"test cell {number}: question={question!r} must be a short name (letters, "
                          "digits, _ . -), such as q1")
    return ProbeCell(name, points, bool(options.get("hidden", False)), description, body, question)


def _check_tests(tests: list[ProbeCell], path: Path) -> None:
    if not tests:
        raise GraderError(f"{path} has no test cells: start a code cell with # TEST points=1 name=... "
                          "and call observe(key=value) in it")
    names = [t.name for t in tests]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise GraderError(f"several test cells are named {', '.join(twice)}: give each a different name=")


def _first_heading(notebook: Any) -> str | None:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip().replace("`", "")
    return None


def _settings(name: str, title: str, meta: dict[str, Any]) -> dict[str, Any]:
    from grader.intake.assignment import parse_size

    limits: dict[str, Any] = {"memory": str(meta.get("memory", "2G"))}
    parse_size(limits["memory"])
    if meta.get("timeout") is not None:
        try:
            limits["timeout"] = float(meta["timeout"])
        except (TypeError, ValueError):
            raise GraderError(f"metadata.grader.timeout {meta['timeout']!r} is not a number of "
                              "seconds") from None
    return {"name": name, "title": title, "version": "1", "starter": "starter.ipynb", "limits": limits}


def write(authored: Authored, folder: Path, notebook_name: str, data: Path | None = None) -> dict[str, Path]:
    """Write the assignment into ``folder``; the reference goes to ``../../reference/NAME.py`` when
    that folder exists (as for the bundled assignments), else to ``folder/reference.py``. ``data``
    (a ``data/`` folder) replaces the assignment's ``data/``. What was written is recorded in
    ``folder`` (a hash of each file), so that ``--force`` can tell a file edited by hand."""
    import nbformat

    shared = folder.parent.parent / "reference"
    reference, relative = ((shared / f"{authored.name}.py", f"../../reference/{authored.name}.py")
                           if shared.is_dir() else (folder / "reference.py", "reference.py"))
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"toml": folder / "assignment.toml", "starter": folder / "starter.ipynb",
             "tests": folder / f"test_{authored.name}.py", "reference": reference}
    paths["toml"].write_text(toml_text(authored.toml, relative), encoding="utf-8")
    nbformat.write(authored.starter, str(paths["starter"]))
    paths["tests"].write_text(tests_source(authored, notebook_name), encoding="utf-8")
    reference.write_text(authored.reference, encoding="utf-8")
    copied = []
    if data is not None:
        copied = copy_data(data, folder / DATA_DIR)
        paths["data"] = folder / DATA_DIR
    record_written(folder, [paths[key] for key in ("toml", "starter", "tests", "reference")] + copied,
                   paths["toml"], kept_data=data is None)
    return paths


def verify(authored: Authored, notebook_name: str, options: Any,
           data: Path | None = None) -> dict[str, tuple[float, float]]:
    """Grade the reference and the starter in a temporary copy (with ``data`` as its ``data/``):
    full marks and zero, or an error."""
    from grader import report
    from grader.grading import batch as grading
    from grader.intake.assignment import load_assignment
    from grader.intake.submissions import Submission

    work = Path(tempfile.mkdtemp(prefix="grader-assign-"))
    try:
        folder = work / "assignments" / authored.name
        (work / "reference").mkdir(parents=True)
        paths = write(authored, folder, notebook_name, data)
        (work / "work").mkdir()
        shutil.copy(paths["reference"], work / "work" / "reference.py")
        shutil.copy(paths["starter"], work / "work" / "starter.ipynb")
        subs = [Submission("reference", work / "work" / "reference.py"),
                Submission("starter", work / "work" / "starter.ipynb")]
        try:
            batch = grading.grade(load_assignment(folder), subs, options)
        except GraderError as error:
            raise GraderError(f"a test cell fails on the solution itself: {error}".replace(
                str(paths["reference"]), notebook_name)) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = report.results_table(batch)
    scores = report.scores_table(batch, results).set_index("student")
    ref, starter = scores.loc["reference"], scores.loc["starter"]
    if ref.score < ref.max_score:
        failed = results[(results.student == "reference") & (results.status == "failed")]
        why = "; ".join(f"{r.test}: {' '.join(str(r.message).split())[:200]}" for r in failed.itertuples())
        raise GraderError(f"the solution gets {ref.score:g} / {ref.max_score:g}, not full marks "
                          f"({why or ref.message}): fix the test cells or the solution (do they "
                          "depend on randomness or time?)")
    if starter.score > 0:
        passed = results[(results.student == "starter") & (results.status == "passed")]
        raise GraderError(f"the starter already gets {starter.score:g} / {starter.max_score:g}: "
                          f"{', '.join(passed.test)} {'passes' if len(passed) == 1 else 'pass'} without "
                          "the solution; make every test use the code between BEGIN SOLUTION and END SOLUTION")
    return {"reference": (float(ref.score), float(ref.max_score)),
            "starter": (float(starter.score), float(starter.max_score))}


def assign(notebook: Path, out: Path, options: Any, force: bool = False) -> int:
    """Author, verify, write, and print what was written. An existing assignment is replaced
    only with ``force``: its version goes up by one, and its own tables (``[late]``,
    ``[gradescope]``, ``[sandbox]``) are kept."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    folder = out.resolve()
    authored = author(notebook, folder.name)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise GraderError(f"cannot write the assignment into {folder} ({existing} is not a writable "
                          "folder): choose another -o folder")
    data = notebook.parent / DATA_DIR
    data = data if data.is_dir() and not data.is_symlink() else None
    kept = _replaced(folder, authored, force)
    edited = edited_by_hand(folder, data is not None)
    if edited:
        more = f" and {len(edited) - 1} more file(s)" if len(edited) > 1 else ""
        raise GraderError(f"grader assign would replace {edited[0]}{more}: move the change into "
                          f"{notebook.name} or its {DATA_DIR}/ folder (or delete the file), then run "
                          "grader assign again")
    checked_with = data or (folder / DATA_DIR if (folder / DATA_DIR).is_dir() else None)
    scores = verify(authored, notebook.name, options, checked_with)
    stale = [p.name for p in folder.glob("test_*.py") if p.name != f"test_{authored.name}.py"]
    try:
        paths = write(authored, folder, notebook.name, data)
    except OSError as error:
        raise GraderError(f"cannot write the assignment into {folder}: {error.strerror}; choose another "
                          "-o folder") from None
    if kept:
        with open(paths["toml"], "a", encoding="utf-8") as handle:
            handle.write("\n" + kept)
    console = Console(highlight=False)
    table = Table(title=f"{authored.name}: tests made from {notebook.name} "
                  f"(version {authored.toml['version']})")
    for column in ("test", "points", "visibility", "description"):
        table.add_column(column, overflow="fold")
    for test in authored.tests:
        table.add_row(f"test_{test.name}", f"{test.points:g}", "hidden" if test.hidden else "public",
                      escape(test.description))
    console.print(table)
    for what, path in paths.items():
        console.print(f"{what:>9}: {escape(str(path))}")
    (ref, total), (start, _) = scores["reference"], scores["starter"]
    console.print(f"Checked: the reference gets {ref:g} / {total:g}, the starter {start:g} / {total:g}.")
    if stale:
        console.print(f"[yellow]note: {folder} also holds {', '.join(stale)}, which grading runs too[/]")
    return 0


def _replaced(folder: Path, authored: Authored, force: bool) -> str:
    """Refuse to replace an assignment without ``force``; with it, bump the version and return
    the old assignment.toml's tables that ``grader assign`` does not write."""
    import re
    import tomllib

    toml = folder / "assignment.toml"
    if not toml.is_file():
        return ""
    try:
        text = toml.read_text(encoding="utf-8")
        old = str(tomllib.loads(text).get("version", "1"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        text, old = "", "1"
    if not force:
        raise GraderError(f"{folder} already holds an assignment (version {old}): add --force to "
                          "replace it (its version goes up by one; grades made with it are redone)")
    authored.toml["version"] = str(int(old) + 1) if old.isdigit() else f"{old}.1"
    sections = re.split(r"(?m)^(?=\[)", text)
    return "".join(s for s in sections if s.startswith("[") and not s.startswith("[limits]"))


def register(verbs: argparse._SubParsersAction) -> None:
    from grader.grading.options import add_run_options

    parser = verbs.add_parser(
        "assign", help="make an assignment from a solution notebook",
        description="Turn a solution notebook into an assignment: a starter notebook without the "
        "code between # BEGIN SOLUTION and # END SOLUTION, a reference, tests from the cells "
        "starting with # TEST, and assignment.toml. Checks that the reference gets full marks and "
        "the starter zero before writing anything.")
    parser.add_argument("notebook", type=Path, help="the solution notebook (.ipynb)")
    parser.add_argument("-o", "--out", type=Path, required=True,
                        help="the assignment folder to write, e.g. assignments/NAME")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing assignment (its version goes up by one)")
    add_run_options(parser)
    parser.set_defaults(command=run_assign)


def run_assign(args: argparse.Namespace) -> int:
    from grader.grading.options import grade_options

    return assign(args.notebook, args.out, grade_options(args, 2, False), force=args.force)
