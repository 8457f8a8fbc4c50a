"""``grader similar OUT_DIR``: which submissions look copied, on two signals.

1. **Code**: the code cells of every submission, with the starter's code removed (its cells
   dropped, its fingerprints ignored), compared pairwise with copydetect's winnowed fingerprints
   (the algorithm of MOSS); code found in more than 10 submissions is ignored, as MOSS does.
   ``code_a`` is the share of A's code also found in B's; ``rare_code`` the share of the smaller
   side's code that these two alone have in the class. Flagged pairs are ranked by it (with the
   shared wrong observations), so code that is rare in the class comes before code many share.
   A submission with no code of its own (the starter handed in unchanged) is in no pair.
2. **Wrong observations**: students whose failures of one test say the very same thing (the same
   wrong values from the same probe, read from ``results.csv``). A mistake many students make is
   common and proves nothing; one that only two or three students share, to the last digit, rarely
   is a coincidence. Only groups of at most ``rare`` students count, and never the starter's own
   behaviour: a failure that a submission with no code of its own (the unchanged starter) also
   shows is what the starter does, not something two students share.

Everything runs on this machine; nothing leaves it. Writes ``similarity.csv`` (one row per pair
worth a look, highest first) and ``similarity/pair-N.html``, the two submissions side by side with
the shared code marked, for the 100 highest-ranked flagged pairs. The report reads it back
(:func:`grader.report.gradebook.ranked_rows`).
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.course.fingerprints import COMMON, LISTED_FROM, Pair, compare_code
from grader.errors import GraderError
from grader.files import atomic_write
from grader.grading import copies
from grader.intake.submissions import read_source
from grader.report.gradebook import SIMILARITY_CSV

FILE_NAME = SIMILARITY_CSV
PAGES = "similarity"
CODE_THRESHOLD = 0.6  # a pair whose code overlaps this much (of either side) is flagged
COLUMNS = ["rank", "student_a", "student_b", "code_similarity", "code_a", "code_b", "rare_code",
           "shared_wrong", "shared_tests", "flagged", "page", "note"]
MAX_SHOWN_BYTES = 200_000  # of each side, on a pair's page
MAX_PAGES = 100  # side-by-side pages written, for the highest-ranked flagged pairs
MAX_READ_BYTES = 8 * 1024 * 1024  # of one submission's files read (a notebook's outputs included)
MAX_CODE_BYTES = 256 * 1024  # of one submission's code compared (entry and helper modules)


def register(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "similar", help="find submissions that look copied (code and identical wrong results)",
        description="Compare the graded submissions of OUT_DIR pairwise: their code (starter "
        "removed, copydetect fingerprints) and their identical wrong observations. Writes "
        "OUT_DIR/similarity.csv and a side-by-side page per flagged pair. Offline.")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the folder `grader grade` wrote")
    parser.add_argument("--assignment", default=None,
                        help="the assignment (name or folder) whose starter is removed (default: "
                        "the one named in OUT_DIR/run.json)")
    parser.add_argument("--threshold", type=float, default=CODE_THRESHOLD, metavar="SHARE",
                        help=f"flag pairs sharing at least this share of code (default {CODE_THRESHOLD})")
    parser.add_argument("--rare", type=int, default=None, metavar="N",
                        help="a wrong observation counts when at most N students share it "
                        "(default: 3, or 2%% of the class when that is more)")
    parser.set_defaults(command=run_similar)


def run_similar(args: argparse.Namespace) -> int:
    from grader.intake.assignment import find_assignment

    name = args.assignment or _run_header(args.out_dir).get("assignment")
    starter = None
    try:
        starter = find_assignment(name).starter if name else None
    except GraderError:
        if args.assignment:
            raise
    if starter is None:
        print("note: no starter notebook found; its code is not removed (give --assignment)")
    result = write_similarity(args.out_dir, starter, args.threshold, args.rare)
    print(summary(result))
    return 0


@dataclass
class SimilarityResult:
    csv_path: Path
    pairs: list[Pair]
    flagged: int
    students: int
    seconds: float
    threshold: float


def summary(result: SimilarityResult) -> str:
    return (f"Similarity: {result.students} submissions, {result.flagged} flagged pairs "
            f"({result.seconds:.1f} s): {result.csv_path}")


def write_similarity(out_dir: Path, starter: Path | None, threshold: float = CODE_THRESHOLD,
                     rare: int | None = None) -> SimilarityResult:
    """Compare every graded submission of ``out_dir``; write similarity.csv and the pair pages."""
    import time

    import pandas as pd

    from grader.report.escaping import csv_table
    from grader.report.html import refresh_similarity

    started = time.monotonic()
    scores_path, results_path = out_dir / "scores.csv", out_dir / "results.csv"
    if not scores_path.is_file():
        raise GraderError(f"{out_dir} holds no scores.csv: run grader grade ... -o {out_dir} first")
    scores = pd.read_csv(scores_path, dtype={"student": str, "file": str}, keep_default_na=False)
    kept = copies.read_index(out_dir)
    results = (pd.read_csv(results_path, dtype=str, keep_default_na=False)
               if results_path.is_file() else pd.DataFrame(columns=["student", "test", "status", "message"]))
    read = {}
    for row in scores.itertuples():
        copy = copies.entry_copy(out_dir, row.student, kept)
        if copy is not None:  # the kept copy: its entry beside the student's helper modules, if any
            read[row.student] = _read_one(copy, folder=True)
        elif row.file and Path(row.file).is_absolute():  # a report folder written before copies were kept
            path = Path(row.file)
            read[row.student] = _read_one(path, folder=path.parent.name == row.student and path.parent.is_dir())
    notes = {student: code.note for student, code in read.items() if code.note}
    codes = {student: code.text for student, code in read.items() if code.text is not None}
    starter_code = (code_of(starter).text if starter is not None else None) or ""
    starter_blocks = {b.strip() for b in starter_code.split("\n\n") if b.strip()}
    codes = {student: _without_starter(code, starter_blocks) for student, code in codes.items()}
    untouched = {student for student, code in codes.items() if not code.strip()}  # the starter only
    codes = {student: code for student, code in codes.items() if student not in untouched}
    students = sorted(codes)
    limit = rare if rare is not None else max(3, round(0.02 * len(scores)))
    pairs = compare_code(codes, starter_code, notes)
    for (a, b), tests in shared_wrong(results, limit, untouched).items():
        pairs.setdefault((a, b), Pair(a, b)).shared_tests = tests
    listed = sorted((p for p in pairs.values() if p.code >= LISTED_FROM or p.shared_tests),
                    key=lambda p: (not p.flagged(threshold), -p.rank_value, -p.code, p.a, p.b))
    pages = out_dir / PAGES
    pages.mkdir(exist_ok=True)
    for old in pages.glob("pair-*.html"):
        old.unlink()
    rows = []
    for rank, pair in enumerate(listed, start=1):
        page = ""
        if pair.flagged(threshold) and rank <= MAX_PAGES:
            page = f"{PAGES}/pair-{rank}.html"
            atomic_write(out_dir / page, pair_page(pair, codes, rank))
        rows.append({"rank": rank, "student_a": pair.a, "student_b": pair.b,
                     "code_similarity": round(pair.code, 3), "code_a": round(pair.code_a, 3),
                     "code_b": round(pair.code_b, 3), "rare_code": round(pair.rare, 3),
                     "shared_wrong": len(pair.shared_tests),
                     "shared_tests": " ".join(pair.shared_tests), "flagged": pair.flagged(threshold),
                     "page": page, "note": "; ".join(f"{s}: {notes[s]}" for s in (pair.a, pair.b)
                                                     if s in notes)})
    paired = {student for pair in listed for student in (pair.a, pair.b)}
    for student in sorted(set(notes) - paired):  # a row of its own: what was not compared, and why
        rows.append({"rank": "", "student_a": student, "student_b": "", "flagged": False, "page": "",
                     "shared_tests": "", "note": notes[student]})
    csv_path = out_dir / FILE_NAME
    atomic_write(csv_path, csv_table(pd.DataFrame(rows, columns=COLUMNS)).to_csv(index=False))
    refresh_similarity(out_dir)  # report.html's table of pairs, when the report is there
    return SimilarityResult(csv_path, listed, sum(r["flagged"] for r in rows), len(students),
                            time.monotonic() - started, threshold)


@dataclass
class Code:
    """What :func:`code_of` read of one submission: its code (None: nothing to compare) and why
    not, or where it was cut."""

    text: str | None
    note: str = ""


def code_of(path: Path, folder: bool = False) -> Code:
    """The code a student wrote, as submitted: a notebook's code cells or a module's text, then
    (``folder``: a folder submission) its helper modules. Bounded whatever the files hold: at most
    ``MAX_READ_BYTES`` read and ``MAX_CODE_BYTES`` of code kept (the note says where it was cut);
    a file that cannot be read or parsed is a note, never an exception."""
    try:
        if path.is_dir():
            candidates = sorted(path.glob("*.ipynb")) or sorted(path.glob("*.py"))
            if len(candidates) != 1:
                return Code(None, "no single notebook or module to compare")
            path, folder = candidates[0], True
        files = [path]
        if folder:
            from grader.intake.submissions import folder_files

            files += [p for p in folder_files(path.parent) if p.suffix == ".py" and p != path]
        texts, budget, notes = [], MAX_READ_BYTES, []
        for file in files:
            if budget <= 0:
                notes.append(f"{file.name} and later files not read (over {MAX_READ_BYTES >> 20} MB)")
                break
            source = read_source(file, budget + 1)
            budget -= len(source)
            text = _code_text(file, source, over=budget < 0)
            if text is None:
                notes.append(f"{file.name}: over {MAX_READ_BYTES >> 20} MB, not read")
                continue
            texts.append(text)
    except RecursionError:
        return Code(None, f"{path.name} cannot be read: nested too deeply")
    except (OSError, ValueError, AttributeError, TypeError) as error:
        return Code(None, f"{path.name} cannot be read: {_reason(error)}")
    code = "\n\n".join(texts)
    if len(code) > MAX_CODE_BYTES:
        code = code[:MAX_CODE_BYTES]
        notes.append(f"code cut at {MAX_CODE_BYTES >> 10} KB")
    return Code(code, "; ".join(notes))


def _code_text(path: Path, source: bytes, over: bool) -> str | None:
    """A notebook's code cells (None when it is larger than can be read) or a module's text."""
    if path.suffix != ".ipynb":
        return source.decode("utf-8", errors="replace")
    if over:
        return None
    notebook = json.loads(source.decode("utf-8-sig", errors="replace"))
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells", []), list):
        raise ValueError("not a notebook")
    cells = [c for c in notebook.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"]
    texts = ["".join(map(str, c["source"])) if isinstance(c.get("source"), list) else str(c.get("source", ""))
             for c in cells]
    return "\n\n".join(texts)


def _reason(error: Exception) -> str:
    if isinstance(error, OSError):
        return str(error.strerror or error)[:200]
    if isinstance(error, ValueError):
        return "not a notebook (invalid JSON)"
    return type(error).__name__


def _without_starter(code: str, starter_blocks: set[str]) -> str:
    """``code`` without the blocks (cells, paragraphs) that are the starter's, unchanged."""
    blocks = code.split("\n\n")
    return "\n\n".join(b for b in blocks if b.strip() not in starter_blocks)


