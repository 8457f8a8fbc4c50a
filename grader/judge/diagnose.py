"""Recognising the likely mistake behind a wrong tensor (or an error a check ran into), in words a
student can act on: a sign, a transpose, a missing term or factor, an unbiased variance (a factor
sqrt((N-1)/N)), negatives clipped to zero (a stray ReLU), no gradient (``.data`` in ``forward``)."""

from __future__ import annotations

import math
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
    if float(expected.min()) < -tolerance and close(actual, expected.clamp_min(0)):
        return ("the negative values are 0 where the expected ones are negative (the others are right): "
                "a stray ReLU or clamp(min=0) on the result?")
    if actual.dim() == 2 and actual.shape[0] == actual.shape[1] and close(actual, expected.T):
        return "it equals the expected matrix transposed: check the order of the dimensions"
    factor = _constant_factor(actual, expected)
    first, wanted = actual.flatten()[0], expected.flatten()[0]
    if factor is not None and actual.numel() > 1 and close(actual, first) and close(expected, wanted):
        offset = float(first - wanted)  # every value the same: a term and a factor fit alike
        return (f"every value is off by {offset:+.4g}, or {_describe_factor(factor)} the expected value: "
                "a missing or extra term, or constant factor?")
    if factor is not None and close(actual, factor * expected):
        bessel = _bessel(factor)
        if bessel:
            return f"it is {factor:.4g} times the expected value, {bessel}"
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


MAX_N = 100_000  # the largest count N a (N-1)/N factor is named for


def _bessel(factor: float) -> str | None:
    """Words for a factor that is (N-1)/N, N/(N-1) or a square root of one, for a whole N >= 3: a
    variance or standard deviation divided by N - 1 where N is asked, or the reverse (which one
    depends on whether the value compared is the variance or divided by it). None otherwise."""
    kinds = (  # (the factor for N, N for the factor, its name)
        (lambda n: math.sqrt((n - 1) / n), lambda f: 1 / (1 - f * f), "sqrt((N-1)/N)"),
        (lambda n: math.sqrt(n / (n - 1)), lambda f: f * f / (f * f - 1), "sqrt(N/(N-1))"),
        (lambda n: (n - 1) / n, lambda f: 1 / (1 - f), "(N-1)/N"),
        (lambda n: n / (n - 1), lambda f: f / (f - 1), "N/(N-1)"),
    )
    for of, count_for, name in kinds:
        try:
            n = round(count_for(factor))
        except ZeroDivisionError:
            continue
        if not 3 <= n <= MAX_N:  # N = 2 (a factor 2 or 1/2) is far more often something else
            continue
        spacing = abs(of(n + 1) - of(n))  # a whole N only where its neighbours do not fit as well
        if abs(of(n) - factor) <= min(1e-4, spacing / 4):
            return (f"{name} for N = {n}: a variance divided by N - 1 (torch.var's and torch.std's "
                    "default) where N is asked, or the reverse? unbiased=False (correction=0) divides by N")
    return None


def _describe_factor(factor: float) -> str:
    for value, words in ((factor, "{} times"), (1 / factor, "1/{} of")):
        rounded = round(value)
        if rounded > 1 and abs(value - rounded) < RELATIVE * rounded:
            return words.format(rounded)
    return f"{factor:.4g} times"


NO_GRADIENT = "does not require grad and does not have a grad_fn"


def error_cause(kind: str, message: str) -> str | None:
    """The likely mistake behind an error a check ran into while using the student's result, else
    None: "element 0 of tensors does not require grad" while a probe runs backward() is a result
    cut from the graph in the student's code."""
    if kind == "RuntimeError" and NO_GRADIENT in message:
        return ("your result has no gradient: forward computes with .data or .detach(), under "
                "torch.no_grad(), or rebuilds tensors from .item()/.numpy()/torch.tensor(...), which "
                "cuts it from the parameters; compute with the parameters themselves")
    return None
