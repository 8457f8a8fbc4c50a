"""Helpers for probes (they run in the sandbox): find what the student defined, explain what is not,
and grade behaviour through the common variants of a contract, so that one deviation costs one test.

Markers and the probe decorator live here too (``probe``, ``points``, ``hidden``). Each helper
raises :class:`ProbeFailure` with a sentence a student can act on.

- :func:`defined` finds a required name; else an alias from ``assignment.toml``; else, with the
  assignment's grace on, the one definition that fits (a close spelling, or the only ``nn.Module``
  subclass / function of the right arity), recorded so that :func:`names_used` can report it.
- :func:`construct` calls a class with the probe's arguments, leaving out keyword arguments its
  ``__init__`` does not accept (``flexible=True``), and says which were left out.
- :func:`tensor_of` finds a module's tensor by the task's name, else by shape (``self.b`` or
  ``self.weight`` where ``bias`` and ``weights`` are asked), so that only the naming test fails.
- :func:`load_tensor` copies fixed values into a student's tensor by shape: the task's layout, or
  the transposed one (``nn.Linear``'s ``(out, in)``), and says which it was.
"""

from __future__ import annotations

import difflib
import inspect
import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

points = pytest.mark.points
"""``@points(n)``: the test is worth ``n`` points (default 1)."""

hidden = pytest.mark.hidden
"""``@hidden``: the test counts for the grade but students never see its details."""

question = pytest.mark.question
"""``@question("q1")``: the test belongs to question ``q1`` of the starter (``check("q1")`` runs that
question's public tests; ``grader release`` puts a check cell after the question's cells). Without
it, a test is a question of its own, named as the test."""

Probe = Callable[[dict[str, Any], Any], Any]
PROBE_ATTRIBUTE = "__grader_probe__"


def probe(function: Probe) -> Probe:
    """Mark ``function(ns, device)`` as a probe run in the sandbox on the student's namespace."""
    setattr(function, PROBE_ATTRIBUTE, function.__name__)
    filename = function.__code__.co_filename
    if filename not in _SETTINGS_READ:  # [names] of assignment.toml, read before any sandbox starts
        _SETTINGS_READ.add(filename)
        load_names_settings(filename)
    return function


_SETTINGS_READ: set[str] = set()


def probes_of(module: Any) -> dict[str, Probe]:
    """The probes a test module defines, by name."""
    return {
        value.__name__: value
        for value in vars(module).values()
        if callable(value) and getattr(value, PROBE_ATTRIBUTE, None) == getattr(value, "__name__", "")
    }


class ProbeFailure(Exception):
    """Raised by a probe when the student's code does not meet the contract; the message is shown
    to the student as it is (e.g. "MyLinear has no parameters: wrap weights in nn.Parameter")."""


SPELLING_CUTOFF = 0.8  # difflib's ratio for "a close spelling" (MyLiner/MyLinear: 0.93)
NAMES_SETTINGS: dict[str, Any] = {"aliases": {}, "grace": True}  # from the assignment's toml
GRACED: dict[str, str] = {}  # required name -> the student's name graded in its place
LEFT_OUT: dict[str, list[str]] = {}  # class name -> keyword arguments its __init__ lacks


def load_names_settings(test_file: str | Path) -> None:
    """Read ``[names]`` of the ``assignment.toml`` beside ``test_file`` (called when the test
    module is imported, before any sandbox hides the file)::

        [names]
        grace = true                            # false: a missing name fails its tests, as before
        aliases = { MyLinear = ["LinearLayer"] } # accepted in its place, with no deduction
    """
    folder = Path(test_file).resolve().parent
    try:
        if (folder / "assignment.toml").is_file():
            names = tomllib.loads((folder / "assignment.toml").read_text(encoding="utf-8")).get("names", {})
        else:  # a student release: its manifest carries the table
            names = json.loads((folder / "release.json").read_text(encoding="utf-8")).get("names", {})
    except (OSError, ValueError, AttributeError):  # TOMLDecodeError and JSONDecodeError too
        return
    if isinstance(names, dict):
        aliases = names.get("aliases", {})
        NAMES_SETTINGS["aliases"] = {str(k): [str(a) for a in v] for k, v in aliases.items()
                                     if isinstance(v, list)} if isinstance(aliases, dict) else {}
        NAMES_SETTINGS["grace"] = bool(names.get("grace", True))


