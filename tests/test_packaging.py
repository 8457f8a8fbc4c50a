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
    (path,) = out.glob("grader-*.whl")
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
