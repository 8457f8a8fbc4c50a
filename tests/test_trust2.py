"""Trust, round two (issue 20): each attack of the second round, graded for real, and the
protection that stops it. Every test here fails when its protection is removed.

- vsock and every socket family but unix, IP and netlink route: refused by the seccomp filter;
- no earlier student's bytes in a sandbox's memory (it scans /proc/self/mem), locally and on a
  Dask worker's server across batches; temporary folders removed, stale ones swept;
- a judge no student can flood: frames under made-up probe names refused before decoding;
- a similarity check no file can break (nested JSON, a huge file, helper modules compared);
- memory parked in kernel buffers without a cgroup: socket and pipe buffers stay small.

CI runs this file as root and as an ordinary user (``.ci/run``).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from conftest import EXAMPLES, ROOT
from grader.grading import batch as grading
from grader.grading import workdirs
from grader.intake import submissions
from grader.intake.assignment import find_assignment
from grader.sandbox import seccomp
from grader.sandbox.pool import measure_sandbox

TRUST2 = ROOT / "tests" / "data" / "trust2"
ALICE = EXAMPLES / "custom_layer" / "alice.py"


@pytest.fixture(scope="module")
def hello():
    measured = measure_sandbox()
    if not measured.namespaces:
        pytest.skip("no sandbox namespaces here: the attacks would act on this machine")
    return measured


def grade_in_order(folder: Path, **options):
    """One warm server (``-j 1``): the students run one after another, in name order."""
    return grading.grade(find_assignment("custom_layer"), submissions.discover(folder),
                         grading.GradeOptions(jobs=1, **options))


def output_of(batch, student: str) -> str:
    return next(run.output for run in batch.runs if run.submission.student == student)


# --- 1. socket families ------------------------------------------------------------------------


def test_the_filter_refuses_vsock_and_keeps_the_families_students_need():
    """In a child that loads the filter: vsock (only created, never bound or connected), packet,
    bluetooth, a netlink protocol other than route and a family number past AF_MAX are EPERM;
    unix, IPv4, IPv6 and netlink route sockets are created."""
    if not seccomp.available():
        pytest.skip("pyseccomp is not installed")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            seccomp.build_filter().load()
            answers = {}
            tried = {"vsock": (40, socket.SOCK_STREAM, 0), "packet": (17, socket.SOCK_RAW, 0),
                     "bluetooth": (31, socket.SOCK_STREAM, 0), "netlink_audit": (16, socket.SOCK_RAW, 9),
                     "far": (200, socket.SOCK_STREAM, 0), "unix": (1, socket.SOCK_STREAM, 0),
                     "inet": (2, socket.SOCK_STREAM, 0), "inet6": (10, socket.SOCK_DGRAM, 0),
                     "netlink_route": (16, socket.SOCK_RAW, 0)}
            for label, args in tried.items():
                try:
                    socket.socket(*args).close()
                    answers[label] = "created"
                except OSError as error:
                    answers[label] = errno.errorcode.get(error.errno, str(error.errno))
            os.write(write, json.dumps(answers).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    answers = json.loads(os.read(read, 4096))
    os.close(read)
    for refused in ("vsock", "packet", "bluetooth", "netlink_audit", "far"):
        assert answers[refused] == "EPERM", answers
    for kept in ("unix", "inet", "inet6", "netlink_route"):
        assert answers[kept] == "created", answers


def test_the_self_test_measures_vsock_refused_and_doctor_shows_it(hello):
    """EPERM from the filter, not EAFNOSUPPORT from a kernel without vsock."""
    from grader.cli import doctor

    assert hello.protections["socket_families"], hello.details["socket_families"]
    assert "vsock: EPERM" in hello.details["socket_families"]
    assert "socket_families" in doctor.LABELS


# --- 2. no student's bytes in another's sandbox ------------------------------------------------


@pytest.fixture(scope="module")
def scanned(hello, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scan")
    for name in ("a_prints_marker.py", "b_scans_memory.py"):
        shutil.copy(TRUST2 / name, folder / name)
    return grade_in_order(folder, timeout=30, memory=1024**3)


def test_a_sandbox_finds_no_earlier_students_output_or_source_in_its_memory(scanned):
    output = output_of(scanned, "b_scans_memory")
    found = re.search(r"SCAN scanned: (\d+) MB", output)
    assert found and int(found[1]) > 10, output  # it did read its memory (torch's heap and more)
    assert "SCAN found: []" in output, output
    assert "OUTMARK:" in output_of(scanned, "a_prints_marker")  # the marker was printed, and kept


def test_a_dask_workers_server_holds_no_earlier_batchs_student(hello, tmp_path):
    """Two separate tasks on one worker's warm server (as two grading runs would send): the second
    finds nothing of the first; each task's folder is gone when it ends, the worker's at exit."""
    from grader.grading import dask_executor
    from grader.intake.assignment import find_assignment

    bundle = dask_executor.assignment_bundle(find_assignment("custom_layer"), dask_executor.versions())

    def task(name: str) -> str:
        response, _ = dask_executor.sandbox_task(bundle, name, "py", (TRUST2 / name).read_bytes(),
                                                 30.0, 1024**3, "cpu")
        return response.output

    try:
        assert "OUTMARK:" in task("a_prints_marker.py")
        assert "SCAN found: []" in task("b_scans_memory.py")
        assert not _mine("grader-task-")
        assert _mine("grader-worker-")
    finally:
        dask_executor._close_pools()
    assert not _mine("grader-worker-")


def _mine(prefix: str) -> list[str]:
    import tempfile

    return [n for n in os.listdir(tempfile.gettempdir()) if n.startswith(f"{prefix}{os.getpid()}-")]


def test_a_batch_removes_its_folder_and_sweeps_only_dead_owners_folders(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"grader-batch-{dead.pid}-abcd"
    live = tmp_path / f"grader-task-{os.getpid()}-abcd"
    other = tmp_path / "grader-worker-notapid"
    for folder in (stale, live, other):
        folder.mkdir()
        (folder / "observations.bin").write_bytes(b"a student's results")
    assert workdirs.remove_stale(str(tmp_path)) == [stale.name]
    assert not stale.exists() and live.exists() and other.exists()


def test_a_graded_batch_leaves_no_folder_behind(scanned):
    assert not _mine("grader-batch-")


# --- 3. a judge no student can flood -----------------------------------------------------------

MEASURE = """
import resource, sys
from grader.cli import main as cli
try:
    cli.main(sys.argv[2:])