def defined(ns: dict[str, Any], name: str, *, like: type | None = None,
            arity: int | None = None) -> Any:
    """The object the student defined as ``name`` (or an alias of it); else, with grace on, the one
    definition that fits: a close spelling of the same kind, or the only subclass of ``like`` (the
    only function taking ``arity`` positional arguments) the student defined. Else a failure."""
    if name in ns:
        return ns[name]
    for alias in NAMES_SETTINGS["aliases"].get(name, []):
        if alias in ns:
            return ns[alias]
    mine = _students_own(ns)
    if NAMES_SETTINGS["grace"]:
        found = _the_one_that_fits(mine, name, like, arity)
        if found is not None:
            GRACED[name] = found
            return ns[found]
    close = difflib.get_close_matches(name, list(mine), n=1, cutoff=SPELLING_CUTOFF)
    hint = f" (you defined {close[0]}: a typo?)" if close else ""
    failure = ProbeFailure(f"your code does not define {name}{hint}")
    failure.missing_name = name  # type: ignore[attr-defined]
    raise failure


def _students_own(ns: dict[str, Any]) -> dict[str, Any]:
    """The classes and functions the student's own code defined (not imported ones)."""
    module = ns.get("__name__")
    return {key: value for key, value in ns.items()
            if not key.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
            and getattr(value, "__module__", None) == module}


def _the_one_that_fits(mine: dict[str, Any], name: str, like: type | None,
                       arity: int | None) -> str | None:
    def fits(value: Any) -> bool:
        if like is not None:
            return inspect.isclass(value) and issubclass(value, like)
        if arity is not None:
            return inspect.isfunction(value) and _accepts(value, arity)
        return True

    close = [k for k in difflib.get_close_matches(name, list(mine), n=3, cutoff=SPELLING_CUTOFF)
             if fits(mine[k])]
    if len(close) == 1:
        return close[0]
    if like is None and arity is None:
        return None
    kind = [key for key, value in mine.items() if fits(value)]
    return kind[0] if len(kind) == 1 else None


def _accepts(function: Any, count: int) -> bool:
    try:
        inspect.signature(function).bind(*range(count))
        return True
    except (TypeError, ValueError):
        return False


def names_used(ns: dict[str, Any], required: list[str]) -> dict[str, dict[str, Any]]:
    """For a probe of its own (probes run in name order, so name it to sort after those that look
    names up): each required name, with the name the student's definition was graded under
    (``used``, None where nothing fitted) and whether that was by grace (a deduction)."""
    used: dict[str, dict[str, Any]] = {}
    for name in required:
        alias = next((a for a in [name, *NAMES_SETTINGS["aliases"].get(name, [])] if a in ns), None)
        graced = alias is None and name in GRACED
        used[name] = {"used": alias or GRACED.get(name), "graced": graced}
    return used


def still_a_stub(make: Any) -> bool:
    """Whether ``make()`` (building the student's object) raises ``NotImplementedError``: the
    starter's stub, handed in unchanged. A names test fails for it, so the starter gets no point
    for the names it was given; any other outcome (even another error) is the student's code."""
    try:
        make()
    except NotImplementedError:
        return True
    except Exception:  # noqa: BLE001 - the other tests report it
        return False
    return False


def require_method(obj: Any, name: str, base: type | None = None) -> None:
    """Fail unless ``type(obj)`` defines ``name`` itself (not only inherits it from ``base``)."""
    cls = obj if isinstance(obj, type) else type(obj)
    inherited = base is not None and getattr(cls, name, None) is getattr(base, name, None)
    if hasattr(cls, name) and not inherited:
        return
    own = [k for k in vars(cls) if not k.startswith("__")]
    close = difflib.get_close_matches(name, own, n=1, cutoff=0.6)
    hint = f" (did you spell it {close[0]}?)" if close else ""
    raise ProbeFailure(f"{cls.__name__} has no {name} method{hint}")


