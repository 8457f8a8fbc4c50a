"""Mutants of a reference implementation: the source with one plausible student mistake each.

Each mutation is a typical PyTorch slip: a flipped sign, a dropped term or ``1/m`` factor, swapped
operands (``w @ x``), a missing or extra ``.T``, a removed ``optimizer.zero_grad()``, ``.clone()``,
``nn.Parameter(...)`` or ``shuffle=`` argument, average instead of max pooling, a missing ``relu``, an
off-by-one bound, index, size or dimension, a missing or extra ``.detach()``, a flipped comparison.
An assignment whose tests give a mutant full marks would accept that mistake.

Why Python's :mod:`ast` rather than mutmut or cosmic-ray: both are built to run a test command once
per mutant over a whole project (mutmut 3 rewrites the project into ``mutants/`` with trampolines;
cosmic-ray keeps a session database and an execution engine), neither offers a stable library call
that returns "this source with one mutation", and their operators are generic (numbers, strings,
``break``/``continue``) rather than the tensor mistakes above. Here a mutant is only source text,
so every mutant is graded in one batch by the grader's own sandbox pool; :mod:`ast` gives the node
positions, and the edit is spliced into the original text so the rest of the file (comments, layout)
stays as written and each mutant's diff is one line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import zip_longest

KINDS = ("sign", "drop_term", "drop_factor", "swap_operands", "transpose", "remove_call", "drop_call",
         "drop_keyword", "pooling", "activation", "off_by_one", "detach", "compare")
DROPPABLE_METHODS = {"clone", "contiguous", "requires_grad_", "item", "float", "double", "to", "cpu",
                     "numpy", "tolist", "squeeze", "unsqueeze", "view", "reshape"}
POOLS = {"max_pool1d": "avg_pool1d", "max_pool2d": "avg_pool2d", "max_pool3d": "avg_pool3d",
         "MaxPool1d": "AvgPool1d", "MaxPool2d": "AvgPool2d", "MaxPool3d": "AvgPool3d",
         "adaptive_max_pool2d": "adaptive_avg_pool2d", "AdaptiveMaxPool2d": "AdaptiveAvgPool2d"}
ACTIVATIONS = {"relu", "relu_", "sigmoid", "tanh", "leaky_relu", "gelu", "elu", "softmax", "log_softmax"}
ACTIVATION_MODULES = {"ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU", "ELU", "Softmax", "LogSoftmax"}
NEGATED = {ast.Lt: ast.GtE, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.GtE: ast.Lt, ast.Eq: ast.NotEq,
           ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
BOUNDARY = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
DIM_CALLS = {"flatten", "sum", "mean", "softmax", "log_softmax", "cat", "stack", "argmax", "max", "min",
             "squeeze", "unsqueeze", "transpose", "cumsum", "prod", "norm", "var", "std"}
SIZED_CALLS = {"Linear", "Conv1d", "Conv2d", "Conv3d", "max_pool2d", "avg_pool2d", "MaxPool2d", "AvgPool2d",
               "Embedding", "LSTM", "GRU", "RNN", "BatchNorm1d", "BatchNorm2d"}  # integer sizes in args
QUIET_CALLS = {"print", "display", "show", "savefig", "plot", "imshow", "figure", "title", "legend"}
ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant, ast.List, ast.Dict, ast.Tuple)


@dataclass(frozen=True)
class Mutant:
    """The reference with one mutation."""

    id: str  # mutant_001
    kind: str  # one of KINDS
    line: int  # where, in the reference
    description: str  # "x @ self.weights -> self.weights @ x"
    original: str  # the reference's line(s), stripped
    mutated: str  # the same line(s) in the mutant
    source: str  # the whole mutant


@dataclass(frozen=True)
class _Edit:
    kind: str
    node: ast.AST
    replacement: ast.AST | str  # a node, or statement text ("pass")


def generate(source: str, max_mutants: int = 200,
             regions: Sequence[tuple[int, int]] | None = None) -> list[Mutant]:
    """Distinct, compilable mutants of ``source``; at most ``max_mutants``, taken in turn from each
    kind so that every kind is represented, numbered in the order of the source.

    With ``regions`` (pairs of first and last line, inclusive: the solution regions), only code
    wholly inside a region is mutated. Without, the whole source is, except demo code at the top
    level (``print(model)``, a training run, ``if __name__ == "__main__":``): only definitions,
    and assignments of module-level names that a definition uses, are mutated."""
    tree = ast.parse(source)
    original = ast.dump(tree)
    seen = {original}
    by_kind: dict[str, list[Mutant]] = {kind: [] for kind in KINDS}
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    solution = _solution_nodes(tree) if regions is None else None
    for edit in _edits(tree):
        if solution is not None and id(edit.node) not in solution:
            continue
        if regions is not None and not _inside(edit.node, regions):
            continue
        mutant = _apply(source, edit, parents.get(id(edit.node)))
        if mutant is None:
            continue
        try:
            dumped = ast.dump(ast.parse(mutant.source))
        except SyntaxError:
            continue
        if dumped not in seen:
            seen.add(dumped)
            by_kind[edit.kind].append(mutant)
    chosen = [m for group in zip_longest(*by_kind.values()) for m in group if m is not None]
    chosen = sorted(chosen[:max_mutants], key=lambda m: (m.line, KINDS.index(m.kind)))
    return [_numbered(m, i) for i, m in enumerate(chosen, 1)]


def _inside(node: ast.AST, regions: Sequence[tuple[int, int]]) -> bool:
    first, last = node.lineno, node.end_lineno or node.lineno  # type: ignore[attr-defined]
    return any(start <= first and last <= end for start, end in regions)


def _solution_nodes(tree: ast.Module) -> set[int]:
    """The nodes of a plain reference that hold its solution: definitions (functions, classes) and
    top-level assignments of names a definition reads (``EPS = 1e-8``); not the top-level demo code
    students' scripts and references alike carry (``print(net)``, ``net(x)``, a plot, a loop)."""
    definitions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    used = {n.id for d in definitions for n in ast.walk(d)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    chosen: list[ast.AST] = list(definitions)
    for statement in tree.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            if names & used:
                chosen.append(statement)
    return {id(n) for statement in chosen for n in ast.walk(statement)}


def _numbered(mutant: Mutant, number: int) -> Mutant:
    return Mutant(f"mutant_{number:03d}", mutant.kind, mutant.line, mutant.description,
                  mutant.original, mutant.mutated, mutant.source)


def _edits(tree: ast.Module) -> Iterator[_Edit]:
    quiet = _quiet_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in quiet["fstring"] or not hasattr(node, "lineno"):
            continue
        if isinstance(node, ast.BinOp):
            yield from _binop(node, detach=id(node) not in quiet["no_grad"])
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            yield _Edit("sign", node, node.operand)
        elif isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.ctx, ast.Load):
            yield _Edit("transpose", node, node.value)
        elif isinstance(node, ast.Call):
            yield from _call(node)
        elif isinstance(node, ast.Subscript):
            yield from _slices(node)
        elif isinstance(node, ast.Compare):
            yield from _compare(node)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            if _func_name(node.value) not in QUIET_CALLS and not _is_super_init(node.value):
                yield _Edit("remove_call", node, "pass")
        elif isinstance(node, ast.AugAssign):
            yield _Edit("remove_call", node, "pass")
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            for value in node.value.elts:
                if isinstance(value, ast.Name | ast.BinOp):
                    yield _Edit("sign", value, ast.UnaryOp(ast.USub(), value))
        elif isinstance(node, ast.Return | ast.Assign) and isinstance(node.value, ast.BinOp):
            yield _Edit("sign", node.value, ast.UnaryOp(ast.USub(), node.value))


