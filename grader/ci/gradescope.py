"""``grader export gradescope ASSIGNMENT -o autograder.zip``: a Gradescope autograder bundle.

``grader export`` is a verb with one sub-verb per target platform. Another module adds a target
from its own ``register(verbs)``, whatever the order of ``MORE_VERBS``::

    from grader.grading.options import export_targets

    def register(verbs):
        canvas = export_targets(verbs).add_parser("canvas", help="...")
        canvas.set_defaults(command=run_canvas)

:func:`export_targets` creates ``grader export`` the first time it is called and returns its
subparsers (kept on the ``export`` parser as its ``targets`` attribute).

The zip Gradescope builds its image from holds:

- ``setup.sh``: installs Python 3.11 when the image lacks it, a virtual environment in
  ``/autograder/venv``, CPU-only ``torch==2.13.0`` and its ``torchvision==0.28.0`` first
  (pinned, from PyTorch's CPU index: a plain ``pip install torch`` on Linux also pulls several
  GB of CUDA libraries), then the grader's wheel (which holds student releases only, no solutions);
- ``run_autograder``: runs ``grader ci ASSIGNMENT /autograder/submission --format gradescope -o
  /autograder/results/results.json``: the whole submission folder, its entry chosen as by every
  door (:func:`grader.intake.submissions.choose_entry`), its helper modules and data beside it;
- ``torchgrader-VERSION-py3-none-any.whl``, built from this checkout with ``pip wheel --no-deps``;
- ``assignments/NAME/`` and ``reference/NAME.py``: the assignment with its hidden tests and its
  reference, which the installed wheel does not carry; the sandbox hides both from student code.
  Nothing else (no examples, no other files of the checkout).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from grader.errors import GraderError

EXECUTABLE = 0o100755 << 16  # a zip member's Unix mode: a regular file, rwxr-xr-x
VENV = "/autograder/venv"
# The one line that installs torch without a GPU (students, CI, Gradescope): PyTorch's CPU wheels,
# with the torchvision that matches (students' `import torchvision`; the `vision` extra's pin).
TORCH_CPU = "torch==2.13.0 torchvision==0.28.0 --index-url https://download.pytorch.org/whl/cpu"


def register(verbs: argparse._SubParsersAction) -> None:
    from grader.grading.options import add_run_options, export_targets

    gradescope = export_targets(verbs).add_parser(
        "gradescope", help="a Gradescope autograder zip (setup.sh, run_autograder, the grader)",
        description="Build the zip to upload as a Gradescope programming assignment's autograder: "
        "it installs torch and this grader, and grades each submission with `grader ci`.")
    gradescope.add_argument("assignment", help="a bundled assignment's name, or an assignment folder")
    gradescope.add_argument("-o", "--out", type=Path, default=Path("autograder.zip"), metavar="ZIP",
                            help="the zip to write (default: autograder.zip)")
    add_run_options(gradescope)
    gradescope.set_defaults(command=run_export_gradescope)


def run_export_gradescope(args: argparse.Namespace) -> int:
    extra = _run_arguments(args)
    members = export_gradescope(args.assignment, args.out, extra)
    print(f"Wrote {args.out} ({', '.join(members)}): upload it as the autograder of a Gradescope "
          "programming assignment (Ubuntu base image).")
    return 0


def export_gradescope(assignment_name: str, out: Path, ci_arguments: Sequence[str] = ()) -> list[str]:
    """Write the autograder zip to ``out``; the names of its top-level members."""
    from grader.intake.assignment import find_assignment

    assignment = find_assignment(assignment_name)
    _check_writable(out)
    with tempfile.TemporaryDirectory(prefix="grader-export-") as work:
        wheel = build_wheel(Path(work))
        target = f"/autograder/source/assignments/{assignment.root.name}"
        partial = out.with_name(f".{out.name}.partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as bundle:
            _add_script(bundle, "setup.sh", setup_script(wheel.name))
            _add_script(bundle, "run_autograder", run_autograder_script(target, ci_arguments))
            bundle.write(wheel, wheel.name)
            _add_assignment(bundle, assignment)
        partial.replace(out)
    return ["setup.sh", "run_autograder", wheel.name, "assignments/", "reference/"]


def build_wheel(folder: Path) -> Path:
    """The grader's wheel, built from its source checkout into ``folder``."""
    checkout = _checkout()
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder),
                            str(checkout)], capture_output=True, text=True, timeout=600)
    wheels = sorted(folder.glob("torchgrader-*.whl"))
    if built.returncode != 0 or len(wheels) != 1:
        last = (built.stderr.strip().splitlines() or ["no wheel was written"])[-1]
        raise GraderError(f"cannot build the grader's wheel from {checkout} ({last}): "
                          "check that pip can install hatchling, the build backend")
    return wheels[0]


