"""What an assignment's test file imports: the one public surface for authors.

A *probe* runs inside the sandbox on the student's namespace (and, once, on the reference) and
returns observations: tensors, numbers, strings, and lists and dicts of them. A *test* is an
ordinary pytest function that asks the ``observe`` fixture for a probe's observations and compares
them with the grader's comparators::

    from grader.api import assert_close, hidden, points, probe

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

Everything here is stable across versions; the modules it comes from are not. ``grader.compare``
and ``from grader import probe, ...`` keep working for releases already in students' hands.
"""

from grader.by_hand import AUTOGRAD, LINEAR, MATMUL, by_hand, function_name
from grader.judge.compare import Mismatch, assert_close, assert_names_as_asked, fail
from grader.probing import (
    ProbeFailure,
    accepts_keyword,
    check_signature,
    construct,
    decisions_made,
    defined,
    fits_module,
    fits_signature,
    graded_as,
    hidden,
    load_tensor,
    names_used,
    not_a_tensor,
    points,
    probe,
    question,
    require_method,
    still_a_stub,
    tensor_name_of,
    tensor_of,
)

__all__ = [
    "Mismatch", "ProbeFailure", "accepts_keyword", "assert_close", "assert_names_as_asked",
    "check_signature", "construct", "decisions_made", "defined", "fail", "fits_module", "fits_signature",
    "graded_as", "hidden", "load_tensor", "names_used", "not_a_tensor", "points", "probe", "question",
    "require_method", "still_a_stub", "tensor_name_of", "tensor_of",
]
__all__ += ["AUTOGRAD", "LINEAR", "MATMUL", "by_hand", "function_name"]  # "by hand" checks (grader.by_hand)
