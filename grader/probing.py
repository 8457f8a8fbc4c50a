"""Helpers for probes (they run in the sandbox): find what the student defined, explain what is not,
and grade behaviour through the common variants of a contract, so that one deviation costs one test.

Markers and the probe decorator live here too (``probe``, ``points``, ``hidden``). Each helper
raises :class:`ProbeFailure` with a sentence a student can act on.

- :func:`defined` finds a required name; else an alias from ``assignment.toml``; else, with the
  assignment's grace on, the definition that fits (a close spelling, or among at most five
  ``nn.Module`` subclasses / functions of the right arity the one that passes the probe's ``fit``),
  recorded so that :func:`names_used` can report it. A name defined more than once (cells,
  statements) is graded through the definition that fits (ties: the last), and says so.
- :func:`check_signature` compares a student's function with the task's signature before it is
  called, so a deviation reads as the student's, not as the check's own error.
- Every such decision is kept in :data:`DECISIONS` (see :func:`decisions_made`) so that a TA can
  review it in the report.
- :func:`construct` calls a class with the probe's arguments, leaving out keyword arguments its
  ``__init__`` does not accept (``flexible=True``), and says which were left out.
- :func:`tensor_of` finds a module's tensor by the task's name, else by shape (``self.b`` or
  ``self.weight`` where ``bias`` and ``weights`` are asked), so that only the naming test fails.
- :func:`load_tensor` copies fixed values into a student's tensor by shape: the task's layout, or
  the transposed one (``nn.Linear``'s ``(out, in)``), and says which it was.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import json
import linecache
import re
import sys
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
GRACE_NOTES: dict[str, str] = {}  # required name -> why the graced candidate was chosen over others
LEFT_OUT: dict[str, list[str]] = {}  # class name -> keyword arguments its __init__ lacks
ATTRIBUTES: dict[str, str] = {}  # "LR.w" -> the student's attribute graded in its place ("weight")
CHOSEN: dict[str, tuple[Any, Any]] = {}  # required name -> (its last definition, the one graded)
DECISIONS: dict[str, dict[str, Any]] = {}  # what a heuristic decided for this student, by key
MAX_CANDIDATES = 5  # classes (functions) tried by fit when the asked name is missing
MAX_DEFINITIONS = 4  # definitions of one name tried by fit (the last ones)


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
            arity: int | None = None, fit: Callable[[Any], Any] | None = None) -> Any:
    """The object the student defined as ``name`` (or an alias of it); else, with grace on, the
    definition that fits: a close spelling of the same kind, or among at most five subclasses of
    ``like`` (functions taking ``arity`` positional arguments) the one ``fit`` accepts (``fit``
    raises for a candidate that does not fit; its message says why). Else a failure that names
    the classes seen and why each did not fit.

    A name defined more than once (two ``class Net`` in cells or statements) is graded through the
    last definition ``fit`` accepts (at most four are tried), and the choice is recorded."""
    if name in ns:
        return _best_definition(ns, name, fit)
    for alias in NAMES_SETTINGS["aliases"].get(name, []):
        if alias in ns:
            return ns[alias]
    mine = _students_own(ns)
    reasons: dict[str, str] = {}
    if NAMES_SETTINGS["grace"]:
        if name in GRACED and GRACED[name] in mine:
            _decide(f"grace:{name}", "name", f"graded {GRACED[name]} as {name}", name=name,
                    used=GRACED[name])
            return ns[GRACED[name]]
        found, reasons = _the_one_that_fits(mine, name, like, arity, fit)
        if found is not None:
            GRACED[name] = found
            others = "; ".join(f"{key}: {why}" for key, why in reasons.items() if key != found)
            if others:
                GRACE_NOTES[name] = others
            _decide(f"grace:{name}", "name", f"graded {found} as {name}"
                    + (f" (other candidates: {others})" if others else ""), name=name, used=found)
            return ns[found]
    close = difflib.get_close_matches(name, list(mine), n=1, cutoff=SPELLING_CUTOFF)
    hint = f" (you defined {close[0]}: a typo?)" if close else ""
    if reasons:
        seen = "; ".join(f"{key}: {why}" for key, why in reasons.items())
        hint += f"; none of your classes fits the task ({seen})"
    failure = ProbeFailure(f"your code does not define {name}{hint}")
    failure.missing_name = name  # type: ignore[attr-defined]
    raise failure


def _students_own(ns: dict[str, Any]) -> dict[str, Any]:
    """The classes and functions the student's own code defined (not imported ones)."""
    module = ns.get("__name__")
    return {key: value for key, value in ns.items()
            if not key.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
            and getattr(value, "__module__", None) == module}


