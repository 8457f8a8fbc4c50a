"""What a student's code meets in the sandbox that a laptop does not, said in words they can act on.

- Plots: ``plt.pause``, ``plt.show`` and ``plt.draw`` return at once (under the headless backend
  ``plt.pause(0.1)`` still draws and sleeps: a 20-frame animation cost 5.6 s of the time limit).
- No network: a download's ``URLError``/``gaierror`` says "there is no network while grading".
- No GPU: ``.cuda()`` or ``device="cuda"`` on a CPU-only grader says so, with the usual fix.
- A package the grader lacks (``import torchvision`` where it is not installed): the message says
  the graded code must not need it, or that a module of the student's own must be handed in.
- Which names a failing cell would have defined (so that a later "not defined" can point at it).
- marimo, where it is not installed: a marimo notebook's ``import marimo as mo`` gets a harmless
  stand-in, so its ``mo.md(...)`` cells do nothing instead of raising one NameError each.
"""

from __future__ import annotations

import ast
import importlib.abc
import sys
import types
from typing import Any

PYPLOT_QUIET = ("pause", "show", "draw")
NO_NETWORK = ("Temporary failure in name resolution", "Name or service not known",
              "Network is unreachable", "nodename nor servname", "No address associated with hostname",
              "Connection refused", "getaddrinfo failed")
NO_GPU = ("Torch not compiled with CUDA enabled", "Found no NVIDIA driver",
          "no CUDA GPUs are available", "CUDA driver initialization failed",
          "Attempting to deserialize object on a CUDA device")
DATA_FOLDER_HINT = ""  # set by the sandbox when the assignment ships a data/ folder


def make_plots_headless() -> None:
    """Make pyplot's waiting calls return at once, now if pyplot is loaded, else when it is."""
    if "matplotlib.pyplot" in sys.modules:
        _quiet_pyplot(sys.modules["matplotlib.pyplot"])
    elif not any(isinstance(finder, _PyplotHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PyplotHook())


def _quiet_pyplot(pyplot: Any) -> None:
    def returns_at_once(*_: object, **__: object) -> None:
        return None

    for name in PYPLOT_QUIET:
        if hasattr(pyplot, name):
            setattr(pyplot, name, returns_at_once)


class _PyplotHook(importlib.abc.MetaPathFinder):
    """Quiets ``matplotlib.pyplot`` right after its first import."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "matplotlib.pyplot":
            return None
        sys.meta_path.remove(self)
        try:
            import importlib.util

            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            _quiet_pyplot(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


MARIMO_NOTE = ("marimo is not installed where this is graded: its calls (mo.md, mo.ui, ...) did "
               "nothing")


def stand_in_for_marimo(source: bytes) -> str | None:
    """Give a submission that mentions marimo a stand-in for it, where marimo itself cannot be
    imported; the note to show, or None (nothing done)."""
    if b"marimo" not in source or "marimo" in sys.modules:
        return None
    import importlib.util

    if importlib.util.find_spec("marimo") is not None:
        return None
    module = types.ModuleType("marimo", "A stand-in for marimo (not installed in the sandbox).")
    module.__getattr__ = lambda name: _Quiet()  # type: ignore[method-assign]  # PEP 562
    module.__path__ = []  # a package: `import marimo.ui` finds nothing, `from marimo import x` works
    module.App = _QuietApp  # type: ignore[attr-defined]
    sys.modules["marimo"] = module
    return MARIMO_NOTE


class _Quiet:
    """Whatever is asked of it (``mo.md("...")``, ``mo.ui.slider(1, 9).value``), it answers itself."""

    def __call__(self, *_: object, **__: object) -> _Quiet:
        return self

    def __getattr__(self, name: str) -> _Quiet:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __repr__(self) -> str:
        return "<marimo stand-in>"


class _QuietApp(_Quiet):
    """``marimo.App(...)``: its decorators give back the function they decorate."""

    def cell(self, function: Any = None, **_: object) -> Any:
        return function if callable(function) else (lambda f: f)

    function = class_definition = cell

    def run(self, *_: object, **__: object) -> None:
        return None


def plain_words(error: BaseException, message: str) -> tuple[str, str] | None:
    """(type, message) for an error whose own words mislead a student here, else None."""
    kinds = {type(e).__name__ for e in _chain(error)}
    texts = " ".join(_text(e) for e in _chain(error))
    if kinds & {"URLError", "gaierror", "ConnectionError", "HTTPError"} or any(t in texts for t in NO_NETWORK):
        where = DATA_FOLDER_HINT or ""
        return ("NoNetwork", "there is no network while grading: a download cannot work here; "
                "load the data from files" + (f" ({where})" if where else " the assignment provides, "
                                              "or put the download behind `if __name__ == \"__main__\":`"))
    if any(t in texts for t in NO_GPU):
        return ("NoGPU", "your code uses the GPU (.cuda() or device=\"cuda\"), but this grader has no "
                "GPU: write device = \"cuda\" if torch.cuda.is_available() else \"cpu\" and use "
                ".to(device)")
    return None


def missing_module(error: BaseException, message: str) -> str:
    """``message`` of a ``ModuleNotFoundError``, with what a student can do about it."""
    name = getattr(error, "name", None)
    if not isinstance(error, ModuleNotFoundError) or not isinstance(name, str) or not name:
        return message
    top = name.split(".")[0][:100]
    return (f"{message}: {top} is not installed where your work is graded, so the graded code must "
            f"not need it (if {top} is a module of your own, hand in {top}.py with your work)")


def _chain(error: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(chain) < 8:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return chain


def _text(error: BaseException) -> str:
    try:
        return str(error)[:1000]
    except BaseException:  # noqa: B036 - a hostile __str__
        return ""


def defined_names(source: str, limit: int = 50) -> list[str]:
    """The names a cell defines at top level (classes, functions, imports, assignments)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []
    pending = list(tree.body)
    while pending and len(names) < limit:  # inside with/if/for/try too, not inside a def or class
        statement = pending.pop(0)
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(statement.name)
            continue
        targets = _assigned(statement)
        names += [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        if isinstance(statement, ast.Import | ast.ImportFrom):
            names += [(a.asname or a.name).split(".")[0] for a in statement.names]
        for field in ("body", "orelse", "finalbody", "handlers"):
            pending += [s for s in getattr(statement, field, []) if isinstance(s, ast.stmt | ast.excepthandler)]
    return names[:limit]


def _assigned(statement: ast.AST) -> list[ast.AST]:
    """The targets a statement assigns to (``x = ...``, ``for x in``, ``with ... as x``)."""
    if isinstance(statement, ast.Assign):
        return list(statement.targets)
    if isinstance(statement, ast.AnnAssign | ast.AugAssign | ast.For):
        return [statement.target]
    if isinstance(statement, ast.With):
        return [item.optional_vars for item in statement.items if item.optional_vars is not None]
    return []
