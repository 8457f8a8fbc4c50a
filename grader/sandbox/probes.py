"""What the warm server keeps of an assignment's tests: the probes, and only what they use.

Every sandbox is a copy of the warm server's memory, so whatever it holds, a determined student can
read (``probe.__globals__``, ``gc.get_objects()``). The judge's test functions and the constants
only they use (thresholds, expected values) are therefore not kept: each probe is re-bound to
globals holding just the names it reaches. A probe's inputs stay visible by design.
"""

from __future__ import annotations

import gc
import importlib.util
import types
from typing import Any

from grader.probing import DECISIONS_PROBE, decisions_probe, probes_of


def load_probes(test_files: list[str]) -> dict[str, Any]:
    """The probes of the assignment's tests, and only what they use: the judge's test functions
    and their constants are not kept in this process, which every sandbox is a copy of. One more
    runs last: :func:`grader.probing.decisions_probe`."""
    probes: dict[str, Any] = {}
    for index, path in enumerate(test_files):
        spec = importlib.util.spec_from_file_location(f"grader_probes_{index}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, probe in probes_only(module).items():
            if name in probes:
                raise SystemExit(f"probe {name} is defined twice in the assignment's tests")
            probes[name] = probe
        del module
    gc.collect()
    probes[DECISIONS_PROBE] = decisions_probe  # runs last: what grace decided, for a TA to review
    return probes


def probes_only(module: Any) -> dict[str, Any]:
    """The module's probes, re-bound to globals that hold only the names they reach."""
    found = probes_of(module)
    names = vars(module)
    needed: set[str] = set()
    todo = list(found.values())
    while todo:
        for code in _code_objects(todo.pop()):
            for name in code.co_names:
                if name in names and name not in needed:
                    needed.add(name)
                    todo.append(names[name])
    kept = {name: names[name] for name in needed}
    kept.update({key: names[key] for key in ("__name__", "__builtins__") if key in names})
    rebound: dict[int, Any] = {}
    for name, value in list(kept.items()):
        kept[name] = _rebind(value, names, kept, rebound)
    return {name: _rebind(probe, names, kept, rebound) for name, probe in found.items()}


def _code_objects(value: Any) -> list[types.CodeType]:
    """Code a value runs: a function's (and its nested functions'), a class's methods'."""
    if isinstance(value, types.FunctionType):
        codes, todo = [], [value.__code__]
        while todo:
            code = todo.pop()
            codes.append(code)
            todo += [const for const in code.co_consts if isinstance(const, types.CodeType)]
        return codes
    if isinstance(value, type):
        return [code for member in vars(value).values() for code in _code_objects(member)]
    return []


def _rebind(value: Any, old: dict, new: dict, done: dict[int, Any]) -> Any:
    """A function of the test module, now looking its names up in ``new``; other values as they are."""
    if not (isinstance(value, types.FunctionType) and value.__globals__ is old):
        if isinstance(value, type) and value.__module__ == old.get("__name__"):
            for attribute, member in list(vars(value).items()):
                if isinstance(member, types.FunctionType) and member.__globals__ is old:
                    setattr(value, attribute, _rebind(member, old, new, done))
        return value
    if id(value) not in done:
        function = types.FunctionType(value.__code__, new, value.__name__, value.__defaults__,
                                      value.__closure__)
        function.__kwdefaults__ = value.__kwdefaults__
        function.__dict__.update(value.__dict__)
        function.__qualname__, function.__module__ = value.__qualname__, value.__module__
        done[id(value)] = function
    return done[id(value)]
