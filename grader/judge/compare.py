"""Comparators for the judge: say whether the student's observation matches, and if not, why.

In the manner of ``torch.testing.assert_close``: attributes first (type, shape, dtype, device),
then values, with per-dtype tolerances; the message gives the number of mismatched elements, the
largest absolute and relative differences and where, and the likely mistake when it is
recognisable. In hidden tests expected values are never shown.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn

import torch

from grader import model
from grader.judge.diagnose import likely_cause
from grader.model import observed_device

# (rtol, atol) by dtype, as torch.testing uses; looser on a GPU (TF32, other kernels).
TOLERANCES = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
    torch.complex64: (1.3e-6, 1e-5),
    torch.complex128: (1e-7, 1e-7),
}
GPU_TOLERANCES = {torch.float32: (1e-3, 1e-4), torch.complex64: (1e-3, 1e-4)}


class Mismatch(AssertionError):
    """The student's observation differs from the reference; the message says how, and
    ``mismatch`` (a :class:`grader.model.Mismatch`) holds its headline, details and likely cause."""

    def __init__(self, found: str | model.Mismatch) -> None:
        self.mismatch = found if isinstance(found, model.Mismatch) else model.Mismatch.of_text(found)
        super().__init__(self.mismatch.text())


class ToleranceError(TypeError, ValueError):
    """A test gave ``rtol`` without ``atol`` or the reverse: the author's mistake, not the student's.
    A ``TypeError`` (a wrong call), and a ``ValueError`` as ``torch.testing.assert_close`` raises."""


def tolerance_for(dtype: torch.dtype, device: str) -> tuple[float, float, str]:
    """(rtol, atol, where the numbers come from)."""
    if device.startswith("cuda") and dtype in GPU_TOLERANCES:
        return (*GPU_TOLERANCES[dtype], f"{dtype} on a GPU")
    rtol, atol = TOLERANCES.get(dtype, (0.0, 0.0))
    return rtol, atol, f"{dtype} default"


def assert_close(actual: Any, expected: Any, *, what: str, rtol: float | None = None,
                 atol: float | None = None, check_dtype: bool = True, check_device: bool = True,
                 hidden: bool = False, equal_nan: bool = True) -> None:
    """Fail with a diagnosis unless ``actual`` matches ``expected`` (tensors, numbers, or nested).

    ``rtol`` and ``atol`` go together, as in ``torch.testing.assert_close``: give both or neither
    (each dtype's defaults); one alone raises :class:`ToleranceError`, since the other's default
    would silently decide the test.

    Where ``expected`` holds ``inf``, ``-inf`` or NaN, no tolerance applies: ``actual`` must hold
    the same non-finite value at the same position. NaN matches NaN unless ``equal_nan=False``
    (as in ``torch.testing.assert_close``; the grader's default is ``True``)."""
    if (rtol is None) != (atol is None):
        given, missing = ("rtol", "atol") if atol is None else ("atol", "rtol")
        raise ToleranceError(
            f"assert_close(what={what!r}) got {given}={rtol if atol is None else atol!r} but no "
            f"{missing}: give both rtol and atol, or neither (the dtype's defaults), as "
            "torch.testing.assert_close requires")
    _compare(actual, expected, what, rtol, atol, check_dtype, check_device, hidden, equal_nan)


def _compare(actual: Any, expected: Any, path: str, rtol: float | None, atol: float | None,
             check_dtype: bool, check_device: bool, hidden: bool, equal_nan: bool = True) -> None:
    if isinstance(expected, torch.Tensor):
        _compare_tensor(actual, expected, path, rtol, atol, check_dtype, check_device, hidden,
                        equal_nan)
    elif isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise Mismatch(f"{path}: expected a dict, got {_kind(actual)}")
        missing, extra = set(expected) - set(actual), set(actual) - set(expected)
        if missing or extra:
            raise Mismatch(f"{path}: wrong keys: {_keys_message(missing, extra)}")
        for key in expected:
            _compare(actual[key], expected[key], f"{path}[{key!r}]", rtol, atol, check_dtype,
                     check_device, hidden, equal_nan)
    elif _is_shape(expected) and _is_shape(actual) and actual != expected:
        if len(actual) != len(expected):  # a shape of another rank: not a loop's bound
            hint = f" ({len(actual)} dimensions, not {len(expected)}: a reshape, flatten or squeeze?)"
        else:
            hint = " (the dimensions are swapped: transposed?)" if actual == expected[::-1] else ""
        shown = "" if hidden else f", expected {tuple(expected)}"
        raise Mismatch(f"{path}: got {tuple(actual)}{shown}{hint}")
    elif isinstance(expected, list):
        if not isinstance(actual, list):
            raise Mismatch(f"{path}: expected a sequence of {len(expected)}, got {_kind(actual)}")
        if len(actual) != len(expected):
            wanted = "not the expected number" if hidden else f"expected {_items(len(expected))}"
            names = _names_difference(actual, expected, hidden)
            hint = names or (_off_by_one(len(actual), len(expected)) if _is_numbers(expected) else "")
            raise Mismatch(f"{path}: got {_items(len(actual))}, {wanted}{hint}")
        for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
            _compare(got, want, f"{path}[{index}]", rtol, atol, check_dtype, check_device, hidden,
                     equal_nan)
    elif isinstance(expected, float) and isinstance(actual, int | float) and not isinstance(actual, bool):
        r, a = rtol if rtol is not None else 1.3e-6, atol if atol is not None else 1e-5
        if not math.isfinite(expected):  # no tolerance: the same inf, -inf or NaN
            actual = float(actual)
            same = actual == expected or (equal_nan and math.isnan(actual) and math.isnan(expected))
            if not same:
                raise Mismatch(_nonfinite_message(path, actual, expected, (), 1, 1, hidden))
        elif not math.isclose(actual, expected, rel_tol=r, abs_tol=a):
            shown = "" if hidden else f", expected {expected:.6g}"
            raise Mismatch(f"{path}: got {actual:.6g}{shown}")
    elif actual != expected or type(actual) is not type(expected):
        shown = "" if hidden else f", expected {expected!r}"
        hint = ""
        if type(actual) is int and type(expected) is int and abs(expected) <= 1000:
            hint = _off_by_one(actual, expected)  # a loop's bound; not a count of parameters
        raise Mismatch(f"{path}: got {_short(actual)}{shown}{hint}")


def _compare_tensor(actual: Any, expected: torch.Tensor, path: str, rtol: float | None,
                    atol: float | None, check_dtype: bool, check_device: bool, hidden: bool,
                    equal_nan: bool = True) -> None:
    if not isinstance(actual, torch.Tensor):
        raise Mismatch(f"{path}: expected a tensor of shape {_shape(expected)}, got {_kind(actual)}")
    if actual.shape != expected.shape:
        hint = ""
        if actual.dim() == 2 and tuple(actual.shape) == tuple(expected.shape)[::-1]:
            hint = ": the dimensions are swapped (transposed?)"
        elif actual.numel() == expected.numel():
            hint = ": same number of elements, arranged differently (a wrong view or reshape?)"
        raise Mismatch(f"{path}: shape {_shape(actual)}, expected {_shape(expected)}{hint}")
    if check_dtype and actual.dtype != expected.dtype:
        headline = f"{path}: dtype {actual.dtype}, expected {expected.dtype}"
        try:
            _compare_tensor(actual.to(expected.dtype), expected, path, rtol, atol, False,
                            check_device, hidden, equal_nan)
        except Mismatch as error:  # converting alone would not pass: say both
            values = error.mismatch
            raise Mismatch(model.Mismatch(f"{headline}, and the values differ too:",
                                          (values.headline, *values.details), values.likely_cause)) from None
        raise Mismatch(f"{headline}: convert with .to({expected.dtype}) or create it with "
                       f"dtype={expected.dtype}")
    got_device, want_device = observed_device(actual), observed_device(expected)
    if check_device and got_device.split(":")[0] != want_device.split(":")[0]:
        raise Mismatch(f"{path}: on device {got_device}, expected {want_device}: use .to(device) "
                       "on every tensor you create, or create it with device=")
    if expected.dtype == torch.bool or not (expected.is_floating_point() or expected.is_complex()):
        _compare_exact(actual, expected, path, hidden)
        return
    default_rtol, default_atol, origin = tolerance_for(expected.dtype, want_device)
    if rtol is not None or atol is not None:
        origin = "set by the test"
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    _compare_values(actual.to(expected.dtype), expected, path, rtol, atol, origin, hidden,
                    equal_nan)


def _compare_values(actual: torch.Tensor, expected: torch.Tensor, path: str, rtol: float,
                    atol: float, origin: str, hidden: bool, equal_nan: bool = True) -> None:
    finite = torch.isfinite(expected)
    bad_actual = ~torch.isfinite(actual) & finite
    if bool(bad_actual.any()):
        count = int(bad_actual.sum())
        kinds = "NaN" if bool(torch.isnan(actual).any()) else "inf"
        raise Mismatch(f"{path}: {count} of {actual.numel()} values are {kinds}: look for a "
                       "division by zero, log(0), or an overflowing exp")
    if not bool(finite.all()):
        _compare_nonfinite(actual, expected, finite, path, hidden, equal_nan)
    difference = torch.where(finite, (actual - expected).abs(), 0)
    allowed = atol + rtol * expected.abs()
    mismatched = (difference > allowed) & finite
    count = int(mismatched.sum())
    if count == 0:
        return
    total = actual.numel()
    worst = int(torch.argmax(torch.where(mismatched, difference, torch.zeros_like(difference))))
    index = _unravel(worst, tuple(actual.shape))
    relative = difference / expected.abs().clamp_min(1e-12)
    details = [
        f"Mismatched elements: {count} / {total} ({100 * count / total:.1f}%)",
        f"Greatest absolute difference: {float(difference.max()):.4g} at index {index} "
        f"(up to {atol:g} allowed, {origin})",
        f"Greatest relative difference: {float(relative.max()):.4g} (up to {rtol:g} allowed)",
    ]
    if not hidden:
        details.append(f"At index {index}: got {_number(actual[index])}, expected {_number(expected[index])}")
    cause = "" if actual.is_complex() else likely_cause(actual, expected)
    raise Mismatch(model.Mismatch(f"{path}: values differ", tuple(details), cause or ""))


def _compare_nonfinite(actual: torch.Tensor, expected: torch.Tensor, finite: torch.Tensor,
                       path: str, hidden: bool, equal_nan: bool) -> None:
    """Where the reference holds inf, -inf or NaN, the student's value must be that same value:
    no tolerance applies (``inf - inf`` is NaN and NaN compares False, so a tolerance would let
    any value through)."""
    same = actual == expected
    if equal_nan:
        same |= torch.isnan(actual) & torch.isnan(expected)
    wrong = ~finite & ~same
    count = int(wrong.sum())
    if count == 0:
        return
    index = tuple(int(i) for i in wrong.nonzero()[0])
    got, want = actual[index].item(), expected[index].item()
    raise Mismatch(_nonfinite_message(path, got, want, index, count, int((~finite).sum()), hidden))


def _nonfinite_message(path: str, got: Any, want: Any, index: tuple[int, ...], count: int,
                       nonfinite: int, hidden: bool) -> str:
    """What a student reads for a value where the reference is infinite or NaN: the values and a
    likely cause in a public test, only the count in a hidden one."""
    if hidden:
        return (f"{path}: {count} position{'' if count == 1 else 's'} where the expected value is "
                "infinite or NaN hold" + ("s" if count == 1 else "") + " another value")
    where = f" at {index}" if index else ""
    text = f"{path}: got {_nonfinite_number(got)}{where} where {_nonfinite_number(want)} is expected"
    hint = _nonfinite_hint(got, want)
    if count > 1:
        text += f" ({count} of {nonfinite} such positions differ)"
    return text + (f": {hint}" if hint else "")


def _nonfinite_hint(got: Any, want: Any) -> str:
    if isinstance(got, complex) or isinstance(want, complex):
        return ""
    if math.isnan(want):
        if math.isnan(got):  # equal_nan=False: NaN never equals NaN
            return "this test compares NaN as different from NaN (equal_nan=False)"
        return "the reference computes an undefined value here (0/0, inf - inf, log of a negative?)"
    if math.isnan(got):
        return "an undefined value (0/0, inf - inf, 0 * inf?) where the result is infinite"
    if math.isinf(got):
        return "the sign is flipped?"
    if want < 0:
        return "a masked position filled with a finite value?"
    return "a finite value where the result overflows or divides by zero (clamped or an epsilon added?)"


def _nonfinite_number(value: Any) -> str:
    """``123.0``, ``-23.0259``, ``1e+12``, ``-inf``, ``nan``: a float that reads as one."""
    if not isinstance(value, int | float):
        return repr(value)
    text = f"{float(value):.6g}"
    return text if any(c in text for c in ".ena") else text + ".0"


def _compare_exact(actual: torch.Tensor, expected: torch.Tensor, path: str, hidden: bool) -> None:
    mismatched = actual.to(expected.dtype) != expected
    count = int(mismatched.sum())
    if count:
        message = f"{path}: {count} / {actual.numel()} elements differ"
        if not hidden:
            index = tuple(int(i) for i in mismatched.nonzero()[0])
            message += f"; at index {index}: got {_number(actual[index])}, expected {_number(expected[index])}"
        raise Mismatch(message)


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index of element ``flat`` in a tensor of ``shape`` (torch.unravel_index imports sympy)."""
    index = []
    for size in reversed(shape):
        flat, position = divmod(flat, size)
        index.append(position)
    return tuple(reversed(index))


def _is_shape(value: Any) -> bool:
    """A short list of ints: compared and shown whole, like a tensor's shape."""
    return isinstance(value, list) and 0 < len(value) <= 6 and all(type(n) is int for n in value)


def _number(value: torch.Tensor) -> str:
    item = value.item()
    return f"{item:.6g}" if isinstance(item, float) else str(item)


def _shape(tensor: torch.Tensor) -> str:
    return "(" + ", ".join(str(n) for n in tensor.shape) + ("," if tensor.dim() == 1 else "") + ")"


def _kind(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {_shape(value)}"
    return f"a {type(value).__name__} ({_short(value)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _keys_message(missing: set, extra: set) -> str:
    parts = []
    if missing:
        parts.append("missing " + ", ".join(sorted(map(repr, missing))))
    if extra:
        parts.append("unexpected " + ", ".join(sorted(map(repr, extra))))
    lowered = {str(k).lower() for k in missing}
    case_only = bool(extra) and any(str(k).lower() in lowered for k in extra)
    return "; ".join(parts) + (" (keys are case-sensitive)" if case_only else "")


def _items(count: int) -> str:
    return f"{count} item" + ("" if count == 1 else "s")


def _is_numbers(values: list) -> bool:
    """Values whose count can be off by one from a loop's bounds (not names, not tensors)."""
    return all(type(v) in (int, float) for v in values)


def _names_difference(actual: list, expected: list, hidden: bool) -> str:
    """For lists of names: which are missing and which are unexpected."""
    if hidden or not all(isinstance(v, str) for v in [*actual, *expected]):
        return ""
    missing = [v for v in expected if v not in actual]
    extra = [v for v in actual if v not in expected]
    parts = ([f"missing {', '.join(map(repr, missing))}"] if missing else []) + (
        [f"unexpected {', '.join(map(repr, extra))}"] if extra else [])
    return f" ({'; '.join(parts)})" if parts else ""


def _off_by_one(got: int, want: int) -> str:
    return " (off by one)" if abs(got - want) == 1 else ""


def assert_names_as_asked(used: dict[str, Any]) -> None:
    """The test of :func:`grader.probing.names_used`: fails for a definition graded under another
    name ("graded your `MyLiner` as `MyLinear`"), so a wrong name costs this test's points only,
    and, when the probe added ``"stub": True`` (:func:`grader.probing.still_a_stub`), for the
    starter's stub handed in unchanged."""
    used = dict(used)
    attributes = {name: found for name, found in used.items()
                  if isinstance(found, dict) and found.get("attribute")}
    used = {name: found for name, found in used.items() if name not in attributes}
    if used.pop("stub", False):
        raise Mismatch(f"{' and '.join(used)} still raises NotImplementedError: write it in place of "
                       "the starter's stub")
    for name, found in used.items():
        if not found.get("used"):
            raise Mismatch(f"your code does not define {name}")
        if found.get("graced"):
            note = f" (chosen by fit; the other candidates: {found['note']})" if found.get("note") else ""
            raise Mismatch(f"graded your `{found['used']}` as `{name}`{note}: the task asks for the "
                           f"name `{name}`; rename it to get this test's points")
    if attributes:
        listed = ", ".join(f"self.{found['used']} as self.{name.split('.')[-1]}"
                           for name, found in attributes.items())
        owner = next(iter(attributes)).split(".")[0]
        raise Mismatch(f"graded {owner}'s {listed}: the task asks for these attribute names; "
                       "rename them to get this test's points (the other tests found yours by "
                       "shape and role)")


def fail(message: str) -> NoReturn:
    """Fail the current test with ``message``, as a student should read it."""
    raise Mismatch(message)
