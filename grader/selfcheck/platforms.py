"""Where the sandbox can run: one decision, made here, for the self-check and the sandbox.

The sandbox is built on Linux's namespaces, seccomp and cgroups (and imports ``resource`` and
uses ``os.splice``). Elsewhere (macOS, Windows, where many students work) the self-check runs the
public tests in a plain subprocess with a time limit and says, in one line, that the sandbox is off.
Tests make this report another OS by monkeypatching :func:`system`.
"""

from __future__ import annotations

import platform

SANDBOX_OFF_NOTE = ("the sandbox is off on {system}: your code runs in a plain process with a time "
                    "limit (the grade itself is computed on Linux, in the sandbox)")


def system() -> str:
    """The operating system's name as :func:`platform.system` gives it: Linux, Darwin, Windows."""
    return platform.system()


def sandbox_unavailable() -> str | None:
    """None when the sandbox can run here; else the one-line note saying it is off, and why."""
    name = system()
    if name == "Linux":
        return None
    shown = {"Darwin": "macOS"}.get(name, name or "this system")
    return SANDBOX_OFF_NOTE.format(system=shown)
