"""`grader release`: what students get holds no solution and no hidden test, and checks offline."""

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ROOT
from grader.authoring.release import load_release, split_public
from grader.intake.assignment import find_assignment

GRADER = [sys.executable, "-m", "grader"]
RELEASES = ROOT / "releases"
NAMES = sorted(p.name for p in (ROOT / "assignments").iterdir() if (p / "assignment.toml").is_file())


def grader(*args, cwd=None, env=None):
    return subprocess.run([*GRADER, *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """custom_layer's release, made fresh (the reference runs once, in the sandbox)."""
    out = tmp_path_factory.mktemp("release") / "custom_layer"
    made = grader("release", "custom_layer", "-o", str(out))
    assert made.returncode == 0, made.stderr
    assert "of 10 points checkable by students" in made.stdout
    return out


def _public_material(assignment) -> str:
    """What students may see anyway: the starter and the public part of the tests."""
    text = assignment.starter.read_text() if assignment.starter else ""
    return text + "".join(split_public(path).source for path in assignment.test_files)


def _solution_lines(assignment) -> list[str]:
    """The reference's lines that are its own (not imports, not in the public material)."""
    public = _public_material(assignment)
    lines = {line.strip() for line in assignment.reference.read_text().splitlines()}
    return sorted(line for line in lines if len(line) >= 12 and not line.startswith(("import ", "from ", "#"))
                  and line not in public)


@pytest.mark.parametrize("name", NAMES)
def test_bundled_release_holds_no_solution_and_no_hidden_test(name):
    folder = RELEASES / name
    assignment = find_assignment(name)
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    allowed = {"release.json", "reference.obs", "starter.ipynb", *(p.name for p in assignment.test_files)}
    assert {f for f in files if not f.startswith("data/")} <= allowed
    everything = b"\n".join(files.values())
    reference = assignment.reference.read_bytes()
    assert reference not in everything
    leaked = [line for line in _solution_lines(assignment) if line.encode() in everything]
    assert not leaked, f"reference code in the release: {leaked[:3]}"
    hidden = [n for path in assignment.test_files for n in split_public(path).hidden_tests]
    assert hidden, "every seed assignment has hidden tests"
    for test in hidden:
        assert not re.search(rb"\b" + test.encode() + rb"\b", everything), f"{test} named in the release"
    made = load_release(folder)
    public_probes = set(made.probes)
    assert set(made.reference) == public_probes  # no hidden probe's observation


@pytest.mark.parametrize("name", NAMES)
def test_bundled_release_is_up_to_date(name):
    manifest = json.loads((RELEASES / name / "release.json").read_text())
    assert manifest["fingerprint"] == find_assignment(name).fingerprint, (
        f"releases/{name} is older than assignments/{name} (or its reference): run `make releases`")


def test_public_part_keeps_public_tests_and_what_they_use():
    part = split_public(find_assignment("custom_layer").test_files[0])
    assert {"test_parameters_registered", "test_no_bias_parameter", "test_forward_values",
            "test_batch_shapes"} <= set(part.public_tests)
    assert set(part.hidden_tests) == {"test_forward_without_bias", "test_gradients",
                                      "test_to_moves_parameters"}
    assert {"forward_without_bias", "gradients", "moves_with_to"} <= set(part.removed)
    assert "def fixed_layer(" in part.source and "def registration(" in part.source
    compile(part.source, "public.py", "exec")
    assert sum(part.public_points.values()) + sum(part.hidden_points.values()) == 10


def test_starter_names_the_command_for_this_release(release):
    first = json.loads((release / "starter.ipynb").read_text())["cells"][0]
    text = "".join(first["source"])
    assert "grader check . starter.ipynb" in text and 'check(".")' in text
    assert "grader check custom_layer" not in text and "not your grade" in text


@pytest.mark.parametrize("student, status", [("alice", 0), ("rupert", 1)])
def test_check_from_a_release_offline(release, student, status, tmp_path):
    work = tmp_path / "work.py"
    work.write_bytes((EXAMPLES / "custom_layer" / f"{student}.py").read_bytes())
    result = grader("check", str(release), str(work), cwd=tmp_path)
    assert result.returncode == status, result.stderr
    out = " ".join(result.stdout.split())
    made = load_release(release)
    total, hidden = made.public_points, made.hidden_points
    assert re.search(rf"Public checks: \d+ / {total:g} points", out) and "not your grade" in out
    assert f"Public checks: {total:g} / {total:g}" in out if student == "alice" else True
    assert f"hidden tests (worth {hidden:g} more points) also count" in out
    if student == "rupert":
        assert "failed" in out and "missing or wrong bias" in out


FAKE_MACOS = """
import sys
import grader.selfcheck.platforms
grader.selfcheck.platforms.system = lambda: "Darwin"
from grader.cli.main import main
main(["check", sys.argv[1], sys.argv[2]])
"""


def test_check_on_macos_runs_without_the_sandbox(release, tmp_path):
    """The platform check reports macOS, and `resource` cannot be imported (as on Windows)."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "resource.py").write_text("raise ImportError('no resource module on this system')\n")
    work = tmp_path / "work.py"
    work.write_bytes((EXAMPLES / "custom_layer" / "rupert.py").read_bytes())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked), str(ROOT)])}
    result = subprocess.run([sys.executable, "-c", FAKE_MACOS, str(release), str(work)],
                            capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    out = " ".join(result.stdout.split())
    assert result.returncode == 1, result.stderr
    assert "the sandbox is off on macOS" in out
    assert "Public checks: " in out and "missing or wrong bias" in out


def test_release_refuses_to_overwrite_a_folder_that_is_not_a_release(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = grader("release", "custom_layer", "-o", str(tmp_path))
    assert result.returncode == 2 and "is not a release" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_grade_from_an_installed_release_says_how_to_grade(monkeypatch, tmp_path):
    """An installed grader carries releases only: asking it to grade says where grading happens."""
    import grader.intake.assignment as assignment_module
    from grader.errors import GraderError

    bundled = tmp_path / "releases"
    (bundled / "only_released").mkdir(parents=True)
    (bundled / "only_released" / "release.json").write_text("{}")
    monkeypatch.setattr(assignment_module, "bundled_releases", lambda: bundled)
    with pytest.raises(GraderError, match="installed as a student release only"):
        find_assignment("only_released")
    with pytest.raises(GraderError, match="unknown assignment"):
        find_assignment("no_such_assignment")
