"""The public part of an assignment's test file: what a student release may carry.

Rebuilt from the file's syntax tree: the ``test_*`` functions without ``@hidden``, and every
top-level statement they (transitively) use; hidden tests, hidden probes and comments are dropped.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GraderError


@dataclass
class PublicPart:
    source: str  # the public test file's text
    public_tests: list[str]
    hidden_tests: list[str]
    public_points: dict[str, float]
    hidden_points: dict[str, float]
    descriptions: dict[str, str]  # every test's docstring's first line, by name
    removed: list[str]  # module-level names left out (hidden tests, hidden probes, their helpers)
    questions: dict[str, str] = field(default_factory=dict)  # every test's question (``@question``;
    # else the test's own name: one question per test)


def split_public(path: Path) -> PublicPart:
    """The public part of an assignment's test file: its public ``test_*`` functions and every
    module-level definition they reach; imports and other statements stay, comments go."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError) as error:
        raise GraderError(f"cannot read the tests {path}: {error}") from None
    defined: dict[str, list[ast.stmt]] = {}
    for node in tree.body:
        for name in _defines(node):
            defined.setdefault(name, []).append(node)
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
             and n.name.startswith("test")]
    hidden = [n for n in tests if _is_hidden(n)]
    public = [n for n in tests if n not in hidden]
    kept: set[int] = set()
    queue: list[ast.stmt] = list(public)
    queue += [n for n in tree.body if not _defines(n) or _always_kept(n)]
    while queue:
        node = queue.pop()
        if id(node) in kept or node in hidden:
            continue
        kept.add(id(node))
        for used in _names_used(node):
            queue += [n for n in defined.get(used, []) if n not in hidden]
    body = [n for n in tree.body if id(n) in kept]
    removed = sorted({name for n in tree.body if id(n) not in kept for name in _defines(n)})
    source = ast.unparse(ast.Module(body=body, type_ignores=[])) + "\n"
    header = ("# The public tests of this assignment (made by `grader release`): hidden tests and\n"
              "# what only they use are not in this file.\n")
    return PublicPart(header + source, [n.name for n in public], [n.name for n in hidden],
                      {n.name: _points(n) for n in public}, {n.name: _points(n) for n in hidden},
                      {n.name: _first_line(n) for n in tests}, removed,
                      {n.name: _question(n) for n in tests})


def _first_line(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    lines = (ast.get_docstring(node) or "").strip().splitlines()
    return lines[0] if lines else node.name


def _defines(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def _always_kept(node: ast.stmt) -> bool:
    """Module settings pytest reads (``pytestmark``) and dunders stay."""
    return any(name == "pytestmark" or name.startswith("__") for name in _defines(node))


def _names_used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    names = []
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute):
            names.append(target.attr)
        elif isinstance(target, ast.Name):
            names.append(target.id)
    return names


def _is_hidden(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return "hidden" in _decorator_names(node)


def _question(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """``@question("q1")``'s name, else the test's own (one question per test)."""
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call):
            target = decorator.func
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name == "question" and decorator.args and isinstance(decorator.args[0], ast.Constant) \
                    and isinstance(decorator.args[0].value, str) and decorator.args[0].value.strip():
                return decorator.args[0].value.strip()
    return node.name


def _points(node: ast.FunctionDef | ast.AsyncFunctionDef) -> float:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call):
            target = decorator.func
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name == "points" and decorator.args and isinstance(decorator.args[0], ast.Constant):
                value = decorator.args[0].value
                if isinstance(value, int | float):
                    return float(value)
    return 1.0


# --- the command line ----------------------------------------------------------------------------
