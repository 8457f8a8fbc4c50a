"""The sandbox holds: a submission cannot read secrets, reach the network, write outside its
scratch space, or leave processes behind; and nothing it does changes another student's row."""

import os
import socket
import threading
from pathlib import Path

import pytest

from conftest import ROOT, grade_folder
from grader import report

SPY = ROOT / "tests" / "data" / "spy"
SECRET = "hunter2-do-not-leak"

SPY_SOURCE = '''
import os, socket, subprocess

def attempt(action):
    try:
        return action()
    except Exception:
        return "blocked"

def read(path):
    with open(path) as handle:
        return "read: " + handle.read(20)

def write(path):
    with open(path, "w") as handle:
        handle.write("{{\\"score\\": 100}}")
    return "written"

def connect():
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    return "connected"

def proc_environ():
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{{pid}}/environ", "rb") as handle:
                if b"{secret}" in handle.read():
                    return "leaked"
        except OSError:
            pass
    return "absent"

subprocess.Popen(["sleep", "4242"], start_new_session=True)
read_reference = attempt(lambda: read("{spy}/reference.py"))
read_tests = attempt(lambda: read("{spy}/test_spy.py"))
read_other_submission = attempt(lambda: read("{other}"))
write_submissions = attempt(lambda: write("{folder}/results.json"))
write_home = attempt(lambda: write(os.path.expanduser("~/../../results.json")))
network = attempt(connect)
secret_in_environ = "leaked" if "{secret}" in str(os.environ) else "absent"
secret_in_proc = proc_environ()
'''


@pytest.fixture(scope="module")
def escape(tmp_path_factory):
    """Grade a spy submission beside an honest one, with a secret in the grader's environment
    and a server listening on loopback."""
    folder = tmp_path_factory.mktemp("class")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    threading.Thread(target=lambda: listener.accept(), daemon=True).start()
    other = folder / "honest.py"
    other.write_text("\n".join(f"{name} = 'blocked'" for name in (
        "read_reference", "read_tests", "read_other_submission", "write_submissions",
        "write_home", "network")) + "\nsecret_in_environ = secret_in_proc = 'absent'\n")
    (folder / "spy.py").write_text(SPY_SOURCE.format(
        port=port, secret=SECRET, spy=SPY, other=other, folder=folder))
    os.environ["GRADER_TEST_SECRET"] = SECRET
    try:
        graded = grade_folder(str(SPY), folder)
    finally:
        del os.environ["GRADER_TEST_SECRET"]
        listener.close()
    return graded, folder


@pytest.mark.parametrize("attempt", [
    "read_reference", "read_tests", "read_other_submission", "write_submissions", "write_home",
    "network", "secret_in_environ", "secret_in_proc",
])
def test_escape_attempt_is_blocked(escape, attempt):
    graded, _ = escape
    rows = graded.results[(graded.results.student == "spy")
                          & graded.results.test.str.contains(attempt)]
    assert not rows.empty or attempt in "".join(graded.results.test)
    spy = graded.results[graded.results.student == "spy"]
    failed = spy[spy.status == "failed"]
    assert not failed.message.str.contains(attempt).any(), failed.message.tolist()


def test_spy_and_honest_student_both_full_marks(escape):
    graded, folder = escape
    assert graded.row("spy").score == graded.row("spy").max_score == 8
    assert graded.row("honest").score == 8
    assert not (folder / "results.json").exists()


def test_no_process_outlives_grading(escape):
    assert _leftover_processes() == []


def _leftover_processes() -> list[str]:
    leftovers = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"sleep\x004242" in cmdline:
            leftovers.append(pid)
    return leftovers


def test_without_namespaces_the_report_says_what_is_missing(tmp_path):
    """The fallback sandbox (no namespaces) is weaker, and the report header says so: here the
    spy really does read the reference, which proves the checks above can fail."""
    listener = socket.create_server(("127.0.0.1", 0))
    (tmp_path / "spy.py").write_text(SPY_SOURCE.format(
        port=listener.getsockname()[1], secret=SECRET, spy=SPY, other=tmp_path / "none.py",
        folder=tmp_path))
    graded = grade_folder(str(SPY), tmp_path, namespaces=False)
    listener.close()
    header = report.header(graded.batch)
    assert any("namespaces" in missing for missing in header["missing_protections"])
    failed = graded.results[graded.results.status == "failed"]
    assert failed.test.str.contains("read_reference").any()
    assert graded.row("spy").status == "graded"
    assert _leftover_processes() == []  # the fallback still kills what the sandbox started