def setup_script(wheel: str) -> str:
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
cd /autograder/source
if ! python3.11 -c "import ensurepip, venv" >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    if ! apt-get install -y python3.11 python3.11-venv; then
        apt-get install -y software-properties-common
        add-apt-repository -y ppa:deadsnakes/ppa
        apt-get update
        apt-get install -y python3.11 python3.11-venv
    fi
fi
python3.11 -m venv {VENV}
{VENV}/bin/python -m pip install --upgrade pip
# torch first, pinned and CPU-only: a plain `pip install torch` also pulls GBs of CUDA libraries
{VENV}/bin/python -m pip install {TORCH_CPU}
{VENV}/bin/python -m pip install /autograder/source/{wheel}
rm -f /autograder/source/{wheel}
{VENV}/bin/grader --version
"""


def run_autograder_script(assignment: str, ci_arguments: Sequence[str] = ()) -> str:
    extra = "".join(f" {shlex.quote(a)}" for a in ci_arguments)
    return f"""#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder.
set -uo pipefail
mkdir -p /autograder/results
# The submission is the whole folder (the entry, its helper modules, its data files): the grader
# chooses the entry as every door does, and says in results.json when it cannot.
cd /autograder
exec {VENV}/bin/grader ci {shlex.quote(assignment)} /autograder/submission --format gradescope \\
    -o /autograder/results/results.json{extra}
"""


def _run_arguments(args: argparse.Namespace) -> list[str]:
    """The run options given to ``export``, passed on to ``grader ci`` in run_autograder."""
    extra = []
    if args.timeout is not None:
        extra += ["--timeout", f"{args.timeout:g}"]
    if args.memory is not None:
        from grader.intake.assignment import parse_size

        parse_size(args.memory)  # a bad size fails now, not on Gradescope
        extra += ["--memory", args.memory]
    if args.device != "cpu":
        extra += ["--device", args.device]
    return extra


def _add_script(bundle: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = EXECUTABLE
    info.compress_type = zipfile.ZIP_DEFLATED
    bundle.writestr(info, text)


def _add_assignment(bundle: zipfile.ZipFile, assignment) -> None:
    """An assignment folder's files, and its reference where the grader looks for it."""
    for path in sorted(assignment.root.rglob("*")):
        relative = path.relative_to(assignment.root)
        if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in relative.parts):
            bundle.write(path, f"assignments/{assignment.root.name}/{relative.as_posix()}")
    bundle.write(assignment.reference, f"reference/{assignment.name}.py")


def _checkout() -> Path:
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "assignments").is_dir():
        raise GraderError("grader export builds the grader's wheel from its source checkout, and this "
                          "grader was installed without one: run it from a checkout (pip install -e .)")
    return root


def _check_writable(out: Path) -> None:
    if out.is_dir():
        raise GraderError(f"{out} is a folder: give -o the path of the zip to write")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.").close()
    except OSError as error:
        raise GraderError(f"cannot write {out}: {error.strerror}; choose another -o file") from None


