"""`grader release`: what students get holds no solution and no hidden test, and checks offline."""

import json
import os
import re
import subprocess
import sys

import nbformat
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
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}  # bytecode of a test run: never committed
    allowed = {"README.md", "release.json", "reference.obs", "starter.ipynb",
               *(p.name for p in assignment.test_files)}
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
    cells = json.loads((release / "starter.ipynb").read_text())["cells"]
    text = "".join(cells[0]["source"])
    assert "grader check . starter.ipynb" in text and "check()" in text
    assert "grader check custom_layer" not in text and "not your grade" in text
    # One instruction, not the starter's own (for the bundled name) and the release's beside it.
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert markdown.count("grader check") == 1 and "How to check your work" not in markdown
    assert 'check("custom_layer")' not in json.dumps(cells)
    # Without questions marked in the starter, one cell at the end checks them all.
    assert "".join(cells[-1]["source"]) == "from grader import check\ncheck()"


def test_the_release_readme_installs_and_checks_from_inside_the_folder(release):
    """README.md: CPU torch first, then the grader with Jupyter; the command that works from inside
    the folder (the one `grader release` prints, run there); what public checks are not."""
    readme = (release / "README.md").read_text()
    cpu = readme.index("pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu")
    assert cpu < readme.index("pip install torchgrader jupyter ipykernel")
    assert "grader check . starter.ipynb" in readme and "They are not your grade." in readme
    made = grader("release", "custom_layer", "-o", str(release))
    command = re.search(r"inside that folder: (grader check [^ ]+ [^ ]+)", made.stdout).group(1)
    assert command == "grader check . starter.ipynb"
    result = grader(*command.split()[1:], cwd=release)
    assert result.returncode == 1, result.stderr  # the starter passes nothing yet
    assert "Public checks: 0 / 7 points" in " ".join(result.stdout.split())
    assert "give a bundled name" not in result.stdout + result.stderr


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
    assert "warning: not sandboxed" in out and "the sandbox is off on macOS" in out
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


Q1_LAYER = """class MyLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        # BEGIN SOLUTION placeholder=self.weights = self.bias = None  # TODO
        self.weights = nn.Parameter(torch.randn(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return x @ self.weights + self.bias
        # END SOLUTION
"""
Q1_TEST = """# TEST points=2 name=forward_values question=q1 description="forward(x) returns x @ weights + bias"
layer = MyLinear(3, 2)
with torch.no_grad(): layer.weights.fill_(0.5); layer.bias.fill_(1.0)
observe(out=layer(torch.linspace(-1, 1, 12).reshape(4, 3)))
"""
Q2_DOUBLE = "def double(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n"
QUESTIONS = [
    ("## Question 1: a linear layer", Q1_LAYER, [Q1_TEST]),
    ("## Question 2: double it", Q2_DOUBLE,
     ["# TEST points=1 name=doubles question=q2\nobserve(y=double(torch.arange(3.0)))\n",
      "# TEST points=1 name=doubles_secretly hidden question=q2\nobserve(y=double(torch.ones(2, 2)))\n"]),
]


@pytest.fixture(scope="module")
def two_questions(tmp_path_factory):
    """A solution notebook with two questions, assigned, then released."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    root = tmp_path_factory.mktemp("questions")
    (root / "assignments").mkdir()
    (root / "reference").mkdir()
    notebook = new_notebook()
    notebook.metadata["grader"] = {"name": "two_questions", "title": "Two questions"}
    notebook.cells = [new_markdown_cell("# Two questions"), new_code_cell("import torch\nfrom torch import nn")]
    for heading, code, tests in QUESTIONS:
        notebook.cells += [new_markdown_cell(heading), new_code_cell(code), *map(new_code_cell, tests)]
    nbformat.write(notebook, str(root / "solution.ipynb"))
    assigned = grader("assign", str(root / "solution.ipynb"), "-o",
                      str(root / "assignments" / "two_questions"), "--timeout", "20", "--memory", "1G")
    assert assigned.returncode == 0, assigned.stderr
    released = grader("release", str(root / "assignments" / "two_questions"), "-o",
                      str(root / "two_questions"))
    assert released.returncode == 0, released.stderr
    return root


def test_tests_name_their_question_and_the_starter_gets_a_check_cell_after_each(two_questions):
    tests = (two_questions / "assignments" / "two_questions" / "test_two_questions.py").read_text()
    assert "@question('q1')\n@points(2)\ndef test_forward_values" in tests
    manifest = json.loads((two_questions / "two_questions" / "release.json").read_text())
    assert manifest["questions"] == {"q1": ["test_forward_values"], "q2": ["test_doubles"]}
    cells = json.loads((two_questions / "two_questions" / "starter.ipynb").read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells]
    checks = [i for i, s in enumerate(sources) if s.startswith("from grader import check")]
    assert [sources[i] for i in checks] == ['from grader import check\ncheck("q1")',
                                           'from grader import check\ncheck("q2")']
    assert sources[checks[0] - 1].startswith("class MyLinear")
    assert sources[checks[1] - 1].startswith("def double")
    assert sum("grader check" in s for s in sources) == 1  # one instruction cell
    assert "doubles_secretly" not in json.dumps(cells)  # the marks of hidden tests are not carried


CHECK_A_QUESTION = """
import torch
def double(x):
    return 2 * x
from grader import check
r = check("q2")
print(r.score, r.max_score, len(r.report["tests"]))
r = check()
print(r.score, r.max_score)
try:
    check("q9")
except Exception as error:
    print(error)
"""


def test_check_takes_a_question(two_questions):
    """check("q2") in a notebook in the release folder: that question's public tests only."""
    done = subprocess.run([sys.executable, "-c", CHECK_A_QUESTION], capture_output=True, text=True,
                          timeout=300, cwd=two_questions / "two_questions")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "1.0 1.0 1" and lines[1] == "1.0 3.0", lines
    assert "'q9' is not a question of this release (q1, q2)" in lines[2]
