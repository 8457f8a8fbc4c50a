"""A ``.py`` submission as cells: ``# %%`` cells, a marimo notebook's cells, or top-level statements.

Students' scripts do everything at top level and often crash early (a scratch line, a download, a
missing helper module). Run as one block, the crash would hide every definition after it, so a
script is split, in the first of these forms that fits:

- **percent format** (VS Code, Spyder, PyCharm, Jupytext; also ``# In[3]:`` from
  ``jupyter nbconvert --to script``): one cell per ``# %%`` marker; ``# %% [markdown]`` and
  ``# %% [raw]`` cells are skipped and not counted;
- **marimo** (``app = marimo.App()`` and ``@app.cell`` functions): each cell's body, run in the
  order of its dependencies (a cell's parameters are the names it uses from other cells, its
  ``return`` the names it defines), read from marimo's documented file format with :mod:`ast`:
  marimo itself is not imported (it is a web server with many dependencies; students' notebooks
  only need its file format);
- otherwise **top-level statements**: each statement (a ``def`` or ``class`` with its decorators,
  an ``if``/``for``/``with`` block) is a cell of its own.

Every cell keeps its lines' numbers in the file (``Cell.first_line``), so a traceback, an error
and a time-out name the line a student sees in their editor. A file that does not parse stays one
cell, so that ``compile`` reports the syntax error where it is.
"""

from __future__ import annotations

import ast
import re

from grader.intake.cells import Cell, transform_ipython

PERCENT_MARKER = re.compile(r"^[ \t]*#[ \t]*(%%|In\[[ \d]*\]:)(.*)$", re.MULTILINE)
SKIPPED_PERCENT_CELLS = re.compile(r"^\s*\[(markdown|md|raw)\]", re.IGNORECASE)
MARIMO_CELL_DECORATORS = {"cell", "function", "class_definition"}


def script_cells(text: str, name: str) -> list[Cell]:
    """The cells of a ``.py`` file's text (see the module's docstring for the forms)."""
    if "%%" in text or "# In[" in text:
        cells = _percent_cells(text, name)
        if cells is not None:
            return cells
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):  # compile() reports it, with its line
        return [Cell(1, text, name)]
    if "marimo" in text and "app" in text:
        cells = _marimo_cells(text, tree, name)
        if cells is not None:
            return cells
    return _statement_cells(text, tree, name)


def _percent_cells(text: str, name: str) -> list[Cell] | None:
    markers = list(PERCENT_MARKER.finditer(text))
    if not markers:
        return None
    cells: list[Cell] = []
    head = text[:markers[0].start()]
    if head.strip():  # code before the first marker: a cell of its own
        cells.append(Cell(1, head, name, first_line=1))
    for index, marker in enumerate(markers):
        if marker.group(1) == "%%" and SKIPPED_PERCENT_CELLS.match(marker.group(2)):
            continue
        end = markers[index + 1].start() if index + 1 < len(markers) else len(text)
        body_start = text.find("\n", marker.end())
        if body_start < 0 or body_start >= end:
            continue
        body = text[body_start + 1:end]
        if not body.strip():
            continue
        first_line = text.count("\n", 0, body_start + 1) + 1
        cells.append(Cell(len(cells) + 1, _plain_python(body), name, first_line=first_line))
    return cells


def _plain_python(body: str) -> str:
    """A percent cell's code; IPython syntax (``%timeit``, ``!pip``) transformed if it has any."""
    try:
        ast.parse(body)
        return body
    except (SyntaxError, ValueError):
        transformed = transform_ipython(body)
        return transformed if transformed.count("\n") == body.count("\n") else body


def _statement_cells(text: str, tree: ast.Module, name: str) -> list[Cell]:
    if len(tree.body) <= 1:
        return [Cell(1, text, name)]
    lines = text.splitlines(keepends=True)
    cells = []
    for statement in tree.body:
        start = _first_line(statement)
        end = statement.end_lineno or start
        cells.append(Cell(len(cells) + 1, "".join(lines[start - 1:end]), name, first_line=start))
    return cells


