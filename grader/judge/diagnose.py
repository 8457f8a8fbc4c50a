"""Recognising the likely mistake behind a wrong tensor, in words a student can act on."""

from __future__ import annotations

from typing import Any

RELATIVE = 1e-3  # how closely a pattern must fit to be named


def likely_cause(actual: Any, expected: Any) -> str | None:
    """A sentence naming the likely mistake when ``actual`` fits a known pattern, else None.

    Both are float tensors of the same shape holding finite values.
    """
    actual, expected = actual.double(), expected.double()
    scale = float(expected.abs().max()) or 1.0
    tolerance = RELATIVE * scale + 1e-6

    def close(a: Any, b: Any) -> bool:
        return bool((a - b).abs().max() <= tolerance)

    if float(actual.abs().max()) <= tolerance and scale > tolerance:
        return "every value is zero: is the computation (or its result) missing?"
    if close(actual, -expected):
        return "it is exactly -1 times the expected value: check a sign"
    if actual.dim() == 2 and actual.shape[0] == actual.shape[1] and close(actual, expected.T):
        return "it equals the expected matrix transposed: check the order of the dimensions"
    factor = _constant_factor(actual, expected)
    first, wanted = actual.flatten()[0], expected.flatten()[0]
    if factor is not None and actual.numel() > 1 and close(actual, first) and close(expected, wanted):
        offset = float(first - wanted)  # every value the same: a term and a factor fit alike
        return (f"every value is off by {offset:+.4g}, or {_describe_factor(factor)} the expected value: "
                "a missing or extra term, or constant factor?")
    if factor is not None and close(actual, factor * expected):
        return f"it is {_describe_factor(factor)} the expected value: a missing or extra constant factor?"
    offset = float((actual - expected).mean())
    if abs(offset) > tolerance and close(actual - offset, expected):
        return f"it is off by a constant {offset:+.4g} everywhere: a missing or extra term (a bias?)"
    rows_vary = actual.dim() >= 2 and actual.shape[0] > 1 and not close(expected, expected[0:1])
    if rows_vary:  # with equal rows (a gradient summed over a batch) any difference is "per row"
        row_offset = (actual - expected)[0]
        if float(row_offset.abs().max()) > tolerance and close(actual - row_offset, expected):
            return ("every row differs from the expected one by the same vector: a missing or "
                    "wrong bias (or another term added to each row)?")
    if actual.dim() >= 1 and actual.numel() > 1:
        for dim in range(actual.dim()):
            if actual.shape[dim] > 1 and close(actual.flip(dim), expected):
                return f"it is the expected value reversed along dimension {dim}"
    return None


def _constant_factor(actual: Any, expected: Any) -> float | None:
    denominator = float((expected * expected).sum())
    if denominator == 0:
        return None
    factor = float((actual * expected).sum()) / denominator
    if abs(factor - 1) < RELATIVE or factor == 0:
        return None
    return factor


def _describe_factor(factor: float) -> str:
    for value, words in ((factor, "{} times"), (1 / factor, "1/{} of")):
        rounded = round(value)
        if rounded > 1 and abs(value - rounded) < RELATIVE * rounded:
            return words.format(rounded)
    return f"{factor:.4g} times"
