"""A non-editable install carries the bundled assignments as student releases only: no reference, no
hidden test; students check with them, and grading says where it happens."""

import subprocess
import sys
import zipfile

import pytest

from conftest import EXAMPLES, ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                            str(ROOT)], capture_output=True, text=True, timeout=300)
    if built.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no build backend?): {built.stderr[-300:]}")
    (path,) = out.glob("torchgrader-*.whl")
    unpacked = out / "site"
    zipfile.ZipFile(path).extractall(unpacked)
    return unpacked


def test_wheel_carries_releases_and_no_solutions(wheel):
    bundled = wheel / "grader" / "_bundled"
    assert (bundled / "releases" / "custom_layer" / "release.json").is_file()
    assert not (bundled / "assignments").exists() and not (bundled / "reference").exists()
    everything = b"".join(p.read_bytes() for p in wheel.rglob("*") if p.is_file())
    assert (ROOT / "reference" / "custom_layer.py").read_bytes() not in everything
    assert b"def test_gradients" not in everything  # a hidden test of custom_layer


def test_installed_grader_checks_with_a_bundled_release(wheel, tmp_path):
    (tmp_path / "work.py").write_bytes((EXAMPLES / "custom_layer" / "alice.py").read_bytes())
    env = {"PYTHONPATH": str(wheel), "PATH": "/usr/bin:/bin"}
    checked = subprocess.run([sys.executable, "-m", "grader", "check", "custom_layer", "work.py"],
                             capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert checked.returncode == 0, checked.stderr
    assert "not your grade" in " ".join(checked.stdout.split())
    (tmp_path / "class").mkdir()
    graded = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "custom_layer", str(tmp_path / "class"), "-o",
         str(tmp_path / "out")], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert graded.returncode == 2 and "installed as a student release only" in graded.stderr


def test_installed_grader_lists_its_bundled_releases(wheel, tmp_path):
    env = {"PYTHONPATH": str(wheel), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    listed = subprocess.run([sys.executable, "-m", "grader", "list"], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=300)
    assert listed.returncode == 0, listed.stderr
    assert "Bundled releases (public tests only)" in listed.stdout
    names = sorted(p.name for p in (ROOT / "releases").iterdir() if (p / "release.json").is_file())
    for name in names:
        assert f" {name} " in listed.stdout
    assert "grader check NAME FILE" in " ".join(listed.stdout.split())


def test_listing_shows_releases_when_no_assignment_is_bundled(monkeypatch, tmp_path):
    from grader.cli import commands
    from grader.intake import assignment

    monkeypatch.setattr(assignment, "bundled_root", lambda: tmp_path)  # no assignments/ there
    monkeypatch.setattr(assignment, "bundled_releases", lambda: ROOT / "releases")
    rows = commands.bundled_listing()
    released = sorted(p.parent.name for p in (ROOT / "releases").glob("*/release.json"))
    assert [r["name"] for r in rows] == released
    custom = next(r for r in rows if r["name"] == "custom_layer")
    assert custom["what"] == "release" and custom["title"].startswith("A custom linear layer")
    assert custom["starter"] == str(ROOT / "releases" / "custom_layer" / "starter.ipynb")
    monkeypatch.setattr(assignment, "bundled_root", lambda: ROOT)  # a checkout: its assignments win
    assert {r["what"] for r in commands.bundled_listing()} == {"assignment"}


def test_one_torchvision_pin_everywhere():
    """The `vision` extra, `make vision` and the CPU install line (students, Gradescope) name the
    same torchvision, the one built for torch 2.13.0."""
    import re
    import tomllib

    from grader.ci.gradescope import TORCH_CPU

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (pin,) = pyproject["project"]["optional-dependencies"]["vision"]
    assert pin == "torchvision==0.28.0"
    assert f"TORCHVISION := {pin}" in (ROOT / "Makefile").read_text()
    assert TORCH_CPU.split()[:2] == ["torch==2.13.0", pin]
    for text in ((ROOT / "README.md").read_text(), (ROOT / "examples" / "github-actions.yml").read_text()):
        assert re.search(rf"pip install torch==2\.13\.0 {re.escape(pin)} --index-url", text)
