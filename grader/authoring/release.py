"""``grader release ASSIGNMENT -o DIR``: what students get, and nothing they must not see.

A release is a folder::

    README.md           for the student: how to install the grader, the one command that checks their
                        work from inside this folder, and what public checks are not
    release.json        the manifest: name, title, the assignment's fingerprint, limits, files, and
                        the questions (``@question``; else one per test) with their public tests
    starter.ipynb       the starter notebook: its first cell says how to check the work (the
                        starter's own instructions for the bundled name are replaced, not
                        repeated), and a ``check("QUESTION")`` cell follows each question's cells
    test_NAME.py        the public tests: public judge tests and the probes (and helpers) they use
    reference.obs       the reference's observations for those probes only (data, in the format
                        of grader.sandbox.wire: JSON and tensor bytes, never code)
    data/               the assignment's public data files, when it has a data/ folder

It holds no reference code, no hidden test and no hidden probe: the public test files are rebuilt
from the syntax tree of the assignment's tests, keeping only the ``test_*`` functions without
``@hidden`` and the module-level definitions they reach (comments dropped), and the release is
refused when a hidden test's name is still mentioned in it.

``grader check DIR FILE`` and ``check(DIR)`` judge from a release offline: the student's probes
run (in the sandbox on Linux, in a plain time-limited process elsewhere) and the judge compares
them with ``reference.obs``. Public checks are not the grade: hidden tests run on the
instructor's side.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from grader.authoring.public_tests import split_public
from grader.errors import GraderError

MANIFEST = "release.json"
README = "README.md"
INSTALL = ("pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu",
           "pip install torchgrader jupyter ipykernel")
FORMAT = "grader-release/1"
OBSERVATIONS = "reference.obs"
DATA_DIR = "data"


@dataclass(frozen=True)
class Release:
    """A release folder, read from its manifest."""

    root: Path
    name: str
    title: str
    fingerprint: str
    test_files: tuple[Path, ...]
    probes: tuple[str, ...]
    starter: Path | None
    timeout: float
    memory: int
    public_points: float
    hidden_points: float
    entry: str | None = None  # [submission] entry: the file a folder submission is run from
    names: tuple[str, ...] = ()  # the names the task asks for (grader.intake.submissions.task_names)

    @property
    def entry_rule(self):
        """How the entry of a submission with several files is chosen, as when graded."""
        from grader.intake.submissions import EntryRule

        return EntryRule(self.entry, self.names)
    questions: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # public tests

    @cached_property
    def reference(self) -> dict[str, Any]:
        """The reference's observations, by probe name."""
        from grader.sandbox.wire import WireError, decode_frames

        path = self.root / OBSERVATIONS
        try:
            frames = decode_frames(path.read_bytes())
        except (OSError, WireError) as error:
            raise GraderError(f"cannot read {path} ({error}): download the release again") from None
        return {f.name: f.value for f in frames if f.kind == "probe"}


