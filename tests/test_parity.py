"""One class, graded through every door, gets the same per-test outcomes everywhere.

The class (a course folder made here, as `grader assign` would leave it: ``assignments/par`` and
``reference/par.py``; nothing needs torchvision):

- ann: a correct notebook (on Canvas: uploaded twice, the latest is graded);
- ben: a script whose ``shift`` is wrong;
- cat: a folder: a notebook importing its helper module ``helpers.py``, which reads the
  student's own data file ``offset.txt``: dropping the helper costs two tests, the data file one;
- dan: in the roster, handed nothing in (missing);
- eve: a notebook whose ``norm`` is wrong, handed in after the deadline (late).

The doors: ``grader grade`` from the course folder; Dask on a LocalCluster and on a real
``dask scheduler`` + ``dask worker`` started here on 127.0.0.1, the worker in a private mount
namespace where the course folder is an empty tmpfs (root only); a Canvas zip with several uploads
per student; Gradescope's ``run_autograder`` with ``/autograder`` rewritten to a scratch folder;
``grader ci`` in each format; ``grader check`` from a release, in the sandbox and in the plain
fallback (public tests). The same time limit everywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from grader.ci import runner as ci_runner
from grader.ci.gradescope import VENV, _add_assignment, run_autograder_script
from grader.cli import commands
from grader.grading.options import GradeOptions
from grader.intake.assignment import load_assignment

TIMEOUT = 20.0  # seconds, every door
DEADLINE = datetime(2025, 3, 14, 23, 59, tzinfo=UTC)
ON_TIME, LATE_TIME = datetime(2025, 3, 14, 12, 0, tzinfo=UTC), datetime(2025, 3, 16, 9, 0, tzinfo=UTC)

TOML = f"""name = "par"
title = "Parity: three small functions"
version = "1"
reference = "../../reference/par.py"

[limits]
timeout = {TIMEOUT:g}

[late]
deadline = "{DEADLINE.isoformat()}"
per_day = 10
"""

TESTS = '''"""Three functions, one point each: double is public, norm is public, shift is hidden."""

import torch

from grader.api import assert_close, defined, hidden, points, probe

X = torch.tensor([1.0, -2.0, 4.0])


@probe
def doubled(ns, device):
    return defined(ns, "double")(X.to(device))


@probe
def shifted(ns, device):
    return defined(ns, "shift")(X.to(device))


@probe
def normed(ns, device):
    return defined(ns, "norm")(X.to(device))


@points(1)
def test_double(observe):
    """double(x) is 2 x"""
    got, want = observe(doubled)
    assert_close(got, want, what="double(x)")


@hidden
@points(1)
def test_shift(observe):
    """shift(x) is x + 3"""
    got, want = observe(shifted)
    assert_close(got, want, what="shift(x)")


@points(1)
def test_norm(observe):
    """norm(x) is x divided by its norm"""
    got, want = observe(normed)
    assert_close(got, want, what="norm(x)")
'''

REFERENCE = """import torch


def double(x):
    return 2 * x


def shift(x):
    return x + 3


def norm(x):
    return x / x.norm()