def _read_one(path: Path, folder: bool) -> Code:
    """:func:`code_of` for one row of scores.csv (``folder``: read the helper modules beside the
    entry too). Any failure is a note on its row."""
    try:
        return code_of(path, folder=folder)
    except Exception as error:  # noqa: BLE001 - one submission never breaks the class's check
        return Code(None, f"not compared: {type(error).__name__}")


def shared_wrong(results: Any, rare: int, starter_like: set[str] = frozenset()
                 ) -> dict[tuple[str, str], list[str]]:
    """Pairs of students whose failures of a test say exactly the same, when at most ``rare``
    students share that failure: the tests, by pair. A failure that a ``starter_like`` submission
    (no code of its own) shows too is the starter's own behaviour, and counts for nobody."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in results.itertuples():
        if row.status == "failed" and _is_wrong_value(row.message):
            groups[(row.test, " ".join(row.message.split()))].append(row.student)
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (test, _), students in groups.items():
        if set(students) & set(starter_like):
            continue
        if 2 <= len(set(students)) <= rare:
            for a, b in itertools.combinations(sorted(set(students)), 2):
                pairs[(a, b)].append(test)
    return pairs


def _is_wrong_value(message: str) -> bool:
    """A failure that reports the student's own values, not a crash or a missing name."""
    return "got" in message and not message.startswith("the check could not")


