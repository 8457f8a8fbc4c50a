"""Measuring one command: wall clock, load, and peak memory three ways (largest process, summed RSS
and summed PSS of its process tree)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Measure:
    seconds: float
    rss_largest: float | None = None   # MB: the largest single process (/usr/bin/time -v)
    rss_tree: float | None = None      # MB: the tree's summed RSS (shared pages counted in every process)
    pss_tree: float | None = None      # MB: the tree's summed PSS (shared pages split: memory really used)
    load: tuple[float, float] = (0.0, 0.0)
    notes: list[str] = field(default_factory=list)


def measure(command: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> Measure:
    """Run ``command`` to completion; wall-clock seconds and peak memory of its process tree."""
    timefile = log.with_suffix(".time")
    wrapped = (["/usr/bin/time", "-v", "-o", str(timefile)] if Path("/usr/bin/time").exists() else []) + command
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen(wrapped, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        rss_tree, pss_tree = _sample_tree(process)
    seconds = time.perf_counter() - started
    result = Measure(seconds, rss_tree=rss_tree, pss_tree=pss_tree, load=(load_before, os.getloadavg()[0]))
    if process.returncode:
        result.notes.append(f"exit status {process.returncode}, see {log}")
    if timefile.exists():
        for line in timefile.read_text().splitlines():
            if "Maximum resident set size" in line:
                result.rss_largest = int(line.split(":")[1]) / 1024
    return result


def _sample_tree(process: subprocess.Popen) -> tuple[float | None, float | None]:
    """Wait for ``process``; the peaks of its tree's summed RSS (sampled every 0.1 s) and summed PSS
    (every 1 s: reading it costs milliseconds per process), in MB. (None, None) without psutil."""
    try:
        import psutil
    except ImportError:
        process.wait()
        return None, None
    peaks = {"rss": 0, "pss": 0}
    stop = threading.Event()

    def sample() -> None:
        root, ticks = psutil.Process(process.pid), 0
        while not stop.wait(0.1):
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            ticks += 1
            for kind, read in (("rss", lambda p: p.memory_info().rss),
                               ("pss", lambda p: p.memory_full_info().pss)):
                if kind == "pss" and ticks % 10:
                    continue
                total = 0
                for proc in tree:
                    try:
                        total += read(proc)
                    except psutil.Error:
                        pass
                peaks[kind] = max(peaks[kind], total)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process.wait()
    stop.set()
    sampler.join()
    return peaks["rss"] / 2**20, (peaks["pss"] / 2**20 or None)