def _the_one_that_fits(mine: dict[str, Any], name: str, like: type | None, arity: int | None,
                       fit: Callable[[Any], Any] | None) -> tuple[str | None, dict[str, str]]:
    """The student's name graded as ``name`` (None when none fits), and why each candidate tried
    did not fit."""
    def kind_of(value: Any) -> bool:
        if like is not None:
            return inspect.isclass(value) and issubclass(value, like)
        if arity is not None:
            return inspect.isfunction(value) and _accepts(value, arity)
        return True

    close = [k for k in difflib.get_close_matches(name, list(mine), n=3, cutoff=SPELLING_CUTOFF)
             if kind_of(mine[k])]
    if len(close) == 1 and fit is None:
        return close[0], {}
    if like is None and arity is None:
        return (close[0] if len(close) == 1 else None), {}
    kind = [key for key, value in mine.items() if kind_of(value)]
    if fit is None:
        return (kind[0] if len(kind) == 1 else None), {}
    similarity = {key: difflib.SequenceMatcher(None, name.lower(), key.lower()).ratio() for key in kind}
    ranked = sorted(kind, key=lambda key: (key not in close, -similarity[key]))[:MAX_CANDIDATES]
    reasons = {key: _fit_reason(fit, mine[key]) for key in ranked}
    fitting = [key for key in ranked if not reasons[key]]
    if fitting:
        return fitting[0], {key: why for key, why in reasons.items() if why}
    if len(kind) == 1:  # the only one of its kind: graded, and each test says what is wrong
        return kind[0], {}
    what = like.__name__ if like is not None else f"function of {arity} arguments"
    unfit = {key: f"not a {what}" for key, value in mine.items()
             if key not in reasons and inspect.isclass(value)}
    return None, {**{key: why for key, why in reasons.items() if why},
                  **dict(list(unfit.items())[:MAX_CANDIDATES])}


_FITS: dict[tuple[int, int], str] = {}  # (id(fit), id(candidate)) -> why it does not fit ("" when it does)


def _fit_reason(fit: Callable[[Any], Any], candidate: Any) -> str:
    """Why ``candidate`` does not fit (``""`` when it does): ``fit``'s exception, in one line. The
    random state is kept, so trying a candidate changes no probe's numbers."""
    key = (id(fit), id(candidate))
    if key not in _FITS:
        import torch

        with torch.random.fork_rng(devices=[]):
            try:
                fit(candidate)
                _FITS[key] = ""
            except Exception as error:  # noqa: BLE001 - the student's code may raise anything
                text = str(error).strip().splitlines()[0] if str(error).strip() else ""
                text = text.split("; check __init__'s parameters")[0]  # construct()'s advice
                _FITS[key] = (text if isinstance(error, ProbeFailure)
                              else f"{type(error).__name__}{': ' + text if text else ''}")[:200]
    return _FITS[key]