"""

DOUBLE = "def double(x):\n    return 2 * x\n"
SHIFT = "def shift(x):\n    return x + 3\n"
NORM = "def norm(x):\n    return x / x.norm()\n"
HELPERS = ("from pathlib import Path\n\n\ndef double(x):\n    return 2 * x\n\n\n"
           "def shift(x):\n    return x + float(Path('offset.txt').read_text())\n")


def notebook(*cells: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None,
                                  "outputs": [], "source": cell} for cell in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


ANN = notebook("import torch", DOUBLE, SHIFT, NORM)
ANN_FIRST = notebook("import torch", "def double(x):\n    return x\n")  # Canvas: an earlier upload
BEN = "import torch\n\n" + DOUBLE + "\n\ndef shift(x):\n    return x + 2\n\n\n" + NORM
CAT = notebook("import torch\nfrom helpers import double, shift", NORM)
EVE = notebook("import torch", DOUBLE, SHIFT, "def norm(x):\n    return x / x.sum()\n")

# What every door must give: True is passed. dan is missing (doors with a roster only).
EXPECTED = {
    "ann": {"test_double": True, "test_shift": True, "test_norm": True},
    "ben": {"test_double": True, "test_shift": False, "test_norm": True},
    "cat": {"test_double": True, "test_shift": True, "test_norm": True},
    "eve": {"test_double": True, "test_shift": True, "test_norm": False},
}
PUBLIC = ("test_double", "test_norm")
ROSTER = ("student,lms_id,name,submitted_at\n"
          f"ann,101,\"A, Ann\",{ON_TIME.isoformat()}\nben,102,\"B, Ben\",{ON_TIME.isoformat()}\n"
          f"cat,103,\"C, Cat\",{ON_TIME.isoformat()}\ndan,104,\"D, Dan\",\n"
          f"eve,105,\"E, Eve\",{LATE_TIME.isoformat()}\n")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course folder, the class's folder, its roster and its Canvas zip."""
    root = tmp_path_factory.mktemp("course")
    assignment = root / "assignments" / "par"
    assignment.mkdir(parents=True)
    (assignment / "assignment.toml").write_text(TOML)
    (assignment / "test_par.py").write_text(TESTS)
    (root / "reference").mkdir()
    (root / "reference" / "par.py").write_text(REFERENCE)
    students = root / "students"
    students.mkdir()
    (students / "ann.ipynb").write_text(ANN)
    (students / "ben.py").write_text(BEN)
    (students / "cat").mkdir()
    (students / "cat" / "work.ipynb").write_text(CAT)
    (students / "cat" / "helpers.py").write_text(HELPERS)
    (students / "cat" / "offset.txt").write_text("3\n")
    (students / "eve.ipynb").write_text(EVE)
    (root / "roster.csv").write_text(ROSTER)
    canvas = root / "canvas.zip"
    uploads = [("anna_101_5001_work.ipynb", ANN_FIRST, ON_TIME), ("anna_101_5007_work-1.ipynb", ANN, ON_TIME),
               ("benb_102_5002_ben.py", BEN, ON_TIME), ("benb_102_5003_notes.pdf", "%PDF-1.4", ON_TIME),
               ("catc_103_5004_work.ipynb", CAT, ON_TIME), ("catc_103_5005_helpers.py", HELPERS, ON_TIME),
               ("catc_103_5006_offset.txt", "3\n", ON_TIME),
               ("evee_late_105_5008_hw.ipynb", EVE, LATE_TIME)]
    with zipfile.ZipFile(canvas, "w") as archive:
        for name, text, when in uploads:
            info = zipfile.ZipInfo(name, when.timetuple()[:6])
            info.extra = struct.pack("<HHBi", 0x5455, 5, 1, int(when.timestamp()))
            archive.writestr(info, text)
    return root


def outcomes_of_results(results: pd.DataFrame) -> dict[str, dict[str, bool]]:
    found: dict[str, dict[str, bool]] = {}
    for row in results.itertuples():
        if row.test.startswith("test_"):
            found.setdefault(row.student, {})[row.test] = row.status == "passed"
    return found


def grade_door(course: Path, source: str, out: Path, **options) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    """``grader grade par SOURCE -o OUT --roster roster.csv`` from the course folder."""
    cwd = os.getcwd()
    os.chdir(course)
    try:
        status = commands.grade("par", Path(source), out,
                                GradeOptions(jobs=2, timeout=TIMEOUT, **options),
                                roster=course / "roster.csv", feedback=False)
    finally:
        os.chdir(cwd)
    return status, pd.read_csv(out / "scores.csv", keep_default_na=False), \
        pd.read_csv(out / "results.csv", keep_default_na=False)


def assert_same_class(status: int, scores: pd.DataFrame, results: pd.DataFrame) -> None:
    """The class's grade, as a door with a roster and a late policy gives it."""
    assert status == 0
    got = outcomes_of_results(results)
    assert {s: got.get(s) for s in EXPECTED} == EXPECTED
    rows = scores.set_index("student")
    assert rows.loc["dan"].status == "missing" and not any(got["dan"].values())
    late = results[results.test == "late"]
    assert list(late.student) == ["eve"]  # late by two days: 20% of 2 points
    assert rows.loc["eve"].score == pytest.approx(1.6)
    assert rows.loc["cat"].score == 3


