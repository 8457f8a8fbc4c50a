"""What an assignment's test file uses: probes, and markers for points and visibility.

A *probe* runs inside the sandbox on the student's namespace (and, once, on the reference) and
returns observations: tensors, numbers, strings, and lists and dicts of them. A *test* is an
ordinary pytest function that asks the ``observe`` fixture for a probe's observations and compares
them with the grader's comparators (:mod:`grader.compare`)::

    @probe
    def forward_values(ns, device):
        layer = ns["MyLinear"](3, 2).to(device)
        ...
        return {"out": layer(x)}

    @points(2)
    def test_forward(observe):
        "forward(x) returns x @ weights + bias"
        got, want = observe(forward_values)
        assert_close(got["out"], want["out"], what="MyLinear(3, 2)(x)")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

points = pytest.mark.points
"""``@points(n)``: the test is worth ``n`` points (default 1)."""

hidden = pytest.mark.hidden
"""``@hidden``: the test counts for the grade but students never see its details."""

Probe = Callable[[dict[str, Any], Any], Any]
PROBE_ATTRIBUTE = "__grader_probe__"


def probe(function: Probe) -> Probe:
    """Mark ``function(ns, device)`` as a probe run in the sandbox on the student's namespace."""
    setattr(function, PROBE_ATTRIBUTE, function.__name__)
    filename = function.__code__.co_filename
    if filename not in _SETTINGS_READ:  # [names] of assignment.toml, read before any sandbox starts
        _SETTINGS_READ.add(filename)
        from grader.probing import load_names_settings

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
