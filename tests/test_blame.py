"""Blame is decided on the trusted side (issue 19, item 4): an exception raised while a probe runs
on a student's work whose reference run was clean is the student's, described by what the check was
doing, whatever the sandbox (the student's own process) says about where it came from. The
assignment's own errors are the reference failing a probe (the batch stops) or the judge's code
raising (``tests/test_author_errors.py``); only they make ``grader grade`` exit 3."""

from __future__ import annotations

import shutil

import pytest

from conftest import EXAMPLES, ROOT
from grader.cli.main import main
from grader.grading.runs import ObservationSource, Run, probe_error_text
from grader.intake.submissions import Submission
from grader.judge.plugin import NoObservation
from grader.sandbox.pool import measure_sandbox
from grader.sandbox.wire import encode_frame

HOSTILE = ROOT / "tests" / "data" / "hostile" / "blames_the_assignment.py"
# what a sandbox reports for a NameError whose innermost frame is in the assignment's test file
CLAIMED = {"type": "NameError", "message": "name 'helper' is not defined", "missing": "helper",
           "check_file": "test_custom_layer.py", "check_line": 40, "check_text": "return helper(x)",
           "check_function": "fixed_layer"}


def test_a_sandbox_s_claim_that_the_check_raised_is_not_the_assignment_s_fault():
    text = probe_error_text(CLAIMED, "forward_values")
    assert text == ("while checking forward_values, the check's own code raised NameError "
                    "(test_custom_layer.py, line 40: `return helper(x)`): name 'helper' is not defined, "
                    "on what your code returned or defined (the reference passes this check)")
    assert "tell your instructor" not in text and "assignment's check" not in text


def test_an_observation_source_never_blames_the_assignment_for_a_student_s_probe(tmp_path):
    frames = tmp_path / "student.obs"
    frames.write_bytes(encode_frame("load", "", {"errors": [], "notes": []})
                       + encode_frame("probe", "forward_values", error=CLAIMED)
                       + encode_frame("done", "", None, seconds=0.1))
    run = Run(Submission("mallory", tmp_path / "mallory.py"), result_path=frames)
    source = ObservationSource({"forward_values": {}}, {"mallory": run})
    with pytest.raises(NoObservation) as caught:
        source.student("mallory", "forward_values")
    assert caught.value.assignment_error == ""
    assert str(caught.value).startswith("while checking forward_values, the check's own code raised "
                                        "NameError (test_custom_layer.py, line 40")


def test_a_submission_that_replaces_a_probe_s_helper_gets_its_own_error_row(tmp_path, capsys):
    """tests/data/hostile/blames_the_assignment.py compiles a NameError-raising helper under the
    test file's name into the probes' module: before issue 19 the row read "the assignment's check
    raised NameError ... tell your instructor" and `grader grade` exited 3."""
    if not measure_sandbox().namespaces:
        pytest.skip("no sandbox namespaces here: the hostile file would act on this machine")
    students = tmp_path / "students"
    students.mkdir()
    shutil.copy(EXAMPLES / "custom_layer" / "alice.py", students)
    shutil.copy(HOSTILE, students)
    with pytest.raises(SystemExit) as ended:
        main(["grade", "custom_layer", str(students), "-o", str(tmp_path / "out"), "--timeout", "10"])
    out = " ".join(capsys.readouterr().out.split())
    assert ended.value.code == 0, out
    assert "the assignment's own code raised" not in out
    import pandas as pd

    results = pd.read_csv(tmp_path / "out" / "results.csv")
    mine = results[results.student == "blames_the_assignment"]
    failed = mine[mine.status == "failed"]
    assert sorted(failed.test) == ["test_forward_by_hand", "test_forward_values", "test_forward_without_bias",
                                   "test_gradients", "test_to_moves_parameters"]
    assert all(m.startswith("while checking ") and "the check's own code raised NameError" in m
               and "tell your instructor" not in m for m in failed.message)
    scores = pd.read_csv(tmp_path / "out" / "scores.csv").set_index("student")
    assert scores.loc["blames_the_assignment", "score"] == 5
    assert scores.loc["alice", "score"] == 10