def _quiet_nodes(tree: ast.Module) -> dict[str, set[int]]:
    """Nodes not to mutate (inside f-strings), and where an added ``.detach()`` changes nothing:
    hand-written ``backward`` methods, autograd Functions, ``with torch.no_grad():`` blocks."""
    fstring: set[int] = set()
    no_grad: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            fstring |= {id(n) for n in ast.walk(node)}
        elif isinstance(node, ast.FunctionDef) and (node.name == "backward" or _first_arg(node) == "ctx"):
            no_grad |= {id(n) for n in ast.walk(node)}
        elif isinstance(node, ast.With) and any("no_grad" in ast.unparse(i.context_expr) for i in node.items):
            no_grad |= {id(n) for n in ast.walk(node)}
    return {"fstring": fstring, "no_grad": no_grad}


def _first_arg(function: ast.FunctionDef) -> str:
    return function.args.args[0].arg if function.args.args else ""


def _is_super_init(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Attribute) and func.attr == "__init__" and isinstance(func.value, ast.Call)
            and _func_name(func.value) == "super")


def _binop(node: ast.BinOp, detach: bool) -> Iterator[_Edit]:
    left, right, op = node.left, node.right, node.op
    if all(isinstance(n, ast.Constant | ast.BinOp | ast.operator) for n in ast.walk(node)):
        return  # arithmetic on literals (16 * 5 * 5): not a student's formula
    if isinstance(op, ast.Sub):
        yield _Edit("sign", node, ast.BinOp(left, ast.Add(), right))
        yield _Edit("swap_operands", node, ast.BinOp(right, ast.Sub(), left))
        yield _Edit("drop_term", node, left)
    elif isinstance(op, ast.Add):
        yield _Edit("sign", node, ast.BinOp(left, ast.Sub(), right))
        yield _Edit("drop_term", node, left)
        yield _Edit("drop_term", node, right)
    elif isinstance(op, ast.Mult):
        yield _Edit("drop_factor", node, right)
        yield _Edit("drop_factor", node, left)
    elif isinstance(op, ast.Div):
        yield _Edit("drop_factor", node, left)
        yield _Edit("swap_operands", node, ast.BinOp(right, ast.Div(), left))
    elif isinstance(op, ast.Pow):
        yield _Edit("drop_factor", node, left)
    elif isinstance(op, ast.MatMult):
        yield _Edit("swap_operands", node, ast.BinOp(right, ast.MatMult(), left))
        for side in (left, right):
            if _is_transposed(side):
                continue
            other = _transposed(side)
            yield _Edit("transpose", node, ast.BinOp(other if side is left else left, op,
                                                     other if side is right else right))
    if detach and isinstance(op, ast.MatMult | ast.Mult | ast.Add | ast.Sub):
        for side in (left, right):
            if _is_self_attribute(side):
                detached = _method(side, "detach")
                yield _Edit("detach", node, ast.BinOp(detached if side is left else left, op,
                                                      detached if side is right else right))