def _first_line(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", None) or []
    return min([statement.lineno, *(d.lineno for d in decorators)])


def _marimo_cells(text: str, tree: ast.Module, name: str) -> list[Cell] | None:
    """The cells of a marimo notebook in dependency order, or None when ``text`` is not one."""
    app_names = {
        target.id
        for node in tree.body if isinstance(node, ast.Assign) and _is_marimo_app(node.value)
        for target in node.targets if isinstance(target, ast.Name)
    }
    if not app_names:
        return None
    lines = text.splitlines(keepends=True)
    setup: list[Cell] = []
    units: list[tuple[Cell, set[str], set[str]]] = []  # (cell, names it defines, names it uses)
    for node in tree.body:
        if isinstance(node, ast.With) and any(_is_app_attribute(item.context_expr, app_names, "setup")
                                              for item in node.items):
            setup.append(_body_cell(node.body, lines, name))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            kinds = [d for d in node.decorator_list
                     if any(_is_app_attribute(d, app_names, kind) for kind in MARIMO_CELL_DECORATORS)]
            if not kinds:
                continue
            if not (_is_app_attribute(kinds[0], app_names, "cell") and isinstance(node, ast.FunctionDef)):
                start = node.lineno  # @app.function / @app.class_definition: the definition itself
                source = "".join(lines[start - 1:node.end_lineno])
                units.append((Cell(0, source, name, first_line=start), {node.name}, set()))
                continue
            body = node.body
            defines: set[str] = set()
            if body and isinstance(body[-1], ast.Return):
                defines = _returned_names(body[-1].value)
                body = body[:-1]
            if not body:
                continue
            uses = {arg.arg for arg in node.args.args}
            defines |= _assigned_names(body)
            units.append((_body_cell(body, lines, name), defines, uses))
    ordered = setup + _dependency_order(units)
    return [Cell(number, cell.source, name, first_line=cell.first_line)
            for number, cell in enumerate(ordered, start=1)]


def _is_marimo_app(value: ast.expr) -> bool:
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and value.func.attr == "App" and isinstance(value.func.value, ast.Name)
            and value.func.value.id == "marimo")


def _is_app_attribute(node: ast.expr, app_names: set[str], attribute: str) -> bool:
    if isinstance(node, ast.Call):
        node = node.func
    return (isinstance(node, ast.Attribute) and node.attr == attribute
            and isinstance(node.value, ast.Name) and node.value.id in app_names)


def _body_cell(body: list[ast.stmt], lines: list[str], name: str) -> Cell:
    """A function's (or ``with`` block's) body as top-level code under ``if True:``, which keeps
    its indentation valid and its line numbers those of the file."""
    start, end = _first_line(body[0]), body[-1].end_lineno or body[-1].lineno
    source = "if True:\n" + "".join(lines[start - 1:end])
    return Cell(0, source, name, first_line=start - 1)


def _returned_names(value: ast.expr | None) -> set[str]:
    items = value.elts if isinstance(value, ast.Tuple | ast.List) else [value]
    return {item.id for item in items if isinstance(item, ast.Name)}


def _assigned_names(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(statement.name)
        elif isinstance(statement, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in statement.names)
        elif isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _dependency_order(units: list[tuple[Cell, set[str], set[str]]]) -> list[Cell]:
    """Cells ordered so that each runs after the cells defining what it uses; otherwise the file's
    order (marimo's own rule). Cycles and names nobody defines leave the remaining cells in file
    order."""
    definer = {}
    for index, (_, defines, _) in enumerate(units):
        for defined_name in defines:
            definer.setdefault(defined_name, index)
    needs = [{definer[n] for n in uses if n in definer and definer[n] != index}
             for index, (_, _, uses) in enumerate(units)]
    done: list[int] = []
    placed: set[int] = set()
    while len(done) < len(units):
        ready = next((i for i in range(len(units)) if i not in placed and needs[i] <= placed), None)
        if ready is None:  # a cycle: the rest in file order
            ready = next(i for i in range(len(units)) if i not in placed)
        done.append(ready)
        placed.add(ready)
    return [units[i][0] for i in done]
