"""The CI door as a CI system meets it: `grader ci` files, annotations and exit codes, and the
Gradescope bundle of `grader export gradescope`."""

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import EXAMPLES
from grader.authoring.release import split_public
from grader.intake import submissions
from grader.intake.assignment import find_assignment

GRADER = [sys.executable, "-m", "grader"]
CLASS = EXAMPLES / "custom_layer"
PUBLIC = {"test_parameters_registered", "test_no_bias_parameter", "test_forward_values", "test_batch_shapes",
          "test_names_as_asked", "test_forward_by_hand"}
HIDDEN = {"test_forward_without_bias", "test_gradients", "test_to_moves_parameters"}
# https://gradescope-autograders.readthedocs.io/en/latest/specs/#output-format
GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format",
                  "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output",
                   "output_format", "tags", "visibility", "extra_data"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
COUNT = len(split_public(find_assignment("custom_layer").test_files[0]).descriptions)  # its tests


def grader(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*GRADER, *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Four `grader ci` runs, two at a time: {name: (completed process, folder it ran in)}."""
    root = tmp_path_factory.mktemp("ci")
    summary = root / "github" / "summary.md"
    summary.parent.mkdir()
    summary.write_text("## an earlier step\n\n")
    calls = {
        "rupert_junit": ["custom_layer", str(CLASS / "rupert.py"), "--format", "junit", "-o",
                         "out/report.xml", "--fail-under", "100"],
        "rupert_gradescope": ["custom_layer", str(CLASS / "rupert.py"), "--format", "gradescope"],
        "rupert_github": ["custom_layer", str(CLASS / "rupert.py"), "--format", "github"],
        "alice_gradescope": ["custom_layer", str(CLASS / "alice.py"), "--format", "gradescope", "-o",
                             "alice.json", "--fail-under", "100"],
        "rupert_classroom50": ["custom_layer", str(CLASS / "rupert.py"), "--format", "classroom50"],
    }

    def run(name: str) -> tuple[str, subprocess.CompletedProcess, Path]:
        folder = summary.parent if name == "rupert_github" else root / name
        folder.mkdir(exist_ok=True)
        env = {"GITHUB_STEP_SUMMARY": str(summary)} if name == "rupert_github" else {}
        return name, grader("ci", *calls[name], cwd=folder, env=env), folder

    with ThreadPoolExecutor(2) as pool:
        return {name: (result, folder) for name, result, folder in pool.map(run, calls)}


def test_junit_has_one_testcase_per_test_and_the_failures(runs):
    result, folder = runs["rupert_junit"]
    assert result.returncode == 1, result.stderr  # 50% is under --fail-under 100
    assert "below --fail-under 100" in result.stderr
    suites = ET.parse(folder / "out" / "report.xml").getroot()
    (suite,) = suites.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == COUNT == 9 and suite.get("tests") == "9" and suite.get("failures") == "4"
    assert {c.get("name") for c in cases} == PUBLIC | HIDDEN
    assert {c.get("classname") for c in cases} == {"custom_layer"}
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failed) == {"test_forward_values", "test_forward_by_hand", "test_gradients",
                           "test_to_moves_parameters"}
    assert "values differ" in failed["test_forward_values"].get("message")
    assert "missing or wrong bias" in failed["test_forward_values"].text
    for name in ("test_gradients", "test_to_moves_parameters"):
        assert "details are not shown" in failed[name].text
        assert "expected" not in failed[name].text and "differ" not in failed[name].text
    points = {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")} for c in cases}
    assert sum(float(p["points"]) for p in points.values()) == 6
    assert sum(float(p["max_points"]) for p in points.values()) == 10
    assert points["test_forward_values"]["max_points"] == "1"


def test_gradescope_results_follow_the_documented_format(runs):
    result, folder = runs["rupert_gradescope"]
    assert result.returncode == 0, result.stderr
    path = folder / "results.json"  # the default outside Gradescope
    if Path("/autograder").is_dir():
        pytest.skip("this machine has /autograder: the results went to /autograder/results")
    data = json.loads(path.read_text())
    assert set(data) <= GRADESCOPE_TOP
    assert isinstance(data["score"], float) and isinstance(data["execution_time"], int)
    assert isinstance(data["output"], str) and "6 / 10 points" in data["output"]
    assert data["visibility"] in VISIBILITIES and data["stdout_visibility"] in VISIBILITIES
    assert data["output_format"] == data["test_output_format"] == "md" and data["test_name_format"] == "text"
    assert data["extra_data"]["status"] == "graded"  # the spec has no top-level status
    assert data["extra_data"]["max_score"] == 10
    tests = data["tests"]
    assert len(tests) == COUNT
    for test in tests:
        assert set(test) <= GRADESCOPE_TEST
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert test["status"] in {"passed", "failed"} and test["output_format"] == "md"
        assert test["visibility"] in VISIBILITIES
        assert test["score"] == (test["max_score"] if test["status"] == "passed" else 0)
    assert data["score"] == sum(t["score"] for t in tests) == 6
    by_test = {t["extra_data"]["test"]: t for t in tests}
    assert {n for n, t in by_test.items() if t["visibility"] == "visible"} == PUBLIC
    assert {n for n, t in by_test.items() if t["visibility"] == "after_published"} == HIDDEN
    forward = by_test["test_forward_values"]
    assert forward["status"] == "failed" and "missing or wrong bias" in forward["output"]
    assert forward["output"].startswith("```\n") and forward["output"].endswith("\n```")
    assert forward["name"].startswith("forward(x) returns x @ weights + bias")
    for name in ("test_gradients", "test_to_moves_parameters"):
        hidden = by_test[name]
        assert hidden["status"] == "failed" and hidden["max_score"] > 0
        assert "details are not shown" in hidden["output"]
        assert "expected" not in hidden["output"] and "differ" not in hidden["output"]
    assert by_test["test_forward_without_bias"]["output"] == ""


def test_a_full_score_passes_fail_under_100(runs):
    result, folder = runs["alice_gradescope"]
    assert result.returncode == 0, result.stderr
    assert "10 / 10 points (100%)" in result.stdout
    data = json.loads((folder / "alice.json").read_text())
    assert data["score"] == 10 and all(t["status"] == "passed" for t in data["tests"])


def test_github_summary_and_annotations(runs):
    result, folder = runs["rupert_github"]
    assert result.returncode == 0, result.stderr
    summary = (folder / "summary.md").read_text()
    assert summary.startswith("## an earlier step\n")  # appended, as GitHub expects
    assert "| test | points | passed | why |" in summary
    assert "| forward(x) returns x @ weights + bias (fixed weights, a 4 x 3 input) | 0 / 1 | ❌ |" in summary
    assert "| 2 / 2 | ✅ |" in summary and "**6 / 10**" in summary
    hidden_row = ("| backward() gives the right gradients for weights and bias *(hidden)* | 0 / 1 | ❌ "
                  "| details hidden |")
    assert hidden_row in summary
    lines = result.stdout.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 2  # the failed public tests (values, and values by hand); hidden ones get none
    assert "title=forward(x) returns x @ weights + bias" in errors[0] and "rupert.py" in errors[0]
    assert "%0A" in errors[0] and "\n" not in errors[0]  # one line, escaped as GitHub reads it
    assert "::notice title=Score::custom_layer: 6 / 10 points (60%25); 2 hidden tests failed" in lines


@pytest.mark.parametrize("args, words", [
    (["no_such_assignment", "EXAMPLE", "--format", "junit"], "unknown assignment 'no_such_assignment'"),
    (["custom_layer", "EXAMPLE", "--format", "junit", "-o", "/"], "is a folder"),
])
def test_bad_input_exits_2_with_one_line(args, words):
    args = [str(CLASS / "alice.py") if a == "EXAMPLE" else a for a in args]
    result = grader("ci", *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: error: ") and words in lines[0], result.stderr


def test_classroom50_result_follows_the_v1_contract(runs):
    """https://github.com/foundation50/classroom50/wiki/Advanced-Autograding#the-resultjson-contract"""
    result, folder = runs["rupert_classroom50"]
    assert result.returncode == 0, result.stderr
    data = json.loads((folder / "result.json").read_text())
    assert data["schema"] == "classroom50/result/v1"
    for key in ("classroom", "assignment", "submission", "commit", "release", "review", "datetime",
                "graded_at"):
        assert isinstance(data[key], str), key
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["datetime"])
    assert data["max-score"] == 10 and isinstance(data["score"], int) and 0 < data["score"] < 10
    assert len(data["tests"]) == COUNT and sum(t["score"] for t in data["tests"]) == data["score"]
    for test in data["tests"]:
        assert {"test-name", "passed", "score", "max-score"} <= set(test)
        assert isinstance(test["passed"], bool) and test["score"] in {0, test["max-score"]}
    hidden = [t for t in data["tests"] if t["visibility"] == "hidden" and not t["passed"]]
    assert hidden and all("details are not shown" in t["message"] for t in hidden)