def fits_module(*args: Any, input: Any = None, shape: tuple[int, ...] | None = None,
                **kwargs: Any) -> Callable[[Any], None]:
    """A ``fit`` for :func:`defined`: the class can be built with ``args``/``kwargs`` (keywords
    its ``__init__`` lacks left out) and, given ``input``, returns a tensor of ``shape``."""
    def fit(cls: Any) -> None:
        made = construct(cls, *args, flexible=True, **kwargs)
        if input is not None:
            out = made(input)
            found = tuple(getattr(out, "shape", ()))
            if shape is not None and found != tuple(shape):
                raise ProbeFailure(f"{cls.__name__}(...)(x) for x of shape {tuple(input.shape)} "
                                   f"returns shape {found}, not {tuple(shape)}")
    return fit


def _best_definition(ns: dict[str, Any], name: str, fit: Callable[[Any], Any] | None) -> Any:
    """``ns[name]``; when the student's code defines ``name`` more than once, the last definition
    that ``fit`` accepts (of the last :data:`MAX_DEFINITIONS`), recorded with its place."""
    current = ns[name]
    if name in CHOSEN and CHOSEN[name][0] is current:
        if f"definition:{name}" in DECISIONS:
            _decide(f"definition:{name}", "definition", "")
        return CHOSEN[name][1]
    if fit is None or not (inspect.isclass(current) or inspect.isfunction(current)):
        return current
    found = definitions_of(ns, name, current)
    if len(found) < 2:
        CHOSEN[name] = (current, current)
        return current
    reasons = [_fit_reason(fit, value) for _, value in found]
    fitting = [index for index, why in enumerate(reasons) if not why]
    chosen = fitting[-1] if fitting else len(found) - 1
    CHOSEN[name] = (current, found[chosen][1])
    places = [place for place, _ in found]
    count = {2: "twice", 3: "three times"}.get(len(places), f"{len(places)} times")
    plural = "lines" if places[0].startswith("line") else "cells"
    numbers = [place.split(" ", 1)[1] for place in places]
    listed = f"{', '.join(numbers[:-1])} and {numbers[-1]}"
    def at(place: str) -> str:
        return f"{'at' if place.startswith('line') else 'in'} {place}"

    text = f"{name} is defined {count} ({plural} {listed}); graded the one {at(places[chosen])}"
    if chosen != len(found) - 1:
        text += f" (the one {at(places[-1])}: {reasons[-1]})"
    _decide(f"definition:{name}", "definition", text, name=name, used=places[chosen])
    return CHOSEN[name][1]


def definitions_of(ns: dict[str, Any], name: str, current: Any) -> list[tuple[str, Any]]:
    """Each top-level definition of ``name`` in the student's code as (``"line 107"`` or
    ``"cell 3"``, the object it makes), the last one being ``current``; at most the last
    :data:`MAX_DEFINITIONS`. Earlier ones are made again from their source, in a copy of ``ns``."""
    filename = _source_file(current)
    if filename is None:
        return []
    if filename.startswith("cell "):
        files = sorted((key for key in linecache.cache if key.startswith("cell ") and key[5:].isdigit()),
                       key=lambda key: int(key[5:]))
    else:
        files = [filename]
    pattern = re.compile(rf"^[ \t]*(?:class|def)[ \t]+{re.escape(name)}\b", re.MULTILINE)
    if sum(len(pattern.findall("".join(linecache.getlines(file)))) for file in files) < 2:
        return []  # defined once: no need to parse the student's code
    nodes: list[tuple[str, str, ast.stmt]] = []
    for file in files:
        for node in _top_level_definitions(file, name):
            place = file if file.startswith("cell ") else f"line {node.lineno}"
            nodes.append((place, file, node))
    nodes = nodes[-MAX_DEFINITIONS:]
    if len(nodes) < 2:
        return []
    found: list[tuple[str, Any]] = []
    for place, file, node in nodes[:-1]:
        copy = dict(ns)
        try:
            exec(compile(ast.Module(body=[node], type_ignores=[]), file, "exec"), copy)  # noqa: S102
        except Exception:  # noqa: BLE001 - an earlier definition that cannot be made is not tried
            continue
        if copy.get(name) is not None:
            found.append((place, copy[name]))
    return [*found, (nodes[-1][0], current)]