@pytest.fixture(scope="module")
def local(course, tmp_path_factory):
    return grade_door(course, "students", tmp_path_factory.mktemp("local") / "out")


def test_local(local):
    assert_same_class(*local)
    status, scores, _ = local
    assert set(scores.set_index("student").file.drop("dan")) == {
        "ann.ipynb", "ben.py", "cat/work.ipynb", "eve.ipynb"}


def test_canvas_zip_with_several_uploads_per_student(course, local, tmp_path):
    out = tmp_path / "out"
    status, scores, results = grade_door(course, "canvas.zip", out)
    assert_same_class(status, scores, results)
    rows = scores.set_index("student")
    assert rows.loc["ann"].file == "work.ipynb" and rows.loc["cat"].file == "work.ipynb"
    assert stat_mode(out / ".grader" / "submissions") == 0o700
    kept = sorted(p.name for p in (out / ".grader" / "submissions").glob("cat-*/*"))
    assert kept == ["helpers.py", "offset.txt", "work.ipynb"]  # after the zip's folder is gone
    from grader.course.similarity import write_similarity

    assert write_similarity(out, None).students == 4  # read from the copies: scores.csv names no path


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


distributed = pytest.importorskip("distributed")


def test_dask_local_cluster(course, tmp_path):
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        graded = grade_door(course, "students", tmp_path / "out", executor="dask",
                            scheduler=cluster.scheduler_address)
    assert_same_class(*graded)
    header = json.loads((tmp_path / "out" / "run.json").read_text())
    assert header["environment"]["executor"] == "dask"
    assert [w["grader"] for w in header["environment"]["workers"].values()] == [header["grader_version"]]


def test_dask_worker_that_cannot_see_the_course_folder(course, tmp_path):
    """A real scheduler and worker on loopback; the worker's view of the course folder is an empty
    tmpfs (its own mount namespace: nothing is mounted for the rest of the machine)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to hide the course folder from the worker")
    bin_dir = Path(sys.executable).parent
    scheduler_file = tmp_path / "scheduler.json"
    logs = tmp_path / "logs"
    logs.mkdir()
    scheduler = subprocess.Popen(
        [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        stdout=subprocess.DEVNULL, stderr=open(logs / "scheduler.log", "w"), start_new_session=True)
    worker = None
    try:
        for _ in range(300):
            if scheduler_file.exists() and scheduler_file.stat().st_size:
                break
            time.sleep(0.1)
        hide = (f"mount -t tmpfs -o size=1m grader-parity {course} && "
                f"exec {bin_dir / 'dask'} worker --scheduler-file {scheduler_file} --nthreads 2 "
                "--nworkers 1 --host 127.0.0.1 --no-dashboard")
        worker = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", hide],
                                  cwd="/", stdout=subprocess.DEVNULL,
                                  stderr=open(logs / "worker.log", "w"), start_new_session=True)
        address = json.loads(scheduler_file.read_text())["address"]
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
            seen = client.run(os.listdir, str(course))
        assert list(seen.values()) == [[]], "the worker sees the course folder"
        assert (course / "assignments").is_dir()  # the mount is the worker's alone
        assert_same_class(*grade_door(course, "students", tmp_path / "out", executor="dask",
                                      scheduler=address))
    finally:
        for process in (worker, scheduler):
            if process is not None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


# --- the one-submission doors: CI, Gradescope, check --------------------------------------------


SUBMITTED = {"ann": "ann.ipynb", "ben": "ben.py", "cat": "cat", "eve": "eve.ipynb"}


def ci_outcomes(fmt: str, target: Path) -> dict[str, bool]:
    if fmt == "gradescope":
        return {t["extra_data"]["test"]: t["score"] == t["max_score"]
                for t in json.loads(target.read_text())["tests"]}
    if fmt == "classroom50":
        return {t["test"]: t["passed"] for t in json.loads(target.read_text())["tests"]}
    if fmt == "junit":
        return {case.get("name"): case.find("failure") is None
                for case in ET.parse(target).getroot().iter("testcase")}
    rows = [line.split("|") for line in target.read_text().splitlines() if line.startswith("| ")]
    by_description = {"double(x) is 2 x": "test_double", "shift(x) is x + 3 *(hidden)*": "test_shift",
                      "norm(x) is x divided by its norm": "test_norm"}
    return {by_description[r[1].strip()]: "✅" in r[3] for r in rows if r[1].strip() in by_description}


def test_grader_ci_in_each_format(course, tmp_path, monkeypatch):
    """Each student through ``grader ci`` (the formats in turn), and the result it wrote written
    again in every other format: every format gives every student the class's outcomes."""
    written: list[ci_runner.SubmissionResult] = []
    write = ci_runner.write
    monkeypatch.setattr(ci_runner, "write", lambda result, fmt, target: (
        written.append(result), write(result, fmt, target)))
    for turn, (student, name) in enumerate(SUBMITTED.items()):
        fmt = ci_runner.FORMATS[turn % len(ci_runner.FORMATS)]
        target = tmp_path / f"{student}.{fmt}"
        status = ci_runner.ci(str(course / "assignments" / "par"), course / "students" / name, fmt,
                              target, None, GradeOptions(jobs=1, timeout=TIMEOUT))
        assert status == 0
        assert ci_outcomes(fmt, target) == EXPECTED[student], (student, target.read_text()[:2000])
        for other in ci_runner.FORMATS:
            again = tmp_path / f"{student}.again.{other}"
            write(written[-1], other, again)
            assert ci_outcomes(other, again) == EXPECTED[student], (student, other)


