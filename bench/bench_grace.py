"""What grace adds to each submission (issue 21): ``defined()`` with a ``fit`` looks for a second
definition of the asked name (a regular expression over the student's code; the code is parsed
only when the name is defined twice), and the ``~decisions`` probe runs last in every sandbox.

    .venv/bin/python bench/bench_grace.py [--n 200]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import linecache
import time
from pathlib import Path

import torch
from torch import nn

from grader import probing
from grader.sandbox.child import run_probe

SOURCE = (Path(__file__).resolve().parent.parent / "examples" / "lenet" / "alice.py").read_text()
FIT = probing.fits_module(input=torch.zeros(2, 1, 32, 32), shape=(2, 10))


def student() -> dict:
    """A fresh sandbox's state: the student's namespace, their lines cached, no decisions yet."""
    probing.reset_decisions()
    linecache.cache["alice.py"] = (len(SOURCE), None, SOURCE.splitlines(True), "alice.py")
    ns = {"__name__": "submission"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(SOURCE, "alice.py", "exec"), ns)  # noqa: S102 - a benchmark of our own code
    return ns


def microseconds(function, n: int) -> float:
    total = 0.0
    for _ in range(n):
        ns = student()
        started = time.perf_counter()
        function(ns)
        total += time.perf_counter() - started
    return 1e6 * total / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    n = parser.parse_args().n
    cpu = torch.device("cpu")
    print(f"defined(ns, 'Net') without fit (as before): "
          f"{microseconds(lambda ns: probing.defined(ns, 'Net', like=nn.Module), n):.0f} us")
    print(f"defined(ns, 'Net', fit=...), first call in a sandbox: "
          f"{microseconds(lambda ns: probing.defined(ns, 'Net', like=nn.Module, fit=FIT), n):.0f} us")
    def decisions(ns: dict) -> bytes:
        return run_probe(probing.DECISIONS_PROBE, probing.decisions_probe, ns, cpu, None)

    print(f"the ~decisions probe's frame: {microseconds(decisions, n):.0f} us")


if __name__ == "__main__":
    main()