def construct(cls: Any, *args: Any, flexible: bool = False, **kwargs: Any) -> Any:
    """``cls(*args, **kwargs)``, explaining a signature that does not match the task's. With
    ``flexible``, keyword arguments ``cls.__init__`` does not accept are left out (recorded in
    :data:`LEFT_OUT`; see :func:`accepts_keyword`), so a missing ``bias=`` costs only the tests
    that need it."""
    if flexible:
        dropped = [key for key in kwargs if not accepts_keyword(cls, key)]
        if dropped:
            LEFT_OUT[getattr(cls, "__name__", "?")] = dropped
            kwargs = {k: v for k, v in kwargs.items() if k not in dropped}
    try:
        return cls(*args, **kwargs)
    except TypeError as error:
        if "argument" in str(error):
            call = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
            raise ProbeFailure(f"{cls.__name__}({call}) failed: {error}; check __init__'s "
                               "parameters against the task") from None
        raise


def accepts_keyword(cls: Any, keyword: str) -> bool:
    """Whether ``cls(...)`` takes ``keyword=`` (by name, or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == keyword and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               or p.kind is p.VAR_KEYWORD for p in parameters)


def tensor_of(module: Any, name: str, shape: tuple[int, ...], taken: set[str] | None = None) -> Any:
    """``module``'s tensor ``name`` (a parameter or a plain tensor attribute); when it has none,
    the one tensor of ``shape`` (or, 2-D, its transpose) among those not in ``taken``, under any
    name (``self.b`` for ``bias``). The name found is added to ``taken``; None when nothing fits."""
    import torch

    taken = set() if taken is None else taken
    tensors = {n: t for n, t in vars(module).items() if isinstance(t, torch.Tensor)}
    tensors.update(getattr(module, "_buffers", {}) or {})
    tensors.update(getattr(module, "_parameters", {}) or {})
    tensors = {n: t for n, t in tensors.items() if isinstance(t, torch.Tensor)}
    if name in tensors:
        taken.add(name)
        return tensors[name]
    shapes = {tuple(shape), tuple(shape)[::-1]} if len(shape) == 2 else {tuple(shape)}
    fits = [n for n, t in tensors.items() if n not in taken and tuple(t.shape) in shapes]
    if len(fits) != 1:
        return getattr(module, name, None)
    taken.add(fits[0])
    return tensors[fits[0]]


def not_a_tensor(value: Any) -> str:
    """`` (a numpy array: return the tensor itself, without .numpy())`` for what a student returned
    where a tensor was asked: the usual conversions named; empty for anything else."""
    conversions = {"ndarray": ("a numpy array", ".numpy()"), "float": ("a Python number", ".item()"),
                   "int": ("a Python number", ".item()"), "list": ("a list", ".tolist()")}
    kind = conversions.get(type(value).__name__)
    return f" ({kind[0]}: return the tensor itself, without {kind[1]})" if kind else ""


def load_tensor(target: Any, values: Any, what: str, expected: str = "") -> bool:
    """Copy ``values`` into the student's tensor ``target`` (no gradient recorded). A 2-D target of
    the transposed shape gets ``values.T`` (``nn.Linear``'s ``(out, in)`` layout); returns whether
    it was transposed. Any other shape fails, naming ``what`` and the ``expected`` layout."""
    import torch

    if not isinstance(target, torch.Tensor):
        raise ProbeFailure(f"{what} is not a tensor (found {type(target).__name__}): create it as "
                           "nn.Parameter(...) in __init__")
    shape, wanted = tuple(target.shape), tuple(values.shape)
    transposed = len(wanted) == 2 and shape == wanted[::-1] and shape != wanted
    if shape != wanted and not transposed:
        layout = f"{expected} = " if expected else ""
        raise ProbeFailure(f"{what} has shape {shape}; the task asks for {layout}{wanted}")
    with torch.no_grad():
        target.copy_(values.T if transposed else values)
    return transposed