def _call(node: ast.Call) -> Iterator[_Edit]:
    name = _func_name(node)
    func = node.func
    if isinstance(func, ast.Attribute) and name == "detach" and not node.args:
        yield _Edit("detach", node, func.value)
    elif isinstance(func, ast.Attribute) and name in ("t", "transpose"):
        yield _Edit("transpose", node, func.value)
    elif isinstance(func, ast.Attribute) and name in DROPPABLE_METHODS and not _is_module(func.value):
        yield _Edit("drop_call", node, func.value)
    elif name == "Parameter" and len(node.args) == 1:
        yield _Edit("drop_call", node, node.args[0])  # a plain tensor: never trained
    elif name in POOLS:
        yield _Edit("pooling", node, _renamed_call(node, POOLS[name]))
    elif name in ACTIVATIONS and node.args:
        yield _Edit("activation", node, node.args[0])
    elif name in ACTIVATION_MODULES:
        yield _Edit("activation", node, ast.Call(_renamed(func, "Identity"), [], []))
    elif name == "range" and isinstance(func, ast.Name) and 1 <= len(node.args) <= 3:
        stop = 0 if len(node.args) == 1 else 1
        for delta in (-1, 1):
            yield _Edit("off_by_one", node, _with_arg(node, stop, _shifted(node.args[stop], delta)))
        if len(node.args) >= 2:
            yield _Edit("off_by_one", node, _with_arg(node, 0, _shifted(node.args[0], 1)))
    elif name == "len" and isinstance(func, ast.Name):
        for delta in (-1, 1):
            yield _Edit("off_by_one", node, _shifted(node, delta))
    if name in DIM_CALLS or name in SIZED_CALLS:
        yield from _dims(node, minimum=1 if name in SIZED_CALLS else -1)
    if name not in QUIET_CALLS:
        for index, keyword in enumerate(node.keywords):  # DataLoader(d, batch_size=b, shuffle=s) -> no shuffle
            if keyword.arg is not None:
                yield _Edit("drop_keyword", node,
                            ast.Call(func, node.args, [*node.keywords[:index], *node.keywords[index + 1 :]]))


