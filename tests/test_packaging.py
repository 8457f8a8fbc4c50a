"""A non-editable install carries the bundled assignments as student releases only: no reference, no
hidden test; students check with them, and grading says where it happens. The built wheel, installed
into a fresh virtual environment as the install page says (torch first), checks a student's work."""

import os
import re
import subprocess
import sys
import zipfile

import pytest

from conftest import EXAMPLES, ROOT


@pytest.fixture(scope="module")
def wheel_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                            str(ROOT)], capture_output=True, text=True, timeout=300)
    if built.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no build backend?): {built.stderr[-300:]}")
    (path,) = out.glob("torchgrader-*.whl")
    return path


@pytest.fixture(scope="module")
def wheel(wheel_file):
    unpacked = wheel_file.parent / "site"
    zipfile.ZipFile(wheel_file).extractall(unpacked)
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
    for path in ("README.md", "docs/install.md", "docs/tutorials/student.md", "examples/github-actions.yml"):
        text = (ROOT / path).read_text()
        assert re.search(rf"pip install torch==2\.13\.0 {re.escape(pin)} --index-url", text), path


def test_metadata_is_complete_and_names_the_distribution():
    import tomllib

    from grader.version import DISTRIBUTION

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION == "torchgrader"
    assert project["license"] == "MIT" and (ROOT / "LICENSE").is_file()
    assert project["requires-python"] == ">=3.11" and project["readme"] == "README.md"
    assert project["keywords"] and {"Homepage", "Documentation", "Source", "Issues"} <= set(project["urls"])
    assert "Programming Language :: Python :: 3.11" in project["classifiers"]
    assert project["scripts"]["grader"] == project["scripts"][DISTRIBUTION] == "grader.cli.main:run"


# Every install line of the docs, the README and the examples: `pip install ...` of the grader
# names the distribution (never PyPI's unrelated `grader`), after torch.
INSTALL_FILES = ("README.md", "examples/github-actions.yml", *sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md")))


@pytest.mark.parametrize("path", INSTALL_FILES)
def test_install_lines_name_torchgrader_after_torch(path):
    text = (ROOT / path).read_text()
    for line in text.splitlines():
        words = re.findall(r"pip install ([^#`]*)", line)
        for args in words:
            named = [w.strip("'\"") for w in args.split() if not w.startswith("-")]
            assert not any(re.fullmatch(r"grader(\[.*\])?(==.*)?", w) for w in named), (path, line)
            assert not any(re.match(r"grader\s*@", w) for w in named), (path, line)
    assert not re.search(r"[\"']grader @ ", text), path
    grader_at = [m.start() for m in re.finditer(r"pip install [^\n]*torchgrader", text)]
    torch_at = [m.start() for m in re.finditer(r"pip install [^\n]*torch==2\.13\.0", text)]
    if grader_at:
        assert torch_at and min(torch_at) < min(grader_at), f"{path}: torch must be installed first"


def _venv_python(venv):
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def installed(wheel_file, tmp_path_factory):
    """A fresh virtual environment with torch 2.13.0, then the built wheel and its dependencies, as
    the install page says. Skipped where torch 2.13.0 cannot be installed (no wheel on this disk or
    index within reach); a wheel that then fails to install is a failure."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(_venv_python(venv)), "-m", "pip", "install", "--quiet", "--no-compile", "--retries", "1"]
    torch = subprocess.run([*pip, "torch==2.13.0"], capture_output=True, text=True, timeout=600)
    if torch.returncode != 0:
        pytest.skip(f"torch 2.13.0 cannot be installed here: {torch.stderr.strip()[-300:]}")
    grader = subprocess.run([*pip, str(wheel_file)], capture_output=True, text=True, timeout=600)
    assert grader.returncode == 0, grader.stderr[-2000:]
    return venv


def test_the_installed_wheel_checks_a_students_work(installed, tmp_path):
    """`torchgrader check` and `check()` from a script, in the fresh environment: nothing from this
    checkout on the path."""
    (tmp_path / "work.py").write_bytes((EXAMPLES / "custom_layer" / "alice.py").read_bytes())
    env = {"PATH": f"{installed / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "COLUMNS": "200"}
    assert "PYTHONPATH" not in env
    checked = subprocess.run([str(installed / "bin" / "torchgrader"), "check", "custom_layer", "work.py"],
                             capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    assert "not your grade" in " ".join(checked.stdout.split())
    script = ('exec(open("work.py").read())\n'
              'import grader\n'
              'from grader import check\n'
              'result = check("custom_layer")\n'
              'print(repr(result))\n'
              'print("from", grader.__file__)\n'
              'print("score", result.score, result.max_score, result.passed)\n')
    ran = subprocess.run([str(_venv_python(installed)), "-c", script], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=300)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    assert f"from {installed}" in ran.stdout and str(ROOT) not in ran.stdout
    score = re.search(r"^score (\S+) (\S+) (\S+)$", ran.stdout, re.M)
    assert score and score.group(1) == score.group(2) and score.group(3) == "True", ran.stdout[-2000:]
    assert os.access(installed / "bin" / "grader", os.X_OK)