def pair_page(pair: Pair, codes: dict[str, str], rank: int) -> str:
    """The two submissions side by side, shared code marked; every student text escaped."""
    def side(student: str, slices: Any, share: float) -> str:
        code = codes[student][:MAX_SHOWN_BYTES]
        marked = _marked(code, slices)
        return (f'<section><h2>{html.escape(student)}</h2><p>{100 * share:.0f}% of this code is '
                f'also in the other</p><pre>{marked}</pre></section>')

    slices = pair.slices or (None, None)
    tests = ", ".join(map(html.escape, pair.shared_tests)) or "none"
    title = f"{html.escape(pair.a)} and {html.escape(pair.b)}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Similarity #{rank}: {title}</title>
<style>body{{font-family:sans-serif;margin:1em;color:#111}}main{{display:flex;gap:1em}}
section{{flex:1;min-width:0}}pre{{white-space:pre-wrap;background:#f6f6f6;padding:.5em;font-size:85%}}
mark{{background:#ffe08a;color:#111}}</style></head><body>
<h1>Similarity #{rank}: {title}</h1>
<p>Shared code: {100 * pair.code:.0f}% (marked, starter code removed); code these two alone have in
the class: {100 * pair.rare:.0f}% of the smaller side's. Identical wrong results in: {tests}.</p>
<p class="unmarked">{unmarked(pair)}</p>
<p>Similarity is a reason to look, not a verdict: compare the two yourself.</p>
<main>{side(pair.a, slices[0], pair.code_a)}{side(pair.b, slices[1], pair.code_b)}</main>
</body></html>
"""


def unmarked(pair: Pair) -> str:
    """Which shared lines the page leaves unmarked, and why (the shares count marked code only)."""
    (kept_a, all_a), (kept_b, all_b) = pair.own
    common = (f"{pair.common_shared} stretch{'es' * (pair.common_shared != 1)} of code both have "
              f"that more than {COMMON} submissions have too (everyone writes it: it proves nothing)"
              if pair.common_shared else f"no code that more than {COMMON} submissions have")
    return (f"Not marked, and not counted in the shares: the starter's code (removed before "
            f"comparing), and {common}. What is compared: {kept_a} of {all_a} fingerprints of "
            f"{html.escape(pair.a)}'s code, {kept_b} of {all_b} of {html.escape(pair.b)}'s.")


def _marked(code: str, slices: Any) -> str:
    """``code`` escaped for HTML, the ``slices`` (starts, ends) wrapped in ``<mark>``."""
    if slices is None or len(slices) != 2 or len(slices[0]) == 0:
        return html.escape(code)
    out, position = [], 0
    for start, end in sorted(zip((int(s) for s in slices[0]), (int(e) for e in slices[1]), strict=True)):
        start, end = max(start, position), min(end, len(code))
        if start >= end:
            continue
        out += [html.escape(code[position:start]), "<mark>", html.escape(code[start:end]), "</mark>"]
        position = end
    out.append(html.escape(code[position:]))
    return "".join(out)


def _run_header(out_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        if not out_dir.is_dir():
            raise GraderError(f"{out_dir} does not exist: give the folder grader grade wrote") from None
        return {}