def _source_file(value: Any) -> str | None:
    """The file (``"alice.py"``, ``"cell 3"``) the student's function or class was compiled from."""
    code = getattr(value, "__code__", None)
    if code is None and inspect.isclass(value):
        code = next((member.__code__ for member in vars(value).values() if inspect.isfunction(member)), None)
    filename = getattr(code, "co_filename", None)
    return filename if isinstance(filename, str) and filename in linecache.cache else None


_PARSED: dict[str, list[ast.stmt]] = {}


def _top_level_definitions(filename: str, name: str) -> list[ast.stmt]:
    if filename not in _PARSED:
        try:
            tree = ast.parse("".join(linecache.getlines(filename)))
        except (SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        _PARSED[filename] = list(tree.body)
    return [node for node in _PARSED[filename]
            if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == name]


def _decide(key: str, kind: str, text: str, **fields: Any) -> None:
    """Record what a heuristic decided for the student (once per key), with the probes that
    relied on it, for :func:`decisions_made`."""
    entry = DECISIONS.setdefault(key, {"kind": kind, "text": text, "probes": [], **fields})
    running = _running_probe()
    if running and running not in entry["probes"]:
        entry["probes"].append(running)


def _running_probe() -> str | None:
    """The probe now running: the outermost frame of an assignment's test module."""
    frame, found = sys._getframe(2), None
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).startswith(PROBE_MODULES):
            found = frame.f_code.co_name
        frame = frame.f_back
    return found


PROBE_MODULES = "grader_probes_"  # the sandbox's names for an assignment's test modules


def reset_decisions() -> None:
    """Forget what grace decided (``check()`` in a notebook probes the same process again)."""
    for table in (GRACED, GRACE_NOTES, LEFT_OUT, ATTRIBUTES, CHOSEN, DECISIONS, _FITS, _PARSED):
        table.clear()


def decisions_made() -> list[dict[str, Any]]:
    """What grace decided for this student so far (graced names, chosen definitions and
    attributes, signatures that did not fit), each ``{"kind", "text", "name", "used", "probes"}``."""
    return [dict(entry, probes=list(entry["probes"])) for entry in DECISIONS.values()]


DECISIONS_PROBE = "~decisions"  # sorts after every probe's name: it runs last, on what they decided


def decisions_probe(ns: dict[str, Any], device: Any) -> list[dict[str, Any]]:
    """The probe every assignment gets (:func:`grader.sandbox.probes.load_probes` adds it): what
    grace decided while the others ran, for the judge to list for a TA (even where the probe
    that decided failed, as a signature check does)."""
    return decisions_made()


def _accepts(function: Any, count: int) -> bool:
    try:
        inspect.signature(function).bind(*range(count))
        return True
    except (TypeError, ValueError):
        return False


