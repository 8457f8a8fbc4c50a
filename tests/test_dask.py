"""Grading on a Dask cluster gives exactly the local results, and loses nothing when a worker dies.

The cluster is a distributed.LocalCluster on loopback with two worker processes."""

import os
import shutil
import signal

import pytest

from conftest import EXAMPLES, grade_folder
from grader import report
from grader.grading import batch as grading
from grader.intake import submissions
from grader.intake.assignment import find_assignment

distributed = pytest.importorskip("distributed")

STUDENTS = ("alice.py", "bob.ipynb", "dave.py", "grace.py", "ivan.ipynb", "niaj.py", "rupert.py")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    for name in STUDENTS:
        (folder / name).write_bytes((EXAMPLES / "custom_layer" / name).read_bytes())
    # a folder submission: a notebook importing its helper modules, which travel to the worker too
    shutil.copytree(EXAMPLES / "realistic_custom_layer" / "helper_modules", folder / "helper_modules")
    return folder


def test_dask_grading_equals_local_grading(cluster, small_class):
    local = grade_folder("custom_layer", small_class, timeout=6)
    remote = grade_folder("custom_layer", small_class, timeout=6, executor="dask",
                          scheduler=cluster.scheduler_address)
    columns = ["score", "max_score", "status", "message"]
    assert remote.scores[columns].equals(local.scores[columns])
    assert remote.results.equals(local.results)
    assert remote.scores.loc["helper_modules"].score == 10


def test_a_worker_killed_mid_batch_loses_no_submission(cluster, tmp_path):
    for index in range(8):
        source = (EXAMPLES / "custom_layer" / ("alice.py" if index % 2 else "rupert.py")).read_text()
        (tmp_path / f"s{index}.py").write_text(source + "\nimport time\ntime.sleep(1)\n")
    client = distributed.Client(cluster.scheduler_address)
    victim = next(iter(client.run(os.getpid).values()))
    client.close()
    killed = []

    def kill_a_worker_after_the_first_result(run):
        if not killed:
            killed.append(run.submission.student)
            os.kill(victim, signal.SIGKILL)

    batch = grading.grade(find_assignment("custom_layer"), submissions.discover(tmp_path),
                          grading.GradeOptions(timeout=20, executor="dask",
                                               scheduler=cluster.scheduler_address),
                          on_progress=kill_a_worker_after_the_first_result)
    scores = report.scores_table(batch, report.results_table(batch)).set_index("student")
    assert killed
    assert sorted(scores.index) == [f"s{i}" for i in range(8)]
    assert scores.score.to_dict() == {f"s{i}": (10.0 if i % 2 else 6.0) for i in range(8)}
    assert (scores.status == "graded").all()


# --- the assignment travels; versions are checked; the cluster's failures are not the student's ---

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from grader.cli import commands  # noqa: E402
from grader.errors import GraderError  # noqa: E402
from grader.grading import dask_executor  # noqa: E402
from grader.intake.assignment import load_assignment  # noqa: E402


def test_the_assignment_travels_as_bytes_without_its_reference(tmp_path):
    folder = tmp_path / "mine"
    shutil.copytree(find_assignment("custom_layer").root, folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "reference.py").write_text((Path(__file__).parent.parent / "reference" /
                                          "custom_layer.py").read_text())
    toml = (folder / "assignment.toml").read_text().replace(
        'reference = "../../reference/custom_layer.py"', 'reference = "reference.py"')
    (folder / "assignment.toml").write_text(toml)
    (folder / "data").mkdir()
    (folder / "data" / "table.csv").write_text("a,b\n1,2\n")
    assignment = load_assignment(folder)
    bundle = dask_executor.assignment_bundle(assignment)
    assert sorted(bundle["files"]) == ["assignment.toml", "data/table.csv", "test_custom_layer.py"]
    assert bundle["fingerprint"] == assignment.fingerprint
    assert bundle["versions"] == dask_executor.versions()
    on_worker = dask_executor._worker_assignment(bundle)  # what a worker makes of it
    assert on_worker.root != assignment.root and not on_worker.reference.exists()
    assert [p.name for p in on_worker.test_files] == ["test_custom_layer.py"]
    assert (on_worker.data / "table.csv").read_text() == "a,b\n1,2\n"


@pytest.fixture(scope="module")
def threads_cluster():
    """A cluster whose worker runs in this process (so a test can change what it runs)."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as local:
        yield local


def test_a_worker_with_another_torch_is_refused_in_one_line(threads_cluster, monkeypatch, tmp_path):
    (tmp_path / "ann.py").write_text((EXAMPLES / "custom_layer" / "alice.py").read_text())
    monkeypatch.setattr(dask_executor, "worker_environment",
                        lambda: {"grader": dask_executor.versions()["grader"], "torch": "1.0.0"})
    with pytest.raises(GraderError, match=r"^the Dask worker \S+ has torch 1.0.0, this machine "
                       r"\S+: install the same versions there"):
        grading.grade(find_assignment("custom_layer"), submissions.discover(tmp_path),
                      grading.GradeOptions(timeout=20, executor="dask",
                                           scheduler=threads_cluster.scheduler_address))


def test_what_the_cluster_cannot_run_gets_no_row_and_a_rerun_grades_only_that(threads_cluster,
                                                                            monkeypatch, tmp_path):
    students = tmp_path / "class"
    students.mkdir()
    for name in ("ann", "ben", "cat"):
        (students / f"{name}.py").write_text((EXAMPLES / "custom_layer" / "alice.py").read_text())
    real = dask_executor.sandbox_task

    def worker_cannot_run_ben(bundle, file_name, *args):
        if file_name == "ben.py":
            raise OSError("no space left on the worker")
        return real(bundle, file_name, *args)

    monkeypatch.setattr(dask_executor, "sandbox_task", worker_cannot_run_ben)
    out = tmp_path / "out"
    options = grading.GradeOptions(timeout=20, executor="dask", scheduler=threads_cluster.scheduler_address)
    status = commands.grade("custom_layer", students, out, options, feedback=False)
    assert status == 2
    scores = pd.read_csv(out / "scores.csv").set_index("student")
    assert sorted(scores.index) == ["ann", "cat"] and (scores.score == 10).all()  # no zero for ben
    assert "ben" not in (out / ".grader" / "journal.jsonl").read_text()
    monkeypatch.setattr(dask_executor, "sandbox_task", real)
    batch = grading.grade(find_assignment("custom_layer"), submissions.discover(students), options,
                          out_dir=out)
    assert batch.reused == {"ann", "cat"} and not batch.unrun
    assert {r.submission.student: r.status for r in batch.runs} == {"ann": "graded", "ben": "graded",
                                                                   "cat": "graded"}
