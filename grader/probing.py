"""Helpers for probes (they run in the sandbox): find what the student defined, explain what is not.

Each raises :class:`grader.api.ProbeFailure` with a sentence a student can act on.
"""

from __future__ import annotations

import difflib
from typing import Any

from grader.api import ProbeFailure


def defined(ns: dict[str, Any], name: str) -> Any:
    """The object the student defined as ``name``, or a failure naming near misses."""
    if name in ns:
        return ns[name]
    close = difflib.get_close_matches(name, [k for k in ns if not k.startswith("_")], n=1)
    hint = f" (you defined {close[0]}: a typo?)" if close else ""
    raise ProbeFailure(f"your code does not define {name}{hint}")


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


def construct(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """``cls(*args, **kwargs)``, explaining a signature that does not match the task's."""
    try:
        return cls(*args, **kwargs)
    except TypeError as error:
        if "argument" in str(error):
            call = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
            raise ProbeFailure(f"{cls.__name__}({call}) failed: {error}; check __init__'s "
                               "parameters against the task") from None
        raise
