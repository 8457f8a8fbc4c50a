"""Finding an assignment (bundled, by name, or by path) and reading its ``assignment.toml``."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GraderError
from grader.intake.submissions import EntryRule, task_names

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # grader/


def bundled_releases() -> Path:
    """Where an installed grader keeps the releases of its bundled assignments."""
    return PACKAGE_DIR / "_bundled" / "releases"


def bundled_root() -> Path:
    """Where bundled ``assignments/`` and ``reference/`` live: in the wheel, or the checkout."""
    installed = PACKAGE_DIR / "_bundled"
    return installed if (installed / "assignments").is_dir() else PACKAGE_DIR.parent


# Imported once in the warm process rather than in every sandbox, when the class's code (the
# reference, the tests or any submission) mentions what imports them: creating the first optimizer
# imports torch._dynamo (about 3 s); the first backward() given an explicit gradient, and so every
# gradcheck, imports torch.fx.experimental.symbolic_shapes with sympy (about 0.6 s); a first
# matplotlib.pyplot import takes about 1.2 s. Preloading what nobody uses costs those seconds once.
AUTO_PRELOAD: dict[str, re.Pattern[bytes]] = {
    "torch._dynamo": re.compile(rb"\boptim\b|\bcompile\(|_dynamo"),
    "torch.fx.experimental.symbolic_shapes": re.compile(
        rb"\boptim\b|\bcompile\(|_dynamo|gradcheck|autograd\.grad\(|backward\(\s*[^)\s]"),
    "matplotlib.pyplot": re.compile(rb"(?:import|from)\s+matplotlib|pyplot"),  # not %matplotlib: skipped
}
SCANNED_BYTES = 4 * 1024 * 1024  # of each file, for the words above


@dataclass(frozen=True)
class Limits:
    timeout: float | None = None  # seconds; None means "derive from the reference's run time"
    memory: int = 2 * 1024**3  # bytes of address space beyond what the warm process maps


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    root: Path
    reference: Path
    test_files: tuple[Path, ...]
    limits: Limits = field(default_factory=Limits)
    version: str = "1"
    preload: tuple[str, ...] | None = None  # None: chosen by warm_imports from the class's code
    starter: Path | None = None  # the notebook students start from
    entry: str | None = None  # [submission] entry: the file a folder submission is run from
    requires: tuple[str, ...] = ()  # [environment] requires: packages the grading needs
    names: tuple[str, ...] = ()  # the names the task asks for ([names], else the probes' defined())

    @property
    def entry_rule(self) -> EntryRule:
        """How the entry of a submission with several files is chosen."""
        return EntryRule(self.entry, self.names)

    @property
    def data(self) -> Path | None:
        """The assignment's ``data/`` folder (shown in the sandbox's working folder), if any."""
        folder = self.root / "data"
        return folder if folder.is_dir() else None

    @property
    def fingerprint(self) -> str:
        """Changes whenever the tests, the reference or the settings change."""
        digest = hashlib.sha256(self.version.encode())
        for path in (*self.test_files, self.reference, self.root / "assignment.toml"):
            digest.update(path.read_bytes())
        if self.data is not None:  # what the student's code reads is part of the grade too
            for path in sorted(self.data.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    digest.update(path.relative_to(self.data).as_posix().encode() + b"\0")
                    digest.update(path.read_bytes())
        return digest.hexdigest()[:16]

    def warm_imports(self, submissions: Iterable[Path] = (), everything: bool = False) -> tuple[str, ...]:
        """What the warm server imports for these submissions: ``[sandbox] preload`` when the
        assignment sets it, else each module of ``AUTO_PRELOAD`` whose words appear in the
        reference, the tests or a submission (all of them with ``everything``)."""
        if self.preload is not None:
            return self.preload
        if everything:
            return tuple(AUTO_PRELOAD)
        wanted: list[str] = []
        for path in (self.reference, *self.test_files, *submissions):
            try:
                with open(path, "rb") as handle:
                    text = handle.read(SCANNED_BYTES)
            except OSError:
                continue
            wanted += [module for module, words in AUTO_PRELOAD.items()
                       if module not in wanted and words.search(text)]
            if len(wanted) == len(AUTO_PRELOAD):
                break
        return tuple(module for module in AUTO_PRELOAD if module in wanted)


def parse_size(text: str | int) -> int:
    """``"2G"``, ``"512M"``, ``"1.5GiB"`` or a number of bytes, as bytes."""
    if isinstance(text, int):
        return text
    units = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    cleaned = text.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = cleaned, ""
    if cleaned and cleaned[-1] in units:
        number, unit = cleaned[:-1], cleaned[-1]
    try:
        value = float(number)
    except ValueError:
        raise GraderError(f"cannot read the size {text!r}: write it like 2G, 512M or 1500000000") from None
    if value <= 0:
        raise GraderError(f"the size {text!r} must be positive")
    return int(value * units[unit])


def list_assignments() -> list[Assignment]:
    """The bundled assignments, sorted by name."""
    folder = bundled_root() / "assignments"
    if not folder.is_dir():  # an installed grader carries student releases only
        return []
    found = [load_assignment(p) for p in sorted(folder.iterdir()) if (p / "assignment.toml").is_file()]
    return found


def find_assignment(name_or_path: str) -> Assignment:
    """An assignment folder by path, ``./assignments/NAME`` (a course folder's own), or a bundled
    assignment by name."""
    as_path = Path(name_or_path)
    if (as_path / "assignment.toml").is_file():
        return load_assignment(as_path)
    course = Path("assignments") / name_or_path  # run from the course folder: its own come first
    if as_path.name == name_or_path and (course / "assignment.toml").is_file():
        return load_assignment(course)
    bundled = bundled_root() / "assignments" / name_or_path
    if (bundled / "assignment.toml").is_file():
        return load_assignment(bundled)
    if (bundled_releases() / name_or_path / "release.json").is_file():
        raise GraderError(f"{name_or_path} is installed as a student release only (public tests, no "
                          f"reference): `grader check {name_or_path} FILE` checks a notebook; to grade, "
                          "run the grader from its checkout or give the assignment's folder")
    names = ", ".join(a.name for a in list_assignments()) or "none"
    raise GraderError(
        f"unknown assignment {name_or_path!r}: give a bundled name ({names}) "
        "or the path of a folder holding assignment.toml"
    )


def load_assignment(folder: Path, need_reference: bool = True) -> Assignment:
    """The assignment in ``folder``; without ``need_reference`` (a Dask worker's copy, which runs
    students only) a missing reference is no error."""
    folder = folder.resolve()
    toml_path = folder / "assignment.toml"
    try:
        config = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise GraderError(f"cannot read {toml_path}: {error}") from None
    name = str(config.get("name", folder.name))
    try:
        reference = _reference_path(folder, name, config.get("reference"))
    except GraderError:
        if need_reference:
            raise
        reference = folder / "no-reference-here"
    tests = tuple(sorted(folder.glob("test_*.py")))
    if not tests:
        raise GraderError(f"{folder} has no test_*.py files: an assignment needs at least one test")
    limits = config.get("limits", {})
    timeout = limits.get("timeout")
    return Assignment(
        name=name,
        title=str(config.get("title", name)),
        root=folder,
        reference=reference,
        test_files=tests,
        limits=Limits(
            timeout=float(timeout) if timeout is not None else None,
            memory=parse_size(limits.get("memory", "2G")),
        ),
        version=str(config.get("version", "1")),
        preload=_preload(config.get("sandbox", {})),
        starter=(folder / config["starter"]) if config.get("starter") else None,
        entry=_entry(config.get("submission", {})),
        requires=_requires(config.get("environment", {})),
        names=task_names(tests, config.get("names")),
    )


def _entry(submission: object) -> str | None:
    """``[submission] entry = "main.py"``: the file a folder submission is run from."""
    entry = submission.get("entry") if isinstance(submission, dict) else None
    if entry is None:
        return None
    if not isinstance(entry, str) or not entry.endswith((".py", ".ipynb")) or entry.startswith("/") \
            or ".." in Path(entry).parts:
        raise GraderError('[submission] entry must name a .py or .ipynb file inside the student\'s '
                          'folder, e.g. entry = "main.py"')
    return entry


def _requires(environment: object) -> tuple[str, ...]:
    """``[environment] requires = ["torchvision", ...]``: what must be importable to grade."""
    requires = environment.get("requires", []) if isinstance(environment, dict) else []
    if not isinstance(requires, list) or not all(isinstance(r, str) and r for r in requires):
        raise GraderError('[environment] requires must be a list of package names, e.g. '
                          'requires = ["torchvision"]')
    return tuple(requires)


def _preload(sandbox: dict) -> tuple[str, ...] | None:
    if "preload" not in sandbox:
        return None
    modules = sandbox["preload"]
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise GraderError('[sandbox] preload must be a list of module names, e.g. ["torch._dynamo"]')
    return tuple(modules)


def _reference_path(folder: Path, name: str, configured: str | None) -> Path:
    candidates = []
    if configured:
        candidates.append((folder / configured).resolve())
    candidates += [folder.parent.parent / "reference" / f"{name}.py", folder / "reference.py"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise GraderError(
        f"assignment {name!r} has no reference implementation: expected reference/{name}.py "
        "beside assignments/, or a 'reference' path in assignment.toml"
    )
