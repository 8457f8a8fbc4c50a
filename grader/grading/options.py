"""What a grading run may be told, in one place: the options of a batch, the limits a submission
gets (from the command line, else the assignment, else the reference's own run time), and the
command-line flags every grading verb shares (``grade``, ``check``, ``ci``, ``assign``, ``audit``,
``release``, ``export``), declared once with their help text.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from grader.errors import GraderError

TIMEOUT_FLOOR = 10.0  # seconds: the least any submission gets
TIMEOUT_FACTOR = 20.0  # times the reference's own run time


@dataclass(frozen=True)
class GradeOptions:
    jobs: int = 2
    timeout: float | None = None
    memory: int | None = None
    device: str = "cpu"
    public_only: bool = False
    regrade: bool = False  # grade everything again, even what the journal says is done
    only: frozenset[str] = frozenset()  # grade only these again; everyone else must be journaled
    executor: str = "local"  # or "dask": sandboxes run on a Dask cluster's workers
    scheduler: str | None = None  # the Dask scheduler's address
    namespaces: bool = True  # off only to test or debug the weaker fallback sandbox
    # Modules the caller needs after grading (the report's): imported while the sandbox server starts.
    background_imports: tuple[str, ...] = ()


def student_timeout(configured: float | None, reference_seconds: float) -> float:
    """A submission's time limit: the one configured (option or assignment), else a multiple of the
    reference's own run time, never under :data:`TIMEOUT_FLOOR`."""
    return configured or max(TIMEOUT_FLOOR, TIMEOUT_FACTOR * reference_seconds)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=_positive_float, default=None, metavar="SECONDS",
                        help="time limit per submission (default: from the reference's run time)")
    parser.add_argument("--memory", default=None, metavar="SIZE",
                        help="memory limit per submission, e.g. 2G or 512M (default: the assignment's)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                        help="where probes run (default: cpu; auto: cuda when a GPU is present)")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def grade_options(args: argparse.Namespace, jobs: int, public_only: bool):
    """The options of ``add_run_options``, as :class:`grader.grading.batch.GradeOptions`."""
    from grader.intake.assignment import parse_size

    return GradeOptions(
        jobs=jobs, timeout=args.timeout, public_only=public_only,
        memory=parse_size(args.memory) if args.memory else None, device=_device(args.device),
    )


def _device(choice: str) -> str:
    if choice == "cpu":
        return "cpu"
    import torch

    available = torch.cuda.is_available()
    if choice == "cuda" and not available:
        raise GraderError("--device cuda: no CUDA GPU is visible here; use --device cpu or auto")
    return "cuda" if available else "cpu"


def export_targets(verbs: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The subparsers of ``grader export`` (one per target), creating the verb on first use: each
    package that exports (``ci.gradescope``, ``course.canvas_export``) adds its target here."""
    export = verbs.choices.get("export")
    if export is None:
        export = verbs.add_parser("export", help="export an assignment's grader for another platform",
                                  description="Export an assignment's grader for another platform.")
        export.targets = export.add_subparsers(title="targets", metavar="TARGET")
        export.set_defaults(command=lambda args: _no_target(export))
    return export.targets


def _no_target(export: argparse.ArgumentParser) -> int:
    import sys

    export.print_help(sys.stderr)
    return 2
