"""Hostile students cannot fool or stop the grader: whatever a submission does (end the process,
exhaust resources, fake results, snoop), it costs that submission its own points and nothing else.

Every file of ``tests/data/hostile/`` is graded in ONE batch, beside the honest ``alice.py``, with a
secret in the grader's environment and a solution lying next to the submissions folder (as in an
instructor's course folder). Each hostile row is pinned; alice's must be exactly her own: 10/10,
every test passed, no message. The fork bomb and the process killers only act as PID 1 (inside the
sandbox's PID namespace), so that a broken sandbox cannot harm the machine; without namespaces
the batch is skipped (``tests/test_sandbox.py`` covers the fallback). Forged result frames, which
cross into the judge, are graded in a batch of their own: today they end the whole batch.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import struct
import tempfile
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, grade_folder
from grader.sandbox.pool import measure_sandbox
from grader.sandbox.wire import WireError, decode_frames

HOSTILE = ROOT / "tests" / "data" / "hostile"
ALICE = EXAMPLES / "custom_layer" / "alice.py"
SECRET = "hostile-secret-do-not-leak"
OPTIONS = {"timeout": 5, "memory": 512 * 1024**2}
FAKE_MARKER = "FAKE-MARKER"


ZEROS = ["every value is zero"]  # forward returns zeros: registration (3) + batch shapes (1) + names (1)
EXPECTED = {
    # student: (score, status, words in the row's message or its tests' messages)
    "alice": (10, "graded", ["all tests passed"]),
    # ending the process
    "abort": (0, "killed", ["killed by SIG", "before grading finished"]),
    "ignore_alarm": (0, "timeout", ["stopped after 5 s", "time limit"]),
    "kill_self": (10, "graded", ["all tests passed"]),
    "kill_parent": (10, "graded", ["all tests passed"]),  # its parent is outside its reach
    "killpg": (10, "graded", ["all tests passed"]),  # its own session: only itself
    "kill_everyone": (10, "graded", ["all tests passed"]),
    "keyboard_interrupt": (4, "graded", ["KeyboardInterrupt", "keyboard_interrupt.py"]),
    # exhausting resources
    "fork_bomb": (10, "timeout", ["time limit"]),
    "daemon": (10, "graded", ["all tests passed"]),
    "threads": (10, "graded", ["all tests passed"]),
    "flood_stdout": (10, "graded", ["all tests passed"]),
    "big_file": (10, "graded", ["File too large", "handle.write(chunk)"]),
    "deep_recursion": (0, "killed", ["SIGSEGV"]),
    "memory_bomb": (4, "graded", ["ran out of memory", "memory_bomb.py"]),
    # faking the result
    "fake_output": (5, "graded", ZEROS),
    "fake_files": (5, "graded", ZEROS),
    "monkeypatch": (5, "graded", ZEROS),
    "lying_tensor": (5, "graded", ZEROS),
    "nan_outputs": (5, "graded", ["values are NaN"]),
    "inf_outputs": (5, "graded", ["values are inf"]),
    "giant_output": (4, "graded", ["ran out of memory"]),
    "cursed_object": (4, "graded", ["CursedError", "unprintable"]),
    "dict_tensor": (4, "graded", ["got a dict"]),
    # blaming the assignment: a probe's helper replaced by code compiled under the test file's name
    "blames_the_assignment": (5, "graded", ["while checking forward_values, the check's own code "
                                            "raised NameError", "helper_the_assignment_forgot"]),
    # reading what is not theirs
    "snoop": (10, "graded", ["all tests passed"]),
}
KNOWN_HOLES = {  # none left: the copycat finds no solution in the allow-listed root
    "copycat": (0, "graded", ["MyLinear"]),
}


@pytest.fixture(scope="module")
def course():
    """``course/submissions/`` (every hostile file and alice) beside ``course/solution.py``.

    Outside /tmp when possible: the sandbox mounts its own /tmp, which would hide the solution by
    chance rather than by design.
    """
    parent = "/var/tmp" if os.access("/var/tmp", os.W_OK) else None
    base = Path(tempfile.mkdtemp(prefix="grader-hostile-", dir=parent))
    folder = base / "course" / "submissions"
    folder.mkdir(parents=True)
    for path in HOSTILE.glob("*.py"):
        shutil.copy(path, folder)
    shutil.copy(ALICE, folder)
    shutil.copy(ALICE, base / "course" / "solution.py")
    yield folder
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def graded(course):
    if not measure_sandbox().namespaces:
        pytest.skip("no sandbox namespaces here: the hostile files would act on this machine")
    os.environ["GRADER_HOSTILE_SECRET"] = SECRET
    try:
        return grade_folder("custom_layer", course, **OPTIONS)
    finally:
        del os.environ["GRADER_HOSTILE_SECRET"]


def output_of(graded, student: str) -> str:
    """What the student printed (kept by the sandbox, head and tail)."""
    return next(run.output for run in graded.batch.runs if run.submission.student == student)


def assert_row(graded, student: str, expected: tuple) -> None:
    graded.assert_row(student, expected)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_hostile_rows(graded, student):
    assert_row(graded, student, EXPECTED[student])


def test_every_submission_has_a_row(graded, course):
    assert set(graded.scores.index) == {path.stem for path in course.glob("*.py")}
    assert set(graded.scores.index) == set(EXPECTED) | set(KNOWN_HOLES)  # each hostile file is pinned
    assert (graded.scores.max_score == 10).all()


def test_alice_row_is_exactly_her_own(graded):
    """Every one of her tests passed, with nothing in its message: what she gets alone."""
    alice = graded.results[graded.results.student == "alice"]
    assert len(alice) == 9 and (alice.status == "passed").all() and (alice.score == alice.max_score).all()
    assert not alice.message.fillna("").any()
    row = graded.row("alice")
    assert (row.score, row.max_score, row.status, row.message) == (10, 10, "graded", "all tests passed")


# --- ending the process ------------------------------------------------------------------------


def test_process_killers_ran_inside_the_sandbox(graded):
    """They really tried: as PID 1 of the sandbox's own PID namespace, where SIGKILL to oneself is
    ignored and kill(-1) reaches no one outside."""
    assert "still alive after SIGKILL to myself" in output_of(graded, "kill_self")
    everyone = output_of(graded, "kill_everyone")
    assert "kill(-1) and the hunt for the grader done" in everyone
    assert "HOSTILE killing" not in everyone  # no grader process was even visible


# --- exhausting resources ----------------------------------------------------------------------


def test_fork_bomb_went_off(graded):
    found = re.search(r"HOSTILE fork bomb: (\d+) processes", output_of(graded, "fork_bomb"))
    assert found and int(found[1]) >= 3, output_of(graded, "fork_bomb")  # PID 1 and a bomb that forked


def test_no_process_outlives_grading(graded):
    """Daemons in their own sessions, the fork bomb, threads: all gone once grading is over."""
    leftovers = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if comm.startswith("hostile-") or b"sleep\x004343" in cmdline:
            leftovers.append(f"{pid} {comm} {cmdline[:60]!r}")
    assert leftovers == []


def test_output_flood_is_capped(graded):
    output = output_of(graded, "flood_stdout")
    assert output.startswith("HOSTILE flood")
    assert "HOSTILE flood done" in output  # the tail is kept too
    assert len(output) < 1024 * 1024  # of about 300 MB printed


def test_big_file_stopped_at_the_file_size_limit(graded):
    written = re.search(r"HOSTILE wrote (\d+) MB", output_of(graded, "big_file"))
    assert written and int(written[1]) < 1024


# --- faking the result -------------------------------------------------------------------------


def test_fakes_change_nothing(graded):
    """Printing fake results, writing fake reports, patching torch, numpy, pytest and the grader,
    lying tensors: each gets exactly the rows of a plain wrong forward (zeros)."""
    columns = ["test", "score", "status", "message"]
    rows = {student: graded.results[graded.results.student == student][columns].reset_index(drop=True)
            for student in ("fake_output", "fake_files", "monkeypatch", "lying_tensor")}
    reference = rows.pop("fake_output")
    for student, table in rows.items():
        assert table.equals(reference), student
    report = graded.scores.to_csv() + graded.results.to_csv()
    assert FAKE_MARKER not in report and "HOSTILE" not in report  # what they printed stays out
    assert "patched torch" in output_of(graded, "monkeypatch")  # the patches did run


def test_written_files_land_nowhere(graded, course):
    """fake_files wrote into its cwd, its parent, /tmp, $HOME, /dev/shm...: all private to it."""
    assert "HOSTILE wrote" in output_of(graded, "fake_files")  # its own scratch space is writable
    import grader

    package = Path(grader.__file__).resolve().parent
    places = [course, course.parent, course.parent.parent, Path("/tmp"), Path("/var/tmp"), Path("/"),
              Path("/dev/shm"), Path.home(), package, package.parent, Path.cwd()]
    found = [str(place / "hostile-was-here.txt") for place in places
             if (place / "hostile-was-here.txt").exists()]
    assert found == []


# --- reading what is not theirs ----------------------------------------------------------------


def snooped(graded) -> dict[str, str]:
    lines = re.findall(r"^SNOOP (\w+): (.*)$", output_of(graded, "snoop"), re.MULTILINE)
    return dict(lines)


def test_snoop_sees_only_itself(graded):
    seen = snooped(graded)
    assert seen.get("done") == "True", output_of(graded, "snoop")
    assert seen["visible_pids"] == "[1]"  # no other process: not the judge, not the fork server
    assert seen["read_memory_of"] == "[]"
    assert seen["secret_in_environ_of"] == "[]"
    assert SECRET not in output_of(graded, "snoop")


def test_snoop_finds_hidden_folders_empty(graded):
    """It learns host paths (the request is on its stack), but none of them exists inside."""
    seen = snooped(graded)
    assert seen["found_hidden_paths"] == "True"
    assert set(ast.literal_eval(seen["hidden_paths_hold"])) == {"No such file or directory"}


def test_no_source_lingers_in_inherited_memory(graded):
    """The warm process reads every submission and the reference before forking the next sandbox:
    none of their text may be found in a later sandbox's memory."""
    seen = snooped(graded)
    assert seen["own_source_in_memory"] == "True"  # the search works
    assert seen["reference_source_in_memory"] == "False"
    assert seen["alice_source_in_memory"] == "False"


