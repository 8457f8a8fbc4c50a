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
