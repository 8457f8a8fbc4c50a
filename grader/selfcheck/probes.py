"""The assignment's probes as the self-check loads them: once per test file version, in the
student's kernel (``check()``) or the plain fallback's process. Used by ``runner`` and ``plain``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_probe_cache: dict[tuple, dict[str, Any]] = {}


def load_probes(test_files: tuple[Path, ...]) -> dict[str, Any]:
    """The probes the test files define, by name (imported once per file version)."""
    from grader.sandbox.probes import load_probes as load

    key = tuple((str(p), p.stat().st_mtime_ns) for p in test_files)
    if key not in _probe_cache:
        _probe_cache[key] = load([str(p) for p in test_files])
    return _probe_cache[key]
