"""The grader: grade PyTorch exercises safely and fast.

Assignment tests import their building blocks from here::

    from grader import probe, points, hidden

Heavy modules (torch, pytest) are imported lazily so that ``grader --help`` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["probe", "points", "hidden", "check", "GraderError"]


def __getattr__(name: str):
    if name in {"probe", "points", "hidden"}:
        from grader import api

        return getattr(api, name)
    if name == "check":
        from grader.selfcheck import check

        return check
    if name == "GraderError":
        from grader.errors import GraderError

        return GraderError
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
