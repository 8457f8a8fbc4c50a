"""A non-editable install carries the bundled assignments and references, and grades with them."""

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


def test_wheel_bundles_assignments_and_references(wheel):
    bundled = wheel / "grader" / "_bundled"
    assert (bundled / "assignments" / "custom_layer" / "assignment.toml").is_file()
    assert (bundled / "reference" / "custom_layer.py").is_file()


def test_installed_grader_finds_and_grades_by_name(wheel, tmp_path):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "alice.py").write_bytes((EXAMPLES / "custom_layer" / "alice.py").read_bytes())
    env = {"PYTHONPATH": str(wheel), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "custom_layer", str(tmp_path / "class"),
         "-o", str(tmp_path / "out"), "-j", "1"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "alice" in (tmp_path / "out" / "scores.csv").read_text()
    assert ",10.0,10.0,100.0,graded," in (tmp_path / "out" / "scores.csv").read_text()