def is_release(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()




def find_release(name_or_path: str) -> Release | None:
    """A release folder by path, or a bundled release by name; None when it is neither."""
    as_path = Path(name_or_path)
    if is_release(as_path):
        return load_release(as_path)
    if not as_path.is_dir() and re.fullmatch(r"[A-Za-z0-9_.-]+", name_or_path):
        from grader.intake import assignment

        bundled = assignment.bundled_releases() / name_or_path
        if is_release(bundled):
            return load_release(bundled)
    return None


def load_release(folder: Path) -> Release:
    folder = folder.resolve()
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format {manifest.get('format')!r}, expected {FORMAT!r}")
        tests = tuple(folder / _plain_name(name) for name in manifest["tests"])
        missing = [p.name for p in tests if not p.is_file()]
        if missing or not tests:
            raise ValueError(f"missing test files: {', '.join(missing) or 'none listed'}")
        starter = manifest.get("starter")
        return Release(
            root=folder, name=str(manifest["name"]), title=str(manifest.get("title", manifest["name"])),
            fingerprint=str(manifest["fingerprint"]), test_files=tests,
            probes=tuple(map(str, manifest.get("probes", []))),
            starter=folder / _plain_name(starter) if starter else None,
            timeout=float(manifest.get("limits", {}).get("timeout", 60.0)),
            memory=int(manifest.get("limits", {}).get("memory", 2 * 1024**3)),
            public_points=float(manifest.get("public_points", 0.0)),
            hidden_points=float(manifest.get("hidden_points", 0.0)),
            entry=_plain_path(manifest["entry"]) if manifest.get("entry") else None,
            names=_task_names(tests, manifest.get("names")),
            questions={str(q): tuple(map(str, tests)) for q, tests in manifest.get("questions", {}).items()},
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise GraderError(f"{folder} is not a usable release ({error}): make it again with "
                          "`grader release ASSIGNMENT -o DIR`") from None


def _task_names(tests: tuple[Path, ...], names: object) -> tuple[str, ...]:
    from grader.intake.submissions import task_names

    return task_names(tests, names)


def _plain_path(name: str) -> str:
    """A path inside a student's folder from a manifest: relative, never leaving it."""
    if not isinstance(name, str) or name.startswith("/") or ".." in Path(name).parts:
        raise ValueError(f"bad entry {name!r}")
    return name


def _plain_name(name: str) -> str:
    """A file name from a manifest: one path part, no way out of the release folder."""
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        raise ValueError(f"bad file name {name!r}")
    return name


# --- making a release (instructor side) ----------------------------------------------------------


def make_release(assignment_name: str, out: Path, device: str = "cpu") -> Release:
    """Write ``assignment_name``'s release into ``out`` (replacing an earlier release there)."""
    from grader.grading.batch import check_environment
    from grader.intake.assignment import find_assignment

    assignment = find_assignment(assignment_name)
    check_environment(assignment)
    out = out.resolve()
    if out == assignment.root or assignment.root.is_relative_to(out):
        raise GraderError(f"-o {out} would overwrite the assignment itself: choose another folder")
    if out.exists() and any(out.iterdir()) and not is_release(out):
        raise GraderError(f"{out} exists and is not a release: give an empty or new folder")
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=_parent_of(out)))
    try:
        split = [split_public(path) for path in assignment.test_files]
        hidden_names = [name for part in split for name in part.hidden_tests]
        test_names = []
        for path, part in zip(assignment.test_files, split, strict=True):
            if part.public_tests:
                (partial / path.name).write_text(part.source, encoding="utf-8")
                test_names.append(path.name)
        if not test_names:
            raise GraderError(f"{assignment.name} has no public tests: a release would check nothing")
        public_files = tuple(partial / name for name in test_names)
        reference, seconds = _reference_observations(assignment, public_files, device)
        probes = sorted(reference)
        _write_observations(partial / OBSERVATIONS, reference)
        questions: dict[str, list[str]] = {}
        for part in split:
            for test in part.public_tests:
                questions.setdefault(part.questions.get(test, test), []).append(test)
        data = _copy_data(assignment.root, partial)
        starter = None
        if assignment.starter is not None and assignment.starter.is_file():
            starter = assignment.starter.name
            _write_starter(assignment.starter, partial / starter, assignment.name, out.name,
                           list(questions), data)
        _write_readme(partial / README, assignment.title, starter)
        public_points = sum(p for part in split for p in part.public_points.values())
        manifest = {
            "format": FORMAT, "name": assignment.name, "title": assignment.title,
            "version": assignment.version, "fingerprint": assignment.fingerprint,
            "grader": _grader_version(), "tests": test_names, "probes": probes,
            "observations": OBSERVATIONS, "starter": starter, "data": data, "device": device,
            **({"entry": assignment.entry} if assignment.entry else {}),
            **({"names": names} if (names := _names_settings(assignment.root)) else {}),
            "limits": {"timeout": _student_timeout(assignment.limits.timeout, seconds),
                       "memory": assignment.limits.memory},
            "questions": questions,
            "public_points": public_points,
            "hidden_points": sum(p for part in split for p in part.hidden_points.values()),
            "note": "Public checks only: hidden tests count towards the grade and are run when "
                    "the work is graded.",
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        leaks = mentions(partial, hidden_names)
        if leaks:
            raise GraderError(f"the release would still name hidden tests ({'; '.join(leaks)}): "
                              "remove those mentions from the public tests or the starter")
        for cache in list(partial.rglob("__pycache__")):
            shutil.rmtree(cache, ignore_errors=True)
        partial.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        partial.rename(out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return load_release(out)


def _parent_of(out: Path) -> Path:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise GraderError(f"cannot create {out.parent}: {error.strerror}; choose another -o") from None
    return out.parent


def _grader_version() -> str:
    from grader.version import __version__

    return __version__


def _student_timeout(configured: float | None, reference_seconds: float) -> float:
    from grader.grading.options import student_timeout

    return student_timeout(configured, reference_seconds)


def _reference_observations(assignment, public_files: tuple[Path, ...],
                            device: str) -> tuple[dict[str, Any], float]:
    """The reference's observations of the public probes only (its probes run in a sandbox)."""
    from grader.grading.options import GradeOptions
    from grader.grading.reference import reference_observations
    from grader.sandbox.pool import SandboxPool

    public = dataclasses.replace(assignment, test_files=public_files)
    with tempfile.TemporaryDirectory(prefix="grader-release-") as work:
        pool = SandboxPool(public_files, 1, Path(work), True, public.warm_imports())
        try:
            return reference_observations(public, pool, Path(work), GradeOptions(jobs=1, device=device))
        finally:
            pool.close()


def _names_settings(root: Path) -> dict[str, Any]:
    """The assignment's ``[names]`` table (aliases, grace), which the public probes read from the
    manifest as they read it from ``assignment.toml``."""
    import tomllib

    try:
        names = tomllib.loads((root / "assignment.toml").read_text(encoding="utf-8")).get("names", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return names if isinstance(names, dict) else {}


def _write_observations(path: Path, observations: dict[str, Any]) -> None:
    from grader.sandbox.wire import encode_frame

    with open(path, "wb") as handle:
        for name in sorted(observations):
            handle.write(encode_frame("probe", name, observations[name]))


def _copy_data(root: Path, partial: Path) -> list[str]:
    """The assignment's ``data/`` folder (its public data files), without hidden or cache files."""
    source = root / DATA_DIR
    if not source.is_dir():
        return []
    copied = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not path.is_symlink() and not any(
                part.startswith(".") or part == "__pycache__" for part in relative.parts):
            target = partial / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            copied.append(relative.as_posix())
    return copied


def check_command(starter: str | None) -> str:
    """The one command that checks a student's work, typed in a terminal inside the release folder."""
    return f"grader check . {starter or 'YOUR_NOTEBOOK.ipynb'}"


def _write_readme(target: Path, title: str, starter: str | None) -> None:
    """The release's README.md: install, check, and what public checks are not."""
    notebook = starter or "your notebook"
    target.write_text(f"""# {title}

## Install (once)

PyTorch for the CPU first (a plain `pip install torch` downloads several GB of GPU libraries),
then the grader and Jupyter:

```
{INSTALL[0]}
{INSTALL[1]}
```

## Check your work

Open a terminal **in this folder** (the one holding this README) and run:

```
{check_command(starter)}
```

(use your notebook's name if you renamed it). Or, inside the notebook, run the check cell after
each question (`check("QUESTION")`), or `check()` for every public test; they check the objects
your cells defined, with no need to save.

## What these checks are not

They are the **public** checks only: they tell you early whether your code does what the
questions ask. **They are not your grade.** Hidden tests count too: they run when your work is
graded, on your instructor's side. Passing every public check does not promise full marks, and
nothing in this folder holds the solution or the hidden tests.

Hand in {notebook} as your course says.
""", encoding="utf-8")


INSTRUCTION_PARAGRAPHS = re.compile(  # the bundled starters' own "how to check" text, for the name
    r"^(\*\*How to check your work\.\*\*|\(use the name of your notebook|Or, right here in the "
    r"notebook|It runs the public tests on the objects|```[a-z]*\n(grader check|from grader import check))")


def _write_starter(source: Path, target: Path, name: str, folder: str,
                   questions: list[str] | None = None, data: list[str] | None = None) -> None:
    """The starter: its first cell says how to check the work with this release (the starter's own
    instructions, written for the bundled name, are replaced: one instruction, not two), and a
    check cell follows the cells of each question (those an assigned notebook marked with
    ``metadata.grader.questions``; without such marks, one cell at the end checks every question);
    ``data``: the release's data files, whose place the first cell says."""
    try:
        notebook = json.loads(source.read_text(encoding="utf-8"))
        cells = notebook["cells"]
    except (OSError, ValueError, KeyError) as error:
        raise GraderError(f"cannot read the starter {source}: {error}") from None
    note = (f"**Checking your work with this release** (the folder `{folder}`): in a terminal in "
            f"this folder, run `grader check . {source.name}` (your notebook's name if you renamed "
            "it); in this notebook, run a check cell: `from grader import check; check()` checks "
            "every question, `check(\"QUESTION\")` one (a check cell follows each question the "
            "assignment names). Your cells run in order; one that "
            "fails is reported and the next ones still run. These are the public checks only: they "
            "are not your grade. Hidden tests count too; they run when your work is graded.\n\n")
    if data:
        shown = ", ".join(f"`{path}`" for path in data[:3]) + (", ..." if len(data) > 3 else "")
        note += (f"**Data files** are in the folder `{DATA_DIR}/` beside this notebook ({shown}): "
                 f"open them by that path, e.g. `open(\"{data[0]}\")`; it is the same path when "
                 "your work is checked and graded.\n\n")
    first = cells[0] if cells else None
    if first is not None and first.get("cell_type") == "markdown":
        text = "".join(first["source"]) if isinstance(first["source"], list) else first["source"]
        paragraphs = [p for p in re.split(r"\n\s*\n", text) if not INSTRUCTION_PARAGRAPHS.match(p.strip())]
        text = "\n\n".join(paragraphs)
        text = re.sub(rf"grader check {re.escape(name)}\b", "grader check .", text)
        text = text.replace(f'check("{name}")', "check()").replace(f"check('{name}')", "check()")
        heading, _, rest = text.partition("\n\n") if text.startswith("#") else ("", "", text)
        first["source"] = ((heading + "\n\n" if heading else "") + note + rest).rstrip()
    else:
        cells.insert(0, {"cell_type": "markdown", "metadata": {}, "source": note.strip()})
    notebook["cells"] = _with_check_cells(cells, questions or [])
    target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _check_cell(question: str | None) -> dict[str, Any]:
    call = "check()" if question is None else f"check({json.dumps(question)})"
    return {"cell_type": "code", "execution_count": None, "outputs": [],
            "metadata": {"grader": {"check": question or "all"}},
            "source": f"from grader import check\n{call}"}


def _with_check_cells(cells: list[dict], questions: list[str]) -> list[dict]:
    """``cells`` with a check cell after the last cell of each question (a cell's
    ``metadata.grader.questions``: those whose cells end there), or one at the end."""
    out, placed = [], set()
    for cell in cells:
        marks = cell.get("metadata", {}).get("grader") or {}
        if marks.get("check"):
            continue  # a check cell of an earlier release
        out.append(cell)
        ends = marks.pop("questions", None) or []  # never in the release: hidden tests' names too
        if not marks:
            cell.get("metadata", {}).pop("grader", None)
        for question in ends:
            if question in questions and question not in placed:
                out.append(_check_cell(question))
                placed.add(question)
    if not placed:
        out.append(_check_cell(None))
    return out


def mentions(folder: Path, names: list[str]) -> list[str]:
    """``file: name`` for every name (as a whole word) found in a file of ``folder``."""
    if not names:
        return []
    pattern = re.compile(rb"\b(" + b"|".join(re.escape(n.encode()) for n in names) + rb")\b")
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            for match in sorted(set(pattern.findall(path.read_bytes()))):
                found.append(f"{path.relative_to(folder)}: {match.decode()}")
    return found


def register(verbs: argparse._SubParsersAction) -> None:
    release = verbs.add_parser(
        "release", help="write what students get: the starter and the public tests, no solutions",
        description="Write ASSIGNMENT's student release into DIR: the starter notebook, the public "
        "tests, the reference's observations for the public probes (data, not code), the public "
        "data files, a README for students and a manifest. No reference code, no hidden test. "
        "Students check their work offline, in a terminal inside DIR: `grader check . NOTEBOOK`.")
    release.add_argument("assignment", help="a bundled assignment's name, or an assignment folder")
    release.add_argument("-o", "--out", type=Path, required=True, metavar="DIR",
                         help="the release folder to write (replaced when it holds an older release)")
    release.set_defaults(command=run_release)


def run_release(args: argparse.Namespace) -> int:
    made = make_release(args.assignment, args.out)
    print(f"Wrote {made.root}: {len(made.test_files)} public test files, {len(made.probes)} public "
          f"probes, {made.public_points:g} of {made.public_points + made.hidden_points:g} points "
          f"checkable by students (fingerprint {made.fingerprint}). Students run, in a terminal "
          f"inside that folder: {check_command(made.starter.name if made.starter else None)} "
          f"(its {README} says how to install the grader)")
    return 0