def _dims(call: ast.Call, minimum: int) -> Iterator[_Edit]:
    """A dimension or size off by one: ``torch.flatten(x, 1)`` -> ``torch.flatten(x, 0)``,
    ``dim=1`` -> ``dim=2``, ``nn.Linear(120, 84)`` -> ``nn.Linear(120, 85)``."""
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Constant) and type(arg.value) is int:
            for delta in (-1, 1) if arg.value - 1 >= minimum else (1,):
                yield _Edit("off_by_one", call, _with_arg(call, index, _shifted(arg, delta)))
    for index, keyword in enumerate(call.keywords):
        value = keyword.value
        if keyword.arg in ("dim", "start_dim", "end_dim") and isinstance(value, ast.Constant) \
                and type(value.value) is int:
            for delta in (-1, 1):
                keywords = [*call.keywords[:index], ast.keyword(keyword.arg, _shifted(value, delta)),
                            *call.keywords[index + 1 :]]
                yield _Edit("off_by_one", call, ast.Call(call.func, call.args, keywords))


def _slices(node: ast.Subscript) -> Iterator[_Edit]:
    """Off-by-one indexes and slice bounds: ``x[idx]`` -> ``x[idx + 1]``, ``x[a:b]`` -> ``x[a:b - 1]``."""
    if not isinstance(node.ctx, ast.Load):
        return
    parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    for index, part in enumerate(parts):
        changes: list[ast.expr] = []
        if isinstance(part, ast.Name):
            changes += [_shifted(part, d) for d in (-1, 1)]
        elif isinstance(part, ast.Constant) and type(part.value) is int and _attribute(node.value) == "shape":
            changes += [_shifted(part, d) for d in (-1, 1) if part.value + d >= 0]  # x.shape[1] -> x.shape[0]
        elif isinstance(part, ast.Slice):
            if part.lower is not None:
                changes.append(ast.Slice(_shifted(part.lower, 1), part.upper, part.step))
            if part.upper is not None:
                changes += [ast.Slice(part.lower, _shifted(part.upper, d), part.step) for d in (-1, 1)]
        for changed in changes:
            new_parts = [*parts[:index], changed, *parts[index + 1 :]]
            new_slice = ast.Tuple(new_parts, ast.Load()) if isinstance(node.slice, ast.Tuple) else changed
            yield _Edit("off_by_one", node, ast.Subscript(node.value, new_slice, node.ctx))


def _compare(node: ast.Compare) -> Iterator[_Edit]:
    for index, op in enumerate(node.ops):
        for table in (NEGATED, BOUNDARY):
            if type(op) in table:
                ops = [*node.ops[:index], table[type(op)](), *node.ops[index + 1 :]]
                yield _Edit("compare", node, ast.Compare(node.left, ops, node.comparators))


def _func_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _renamed(func: ast.expr, name: str) -> ast.expr:
    return ast.Attribute(func.value, name, ast.Load()) if isinstance(func, ast.Attribute) else ast.Name(name)


