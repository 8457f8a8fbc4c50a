"""The grader: grade PyTorch exercises safely and fast.

Assignment tests import what they use from :mod:`grader.api`, the authors' public surface::

    from grader.api import assert_close, construct, defined, fail, hidden, points, probe

The same names stay importable from here (releases already in students' hands use them).

Heavy modules (torch, pytest) are imported lazily so that ``grader --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers and editors see of the lazy names below (fail: NoReturn)
    from grader.api import ProbeFailure as ProbeFailure
    from grader.api import hidden as hidden
    from grader.api import points as points
    from grader.api import probe as probe
    from grader.errors import GraderError as GraderError
    from grader.judge.compare import assert_close as assert_close
    from grader.judge.compare import fail as fail
    from grader.probing import construct as construct
    from grader.probing import defined as defined
    from grader.probing import require_method as require_method
    from grader.selfcheck.runner import check as check

from grader.version import __version__ as __version__

# name -> the module that defines it (imported on first use)
_AUTHORING = {
    "probe": "grader.probing", "points": "grader.probing", "hidden": "grader.probing",
    "ProbeFailure": "grader.probing",
    "assert_close": "grader.judge.compare", "fail": "grader.judge.compare",
    "construct": "grader.probing", "defined": "grader.probing", "require_method": "grader.probing",
    "check": "grader.selfcheck.runner", "GraderError": "grader.errors",
}
__all__ = list(_AUTHORING)


def __getattr__(name: str):
    if name in _AUTHORING:
        import importlib

        return getattr(importlib.import_module(_AUTHORING[name]), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
