"""Comparing submissions' code for ``grader similar``: each submission's fingerprints (copydetect's
winnowing, with a hash that is the same in every process), the starter's and the class's common
code left out, and each pair's shares of common code (:class:`Pair`). Ranking, pages and the CSV
are :mod:`grader.course.similarity`'s.
"""

from __future__ import annotations

import io
import itertools
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from grader.errors import GraderError

LISTED_FROM = 0.3  # pairs below this code overlap and sharing no wrong observation are left out
K, WINDOW = 25, 4  # copydetect's defaults: noise threshold 25 characters, guarantee 30
WRONG_WEIGHT = 0.2  # each rare shared wrong observation adds this to a pair's rank
COMMON = 10  # fingerprints found in more submissions than this are ignored (MOSS's -m default)


@dataclass
class Pair:
    a: str
    b: str
    code_a: float = 0.0
    code_b: float = 0.0
    shared_tests: list[str] = field(default_factory=list)
    slices: tuple[Any, Any] | None = None
    rare: float = 0.0  # the share of the smaller side's code no other submission has
    common_shared: int = 0  # fingerprints both have that more than COMMON submissions have
    own: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0))  # (kept, all) fingerprints a side

    @property
    def code(self) -> float:
        return max(self.code_a, self.code_b)

    @property
    def rank_value(self) -> float:
        return self.rare + WRONG_WEIGHT * len(self.shared_tests)

    def flagged(self, threshold: float) -> bool:
        return self.code >= threshold or bool(self.shared_tests)


def compare_code(codes: dict[str, str], starter: str,
                 notes: dict[str, str] | None = None) -> dict[tuple[str, str], Pair]:
    """Every pair's share of common code, the starter's fingerprints ignored (copydetect); a
    submission whose fingerprints cannot be taken is left out, with a note in ``notes``."""
    import numpy as np

    try:
        from copydetect.detector import CodeFingerprint, compare_files
    except ImportError:
        raise GraderError("grader similar needs copydetect: pip install copydetect==0.5.0") from None

    with _stable_hashes():
        boilerplate = np.array(sorted(CodeFingerprint("starter.py", K, WINDOW, fp=io.StringIO(starter)).hashes)
                               if starter.strip() else [], dtype=np.int64)
        prints = _fingerprints(codes, boilerplate, notes)
    everything = {student: set(fingerprint.hashes) for student, fingerprint in prints.items()}
    counts = _drop_common(prints)
    pairs: dict[tuple[str, str], Pair] = {}
    for a, b in itertools.combinations(sorted(prints), 2):
        first, second = prints[a], prints[b]
        if not first.hashes or not second.hashes:
            continue
        shared = first.hashes & second.hashes
        smaller = min(len(first.hashes), len(second.hashes))
        # a cheap bound first: most pairs share next to nothing
        if len(shared) / smaller < LISTED_FROM / 2:
            continue
        _, (share_a, share_b), slices = compare_files(first, second)
        pairs[(a, b)] = Pair(
            a, b, float(share_a), float(share_b), slices=slices,
            rare=sum(counts[value] == 2 for value in shared) / smaller,
            common_shared=len((everything[a] & everything[b]) - shared),
            own=((len(first.hashes), len(everything[a])), (len(second.hashes), len(everything[b]))))
    return pairs


def _fingerprints(codes: dict[str, str], boilerplate: Any, notes: dict[str, str] | None) -> dict[str, Any]:
    """Each submission's fingerprints (copydetect), the starter's left out; one that cannot be taken
    is left out with a note."""
    from copydetect.detector import CodeFingerprint

    prints = {}
    for student, text in codes.items():
        try:
            try:
                prints[student] = CodeFingerprint(f"{student}.py", K, WINDOW, boilerplate=boilerplate,
                                                  fp=io.StringIO(text))
            except Exception:  # noqa: BLE001 - pygments on hostile text: fall back to plain text
                prints[student] = CodeFingerprint(f"{student}.py", K, WINDOW, boilerplate=boilerplate,
                                                  fp=io.StringIO(text), filter=False)
        except Exception as error:  # noqa: BLE001 - one submission never breaks the class's check
            if notes is not None:
                notes[student] = "; ".join(filter(None, [notes.get(student), "not compared: "
                                                         f"{type(error).__name__}"]))
    return prints


@contextmanager
def _stable_hashes() -> Iterator[None]:
    """copydetect hashes each k-gram with Python's ``hash()``, which is salted anew in every
    process (``PYTHONHASHSEED``): which fingerprints winnowing keeps, and so every share, changed
    from one run to the next on the same class. Meanwhile a stable hash: each k-gram's characters
    as a polynomial modulo 2**64 (one matrix product for a whole submission), mixed by
    splitmix64's finaliser so that the high bits winnowing compares depend on every character."""
    from copydetect import utils

    original = utils.hashed_kgrams
    utils.hashed_kgrams = stable_kgram_hashes
    try:
        yield
    finally:
        utils.hashed_kgrams = original


def stable_kgram_hashes(string: str, k: int) -> Any:
    """The hashes of every ``k`` characters long slice of ``string``, the same in every process."""
    import numpy as np

    characters = np.frombuffer(string.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if len(characters) < k:
        return np.zeros(0, dtype=np.int64)
    powers = np.full(k, 0x9E3779B97F4A7C15, dtype=np.uint64) ** np.arange(k - 1, -1, -1, dtype=np.uint64)
    hashes = np.lib.stride_tricks.sliding_window_view(characters.astype(np.uint64), k) @ powers
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        hashes = (hashes ^ (hashes >> np.uint64(shift))) * np.uint64(factor)
    return (hashes ^ (hashes >> np.uint64(31))).view(np.int64)


def _drop_common(prints: dict[str, Any]) -> dict[int, int]:
    """Forget the fingerprints more than :data:`COMMON` submissions share (as MOSS's ``-m``): code
    everyone writes (the exercise's own shape, the starter's, a tutorial's) proves nothing. Returns
    how many submissions have each fingerprint."""
    from copydetect.utils import get_token_coverage

    counts: dict[int, int] = defaultdict(int)
    for fingerprint in prints.values():
        for value in fingerprint.hashes:
            counts[value] += 1
    common = {value for value, count in counts.items() if count > COMMON}
    if not common:
        return counts
    for fingerprint in prints.values():
        dropped = fingerprint.hashes & common
        if dropped:
            fingerprint.hashes -= dropped
            for value in dropped:
                fingerprint.hash_idx.pop(value, None)
            fingerprint.token_coverage = get_token_coverage(
                fingerprint.hash_idx, fingerprint.k, len(fingerprint.filtered_code))
    return counts