def names_used(ns: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """For a probe of its own (probes run in name order, so name it to sort after those that look
    names up): each required name, with the name the student's definition was graded under
    (``used``, None where nothing fitted), whether that was by grace (a deduction) and why that
    candidate was chosen over others (``note``); and each attribute graded under another name
    (``"LR.w"``: ``{"used": "weight", "graced": True, "attribute": True}``)."""
    used: dict[str, Any] = {}
    for name in required:
        alias = next((a for a in [name, *NAMES_SETTINGS["aliases"].get(name, [])] if a in ns), None)
        graced = alias is None and name in GRACED
        used[name] = {"used": alias or GRACED.get(name), "graced": graced}
        if graced and name in GRACE_NOTES:
            used[name]["note"] = GRACE_NOTES[name]
    for attribute, student in ATTRIBUTES.items():
        used[attribute] = {"used": student, "graced": True, "attribute": True}
    return used


def check_signature(function: Any, asked: tuple[str, ...] | list[str], what: str = "") -> None:
    """Fail, before the probe calls it, when ``function`` cannot be called as the task calls it
    (see :func:`signature_mismatch`), showing both signatures: "your train takes (model, loader,
    criterion, optimizer, epochs, device); the task asks for (model, inputs, labels, criterion,
    optimizer, epochs)". The failure is the student's, and is listed for a TA to review."""
    text = signature_mismatch(function, asked, what)
    if text:
        name = what or getattr(function, "__name__", "your function")
        _decide(f"signature:{name}", "signature", text, name=name, used="")
        raise ProbeFailure(text)


def fits_signature(*asked: str) -> Callable[[Any], None]:
    """A ``fit`` for :func:`defined`: the function can be called with the task's arguments."""
    def fit(function: Any) -> None:
        text = signature_mismatch(function, asked)
        if text:
            raise ProbeFailure(text)
    return fit


def signature_mismatch(function: Any, asked: tuple[str, ...] | list[str], what: str = "") -> str:
    """Why ``function`` cannot be called as the task calls it, ``""`` when it can: it must take
    ``len(asked)`` positional arguments (extra parameters with defaults, ``*args`` and
    ``**kwargs`` are fine), and a parameter named as one of the task's must be at that one's place."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return ""
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    required = [p for p in positional if p.default is p.empty]
    keyword_only = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    asked = list(asked)
    misplaced = [p.name for index, p in enumerate(positional)
                 if p.name in asked and asked.index(p.name) != index]
    if (len(required) <= len(asked) and (varargs or len(positional) >= len(asked))
            and not keyword_only and not misplaced):
        return ""
    name = what or getattr(function, "__name__", "function")
    shown = ", ".join(_shown(p) for p in parameters)
    if misplaced:
        where = "is not where the task puts it" if len(misplaced) == 1 else "are not where the task puts them"
        why = f": {', '.join(misplaced)} {where}"
    elif keyword_only:
        why = f": {', '.join(keyword_only)} must be given by keyword"
    elif len(required) > len(asked):
        why = f": it needs {len(required)} arguments, the task passes {len(asked)}"
    else:
        why = f": it takes {len(positional)} arguments, the task passes {len(asked)}"
    return f"your {name} takes ({shown}); the task asks for ({', '.join(asked)}){why}"


def _shown(parameter: inspect.Parameter) -> str:
    prefix = {parameter.VAR_POSITIONAL: "*", parameter.VAR_KEYWORD: "**"}.get(parameter.kind, "")
    return f"{prefix}{parameter.name}" + ("=..." if parameter.default is not parameter.empty else "")


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
    graded_as(type(module).__name__, name, fits[0])
    return tensors[fits[0]]


def graded_as(owner: str, name: str, used: str) -> None:
    """Record that ``owner``'s attribute ``used`` is graded as the task's ``name`` (found by
    shape and role): :func:`names_used` reports it, so only the names test fails for it."""
    ATTRIBUTES[f"{owner}.{name}"] = used
    _decide(f"attribute:{owner}.{name}", "attribute", f"graded {owner}'s self.{used} as self.{name}",
            name=f"{owner}.{name}", used=used)


def tensor_name_of(module: Any, name: str, shape: tuple[int, ...], taken: set[str] | None = None) -> str | None:
    """The name of ``module``'s tensor that :func:`tensor_of` grades as ``name`` (``"weight"``
    for ``w``): the task's name, else the one tensor of ``shape`` not in ``taken``; None when it
    has neither."""
    import torch

    taken = set(taken or ())
    before = set(taken)
    found = tensor_of(module, name, shape, taken)
    if not isinstance(found, torch.Tensor):
        return None
    added = taken - before
    return next(iter(added)) if added else name


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

    if target is None:
        raise ProbeFailure(f"{what} is missing: create it as nn.Parameter(...) in __init__")
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