def test_gradescope_run_autograder(course, tmp_path):
    """The bundle's run_autograder, its /autograder paths rewritten to a scratch folder: each
    submission folder is handed over as Gradescope does (cat's helper and data file included)."""
    scratch = tmp_path / "autograder"
    source = scratch / "source"
    source.mkdir(parents=True)
    bundle = tmp_path / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        _add_assignment(archive, load_assignment(course / "assignments" / "par"))
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
    os.symlink(Path(sys.prefix), scratch / "venv")
    assert VENV == "/autograder/venv"
    script = run_autograder_script("/autograder/source/assignments/par", ["--timeout", f"{TIMEOUT:g}"])
    script = script.replace("/autograder", str(scratch))
    assert "/autograder/" not in script.replace(str(scratch), "")
    (scratch / "run_autograder").write_text(script)
    for student, name in SUBMITTED.items():
        submission = scratch / "submission"
        shutil.rmtree(submission, ignore_errors=True)
        shutil.rmtree(scratch / "results", ignore_errors=True)
        given = course / "students" / name
        if given.is_dir():
            shutil.copytree(given, submission)
        else:
            submission.mkdir()
            shutil.copy(given, submission / name)
        done = subprocess.run(["bash", str(scratch / "run_autograder")], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        target = scratch / "results" / "results.json"
        assert ci_outcomes("gradescope", target) == EXPECTED[student], (student, target.read_text()[:2000])
        assert json.loads(target.read_text())["extra_data"]["environment"]["torch"]


@pytest.fixture(scope="module")
def release(course, tmp_path_factory):
    from grader.authoring.release import load_release, make_release

    folder = tmp_path_factory.mktemp("release") / "par"
    make_release(str(course / "assignments" / "par"), folder)
    return load_release(folder)


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "plain"])
def test_grader_check_from_the_release(course, release, sandbox, monkeypatch):
    from grader.selfcheck import platforms
    from grader.selfcheck import runner as selfcheck

    if not sandbox:
        monkeypatch.setattr(platforms, "sandbox_unavailable", lambda: "the plain fallback (test)")
    for student, name in SUBMITTED.items():
        run, report, notes = selfcheck.check_file(release, course / "students" / name,
                                                  GradeOptions(jobs=1, timeout=TIMEOUT))
        assert bool(notes) is not sandbox and report["environment"]["torch"]
        got = {t["test"]: t["passed"] for t in report["tests"]}
        assert got == {t: EXPECTED[student][t] for t in PUBLIC}, (student, run.message, report)