def _renamed_call(call: ast.Call, name: str) -> ast.Call:
    return ast.Call(_renamed(call.func, name), call.args, call.keywords)


def _with_arg(call: ast.Call, index: int, value: ast.expr) -> ast.Call:
    return ast.Call(call.func, [*call.args[:index], value, *call.args[index + 1 :]], call.keywords)


def _shifted(value: ast.expr, delta: int) -> ast.expr:
    if isinstance(value, ast.Constant) and type(value.value) is int:
        return ast.Constant(value.value + delta)
    return ast.BinOp(value, ast.Add() if delta > 0 else ast.Sub(), ast.Constant(abs(delta)))


def _method(value: ast.expr, name: str) -> ast.expr:
    return ast.Call(ast.Attribute(value, name, ast.Load()), [], [])


def _attribute(value: ast.expr) -> str:
    return value.attr if isinstance(value, ast.Attribute) else ""


def _is_module(value: ast.expr) -> bool:
    """``torch.``/``np.``/``F.``: a module's function, not a method of a value."""
    return isinstance(value, ast.Name) and value.id in {"torch", "np", "numpy", "F", "nn", "math"}


def _is_self_attribute(value: ast.expr) -> bool:
    return isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self"


def _is_transposed(value: ast.expr) -> bool:
    return isinstance(value, ast.Attribute) and value.attr == "T"


def _transposed(value: ast.expr) -> ast.expr:
    return ast.Attribute(value, "T", ast.Load())


def _apply(source: str, edit: _Edit, parent: ast.AST | None) -> Mutant | None:
    """The mutant: the edit's text spliced over the node's span in the original source."""
    node = edit.node
    lines = source.splitlines(keepends=True)
    start = _offset(lines, node.lineno, node.col_offset)
    end = _offset(lines, node.end_lineno, node.end_col_offset)
    if isinstance(edit.replacement, str):
        text = after = edit.replacement
    else:
        after = ast.unparse(edit.replacement)
        bare = isinstance(edit.replacement, ATOMS) or _stands_alone(edit.node, parent, source, start, end)
        text = after if bare else f"({after})"
    before = ast.unparse(node) if isinstance(node, ast.expr) else source[start:end].strip()
    mutated = source[:start] + text + source[end:]
    first = source.rfind("\n", 0, start) + 1
    original_line = source[first:_line_end(source, end)].strip()
    mutated_line = mutated[first:_line_end(mutated, start + len(text))].strip()
    if mutated_line == original_line:
        return None
    description = f"{_short(before)} -> {_short(after)}" if text != "pass" else f"removed {_short(before)}"
    return Mutant("", edit.kind, node.lineno, description, " ".join(original_line.split()),
                  " ".join(mutated_line.split()), mutated)


def _stands_alone(node: ast.AST, parent: ast.AST | None, source: str, start: int, end: int) -> bool:
    """Whether any expression can replace ``node`` without parentheses: it is a whole statement's
    value or test, a call's argument, or already in parentheses."""
    if source[start - 1 : start] == "(" and source[end : end + 1] == ")":
        return True
    if isinstance(parent, ast.Assign | ast.AugAssign | ast.Return | ast.Expr) and parent.value is node:
        return True
    if isinstance(parent, ast.If | ast.While) and parent.test is node:
        return True
    if isinstance(parent, ast.keyword):
        return True
    return isinstance(parent, ast.Call) and node in parent.args


def _line_end(text: str, position: int) -> int:
    end = text.find("\n", position)
    return len(text) if end < 0 else end


def _offset(lines: list[str], lineno: int, col: int) -> int:
    """Character offset of ``(lineno, col)``; ``col`` counts UTF-8 bytes, as ast gives it."""
    before = sum(len(line) for line in lines[: lineno - 1])
    return before + len(lines[lineno - 1].encode()[:col].decode(errors="ignore"))


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
