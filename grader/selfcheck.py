"""``check("custom_layer")`` inside a student's notebook: the public tests on the live objects.

The probes run here, in the student's own kernel, on the notebook's namespace (no saved file
needed). Their observations go, as data, to a separate process (``python -m grader.selfcheck``),
which runs the reference in a sandbox and judges; the result comes back as a table. The score
shown counts the public tests only: hidden tests count when the work is graded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from grader.errors import GraderError


def check(assignment: str, namespace: dict[str, Any] | None = None, device: str = "cpu") -> Any:
    """Run ``assignment``'s public tests on this notebook's objects and show the results."""
    if os.environ.get("GRADER_SANDBOX"):  # the notebook is being graded: the grader checks it
        return None
    from grader.assignment import find_assignment
    from grader.sandbox.child import run_probe
    from grader.sandbox.forkserver import load_probes
    from grader.sandbox.wire import encode_frame

    namespace = namespace if namespace is not None else _notebook_namespace()
    found = find_assignment(assignment)
    probes = load_probes([str(path) for path in found.test_files])
    with tempfile.TemporaryDirectory(prefix="grader-check-") as folder:
        frames = Path(folder) / "observations.bin"
        import torch

        with open(frames, "wb") as handle, torch.random.fork_rng(devices=[]):  # keep their RNG
            handle.write(encode_frame("load", value={"cells": 1, "errors": [], "notes": []}))
            for name, probe in sorted(probes.items()):
                handle.write(run_probe(name, probe, namespace, torch.device(device), None))
            handle.write(encode_frame("done", seconds=0.0))
        judged = subprocess.run(
            [sys.executable, "-m", "grader.selfcheck", str(found.root), str(frames), device],
            capture_output=True, text=True, timeout=600,
        )
    if judged.returncode != 0:
        raise GraderError(f"the self-check could not judge: {judged.stderr.strip()[-500:]}")
    return _show(json.loads(judged.stdout))


def _notebook_namespace() -> dict[str, Any]:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    import __main__

    return vars(__main__)


class CheckResult:
    """What ``check`` returns: shows itself as a table in Jupyter and as text elsewhere."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report
        self.score = sum(t["score"] for t in report["tests"])
        self.max_score = sum(t["max_score"] for t in report["tests"])

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(t['description'])}</td><td>{t['score']:g} / {t['max_score']:g}</td>"
            f"<td>{'✅' if t['passed'] else '❌'}</td><td><pre>{escape(t['message'])}</pre></td></tr>"
            for t in self.report["tests"]
        )
        return (f"<h4>{escape(self.report['title'])}: public tests</h4><table><tr><th>test</th>"
                f"<th>points</th><th>passed</th><th>why</th></tr>{rows}</table>"
                f"<p><b>{self.score:g} / {self.max_score:g}</b> points. Hidden tests also count "
                "towards your grade; they are run when your work is graded.</p>")

    def __repr__(self) -> str:
        lines = [f"{self.report['title']}: public tests"]
        for t in self.report["tests"]:
            mark = "passed" if t["passed"] else "FAILED"
            lines.append(f"  [{mark}] {t['description']} ({t['score']:g}/{t['max_score']:g})")
            lines += [f"      {line}" for line in t["message"].splitlines()]
        lines.append(f"{self.score:g} / {self.max_score:g} points. Hidden tests also count "
                     "towards your grade; they are run when your work is graded.")
        return "\n".join(lines)


def _show(report: dict[str, Any]) -> CheckResult:
    return CheckResult(report)


def main() -> None:
    """``python -m grader.selfcheck ASSIGNMENT_DIR OBSERVATIONS DEVICE``: judge, print JSON."""
    from grader.assignment import find_assignment
    from grader.grading import GradeOptions, judge_observed

    assignment_dir, frames, device = sys.argv[1:4]
    assignment = find_assignment(assignment_dir)
    batch = judge_observed(assignment, "notebook", Path(frames),
                           GradeOptions(jobs=1, device=device, public_only=True))
    tests = [{"description": o.description, "score": o.points if o.passed else 0.0,
              "max_score": o.points, "passed": o.passed, "message": o.message}
             for o in batch.outcomes]
    print(json.dumps({"title": assignment.title, "tests": tests}))


if __name__ == "__main__":
    main()