except SystemExit as exit:
    code = exit.code
finally:
    open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def grade_measured(folder: Path, out: Path) -> int:
    """``grader grade`` in a fresh process; the judge's peak RSS in KB (not the sandboxes')."""
    rss = out.with_suffix(".rss")
    result = subprocess.run([sys.executable, "-c", MEASURE, str(rss), "grade", "custom_layer", str(folder),
                             "-o", str(out), "--timeout", "20", "--no-feedback"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return int(rss.read_text())


def test_a_flood_of_made_up_probe_frames_costs_the_judge_nothing(hello, tmp_path):
    honest, flooded = tmp_path / "honest", tmp_path / "flooded"
    for folder in (honest, flooded):
        folder.mkdir()
        shutil.copy(ALICE, folder / "alice.py")
    shutil.copy(TRUST2 / "floods_judge.py", flooded)
    baseline = grade_measured(honest, tmp_path / "out-honest")
    peak = grade_measured(flooded, tmp_path / "out")
    scores = pd.read_csv(tmp_path / "out" / "scores.csv").set_index("student")
    assert scores.loc["alice", "score"] == 10
    assert scores.loc["floods_judge", "status"] == "error"
    assert "forged" in scores.loc["floods_judge", "message"]
    assert peak - baseline < 100 * 1024, (baseline, peak)  # KB: within 100 MB of an honest run


def test_frames_are_bounded_and_named_before_any_is_decoded(tmp_path, monkeypatch):
    """A well-formed result file with one probe the assignment does not have is forged, and not
    one frame of it is decoded."""
    import torch

    from grader.grading import runs
    from grader.sandbox import wire

    path = tmp_path / "r.obs"
    path.write_bytes(wire.encode_frame("load", value={"cells": 1, "errors": [], "notes": []})
                     + wire.encode_frame("probe", "known", torch.ones(2))
                     + wire.encode_frame("probe", "made_up", [1.0] * 10)
                     + wire.encode_frame("done", seconds=0.1))
    decoded = []
    monkeypatch.setattr(runs, "read_frame", lambda *a: decoded.append(a) or wire.read_frame(*a))
    run = runs.Run(submissions.Submission("s", path), result_path=path, probes=frozenset({"known"}))
    assert runs.frames_of(run) == [] and "forged" in run.tampered and decoded == []
    run = runs.Run(submissions.Submission("s", path), result_path=path,
                   probes=frozenset({"known", "made_up"}))
    assert [f.kind for f in runs.frames_of(run, ("probe",))] == ["probe", "probe"]
    assert len(decoded) == 2  # only the frames asked for


# --- 4. a similarity check no file can break ---------------------------------------------------

COPIED = ("def helper(tensor):\n    shape = tensor.shape\n    flat = tensor.reshape(-1)\n    "
          "return flat.sum() / max(1, len(flat)), shape, 'copied from a friend'\n" * 3)
OWN = "class Accumulator:\n    def add(self, value):\n        return float(value) * 0.5 + 3\n"


def test_similarity_survives_any_file_and_compares_helper_modules(tmp_path):
    from grader.course.similarity import MAX_CODE_BYTES, write_similarity

    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    out.mkdir()
    rows = []
    for student, helper in (("ann", COPIED), ("ben", COPIED.replace("flat", "flat_"))):
        folder = subs / student
        folder.mkdir()
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(OWN + f"# {student}\n")]),
                       folder / "main.ipynb")
        (folder / "helpers.py").write_text(helper)
        rows.append({"student": student, "file": str(folder / "main.ipynb")})
    (subs / "nested.ipynb").write_text("[" * 50_000 + "]" * 50_000)
    (subs / "huge.py").write_text("x = 1  # padding\n" * (2 * MAX_CODE_BYTES // 17))
    (subs / "broken.ipynb").write_bytes(b"\xff\xfe not json")
    for student in ("nested", "huge", "broken"):
        rows.append({"student": student, "file": str(next(subs.glob(f"{student}.*")))})
    pd.DataFrame(rows).to_csv(out / "scores.csv", index=False)
    write_similarity(out, None)
    table = pd.read_csv(out / "similarity.csv", keep_default_na=False)
    pairs = table[table.student_b != ""]
    flagged = {(r.student_a, r.student_b) for r in pairs.itertuples() if r.flagged}
    assert flagged == {("ann", "ben")}  # the copy is in a helper module, not the entry
    notes = dict(zip(table.student_a[table.student_b == ""], table.note[table.student_b == ""], strict=True))
    assert "nested too deeply" in notes["nested"]
    assert "cut at" in notes["huge"]
    assert "cannot be read" in notes["broken"]


# --- 5. memory without a cgroup ----------------------------------------------------------------


def test_kernel_buffers_a_sandbox_can_park_stay_small(hello, tmp_path):
    """Unix socket buffers raised with SO_SNDBUF and pipes enlarged with F_SETPIPE_SZ: refused, and
    with at most 256 open files one process parks tens of MB, not the 1 GB of the first round
    (each part of the attack stops at 128 MB)."""
    shutil.copy(TRUST2 / "c_parks_memory.py", tmp_path)
    batch = grade_in_order(tmp_path, timeout=30, memory=256 * 1024**2)
    output = output_of(batch, "c_parks_memory")
    parked = dict(re.findall(r"^PARK (\w+): (\d+)", output, re.MULTILINE))
    assert set(parked) == {"unix", "pipes"}, output
    assert "SO_SNDBUF EPERM" in output and "F_SETPIPE_SZ EPERM" in output, output
    assert int(parked["unix"]) < 64 << 20, output
    assert int(parked["pipes"]) < 32 << 20, output


def test_without_a_cgroup_a_sandbox_has_few_tasks(hello, tmp_path):
    """Processes multiply every per-process bound: without a cgroup's task count, the sandbox's
    own user namespace counts them (``RLIMIT_NPROC``, 32); with one, the cgroup does (128)."""
    from grader.sandbox.isolation import PROCESSES_WITHOUT_CGROUP

    shutil.copy(TRUST2 / "e_starts_many_tasks.py", tmp_path)
    batch = grade_in_order(tmp_path, timeout=30, memory=256 * 1024**2)
    output = output_of(batch, "e_starts_many_tasks")
    started = re.search(r"TASKS started: (\d+)", output)
    assert started, output
    limit = 128 if hello.protections.get("cgroup") else PROCESSES_WITHOUT_CGROUP
    assert int(started[1]) < limit, output


@pytest.mark.parametrize("total", [0, 100, 16 * 1024 + 5, 3 * 1024 * 1024 + 12345])
def test_printed_output_is_spliced_into_files_and_read_back_as_head_and_tail(tmp_path, total):
    """What the server no longer reads: the judge gets the same head and tail as before."""
    import threading

    from grader.sandbox.protocol import OUTPUT_KEEP, SandboxEnded, output_of
    from grader.sandbox.supervise import PrintedOutput

    data = bytes(33 + (i * 7 + i // 251) % 94 for i in range(total))
    read, write = os.pipe()

    def writer():
        for start in range(0, len(data), 1 << 16):
            os.write(write, data[start:start + (1 << 16)])
        os.close(write)

    thread = threading.Thread(target=writer)
    thread.start()
    printed = PrintedOutput(str(tmp_path / "r"))
    while printed.move(read):
        pass
    thread.join()
    os.close(read)
    text = output_of(SandboxEnded(output_files=printed.close(), output_total=printed.total))
    if total <= OUTPUT_KEEP:
        assert text == data.decode()
    else:
        tail = data[OUTPUT_KEEP:][-OUTPUT_KEEP:]
        skipped = total - OUTPUT_KEEP - len(tail)
        assert text == (data[:OUTPUT_KEEP].decode() + f"\n[... {skipped} bytes of output skipped ...]\n"
                        + tail.decode())
    assert os.listdir(tmp_path) == []  # the judge removed the files it read