def test_copycat_cannot_run_a_solution_found_on_disk(graded):
    assert_row(graded, "copycat", KNOWN_HOLES["copycat"])


# --- forged frames: what crosses into the judge ------------------------------------------------


def frame(header: bytes, blob: bytes = b"") -> bytes:
    return struct.pack("<I", len(header)) + header + struct.pack("<Q", len(blob)) + blob


@pytest.mark.parametrize("data", [
    pytest.param(frame(b'{"kind": "\xff"}'), id="not-utf8"),
    pytest.param(frame(b'{"kind": "probe", "value": ' + b"9" * 5000 + b"}"), id="huge-int"),
    pytest.param(frame(b'{"kind": "probe", "value": {"$t": ["float32", [4611686018427387904, 4], 0, '
                       b'73786976294838206464, "cpu", false]}}'), id="huge-tensor"),
    pytest.param(frame(b"[" * 100_000 + b"]" * 100_000), id="nested-json"),
    pytest.param(frame(b'{"kind": "probe", "value": {"$t": ["float32", [0, 1000000000000000000000000000000], '
                       b'0, 0, "cpu", false]}}'), id="empty-tensor-huge-dim"),
])
def test_decoder_rejects_forged_frames_with_wire_error(data):
    """The judge decodes what a sandbox wrote: anything malformed is a WireError, nothing else."""
    try:
        decode_frames(data)
    except WireError:
        pass


def test_forged_frames_cost_only_their_own_row(tmp_path):
    for path in (HOSTILE / "forged").glob("*.py"):
        shutil.copy(path, tmp_path)
    shutil.copy(ALICE, tmp_path)
    forged = grade_folder("custom_layer", tmp_path, **OPTIONS)
    assert_row(forged, "alice", EXPECTED["alice"])
    for student in ("forged_load", "forged_header", "forged_tensor"):
        row = forged.row(student)
        assert row.score == 0 and row.status in {"error", "killed"} and row.message, (student, row.message)