def test_classroom50_refuses_fractional_points_naming_the_tests(tmp_path):
    """result.json holds integers: an assignment with a fractional @points is refused in one line,
    before anything is graded or written."""
    import shutil

    root = tmp_path / "course"
    shutil.copytree(find_assignment("custom_layer").root, root / "assignments" / "custom_layer",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "reference").mkdir()
    shutil.copy(EXAMPLES.parent / "reference" / "custom_layer.py", root / "reference")
    tests = root / "assignments" / "custom_layer" / "test_custom_layer.py"
    text = tests.read_text()
    tests.write_text(text.replace("@points(2)\ndef test_parameters_registered", "@points(1.5)\n"
                                  "def test_parameters_registered", 1))
    result = grader("ci", str(root / "assignments" / "custom_layer"), str(CLASS / "alice.py"),
                    "--format", "classroom50", cwd=tmp_path)
    assert result.returncode == 2 and not (tmp_path / "result.json").exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs whole points" in lines[0]
    assert "test_parameters_registered (1.5)" in lines[0], lines


def test_the_example_classroom50_autograder_writes_public_checks_in_integers(tmp_path):
    """examples/classroom50/autograder.py: a release's public checks only (no hidden test exists
    in what Classroom 50 fetches), integer points, and a result.json for a missing file too."""
    autograder = EXAMPLES / "classroom50" / "autograder.py"
    release = tmp_path / "custom_layer"  # a copy: importing its tests writes __pycache__ beside them
    shutil.copytree(EXAMPLES.parent / "releases" / "custom_layer", release)
    done = subprocess.run([sys.executable, str(autograder), str(release), str(CLASS / "rupert.py")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["schema"] == "classroom50/result/v1" and {t["test"] for t in data["tests"]} == PUBLIC
    assert all(t["visibility"] == "public" and isinstance(t["score"], int) for t in data["tests"])
    assert isinstance(data["score"], int) and 0 < data["score"] < data["max-score"]
    done = subprocess.run([sys.executable, str(autograder), str(release), "renamed.ipynb"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    data = json.loads((tmp_path / "result.json").read_text())
    assert done.returncode == 0 and data["score"] == 0 and len(data["tests"]) == len(PUBLIC)


@pytest.mark.parametrize("fmt, name", [("gradescope", "results.json"), ("junit", "report.xml"),
                                       ("classroom50", "result.json"), ("github", "summary.md")])
def test_a_missing_submission_still_writes_results_with_the_reason(fmt, name, tmp_path):
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    result = grader("ci", "custom_layer", "renamed.ipynb", "--format", fmt, cwd=tmp_path, env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "renamed.ipynb does not exist" in lines[0] and "0 points" in lines[0]
    text = (tmp_path / name).read_text()
    assert "renamed.ipynb does not exist" in text
    if fmt == "gradescope":
        data = json.loads(text)
        assert data["score"] == 0 and data["extra_data"]["status"] == "missing" and len(data["tests"]) == COUNT
    elif fmt == "classroom50":
        data = json.loads(text)
        assert data["score"] == 0 and data["max-score"] == 10 and not any(t["passed"] for t in data["tests"])
    elif fmt == "junit":
        suite = ET.fromstring(text).find("testsuite")
        assert suite.get("tests") == suite.get("failures") == str(COUNT)
    else:
        assert "**0 / 10 points (0%)**" in text and "**missing**" in text


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    result = grader("export", "gradescope", "custom_layer", "-o", str(out), "--timeout", "30")
    if result.returncode != 0 and "cannot build the grader's wheel" in result.stderr:
        pytest.skip(f"cannot build a wheel here: {result.stderr[-300:]}")
    assert result.returncode == 0, result.stderr
    assert f"Wrote {out}" in result.stdout
    return zipfile.ZipFile(out)


def test_gradescope_bundle_members(bundle):
    names = bundle.namelist()
    (wheel,) = [n for n in names if n.startswith("torchgrader-") and n.endswith(".whl")]
    assert {"setup.sh", "run_autograder", wheel, "reference/custom_layer.py", "assignments/custom_layer/"
            "assignment.toml", "assignments/custom_layer/test_custom_layer.py"} <= set(names)
    assert all(n.startswith(("assignments/custom_layer/", "reference/")) for n in names
               if n not in {"setup.sh", "run_autograder", wheel})
    assert bundle.getinfo("run_autograder").external_attr >> 16 & 0o111 == 0o111
    setup = bundle.read("setup.sh").decode()
    cpu_torch = "pip install torch==2.13.0 torchvision==0.28.0 --index-url https://download.pytorch.org/whl/cpu"
    assert setup.startswith("#!") and setup.index(cpu_torch) < setup.index(wheel)
    script = bundle.read("run_autograder").decode()
    assert ('grader ci /autograder/source/assignments/custom_layer /autograder/submission --format '
            'gradescope' in script)
    assert "-o /autograder/results/results.json --timeout 30" in script
    with bundle.open(wheel) as stream, zipfile.ZipFile(stream) as built:
        inside = built.namelist()
    assert "grader/_bundled/releases/custom_layer/release.json" in inside
    assert not [n for n in inside if "_bundled/assignments" in n or "_bundled/reference" in n]


@pytest.mark.parametrize("files, chosen", [
    (["work.ipynb", "helper.py", ".ipynb_checkpoints/work-checkpoint.ipynb"], "work.ipynb"),
    (["hw/solution.py"], "hw/solution.py"),
    (["a.py", "b.py"], ""),  # several: the grader says so
])
def test_run_autograder_hands_over_the_whole_submission_folder(bundle, tmp_path, files, chosen):
    """run_autograder in a fake /autograder, with a stand-in grader that records its arguments:
    the folder goes to the grader (helper modules and data travel with the entry), which chooses
    the entry as every door does."""
    home = tmp_path / "autograder"
    for name in files:
        (home / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (home / "submission" / name).write_text("")
    fake = home / "venv" / "bin" / "grader"
    fake.parent.mkdir(parents=True)
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/args\n')
    fake.chmod(0o755)
    script = home / "run_autograder"
    script.write_text(bundle.read("run_autograder").decode().replace("/autograder", str(home)))
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    args = (tmp_path / "args").read_text().splitlines()
    assert args[:5] == ["ci", f"{home}/source/assignments/custom_layer", f"{home}/submission",
                        "--format", "gradescope"]
    found = submissions.single(home / "submission", find_assignment("custom_layer").entry_rule)
    assert (found.path.relative_to(home / "submission").as_posix() if found.path else "") == chosen
