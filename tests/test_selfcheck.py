"""check() inside a notebook: the public tests on the live objects, shown as a table."""

import os
import subprocess
import sys

import pytest

from conftest import EXAMPLES

SESSION = '''
import torch
from torch import nn

class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None

    def forward(self, x):
        return x @ self.weights  # the bias is missing

torch.manual_seed(7)
before = torch.rand(1)
torch.manual_seed(7)
from grader import check
import time, grader.selfcheck.runner as selfcheck
started = time.monotonic()
result = check("custom_layer")
first = time.monotonic() - started
assert torch.equal(torch.rand(1), before), "check() changed the notebook's random state"
judge = selfcheck._judge.process.pid
started = time.monotonic()
again = check("custom_layer")
second = time.monotonic() - started
assert selfcheck._judge.process.pid == judge, "the judge was not kept warm"
print(repr(result))
print(result._repr_html_())
print("SCORE", result.score, result.max_score, again.score)
print(f"TIMES first {first:.2f} s, second {second:.2f} s")
'''


def test_check_runs_public_tests_on_live_objects(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}  # the release made from the checkout
    done = subprocess.run([sys.executable, "-c", SESSION], capture_output=True, text=True, timeout=300,
                          env=env)
    assert done.returncode == 0, done.stderr
    score = next(line for line in done.stdout.splitlines() if line.startswith("SCORE"))
    _, got, total, again = score.split()
    assert got == again and float(got) < float(total)
    assert "[FAILED] forward(x) returns x @ weights + bias" in done.stdout
    assert "a missing or wrong bias" in done.stdout
    assert "These are not your grade: hidden tests" in done.stdout
    html = next(line for line in done.stdout.splitlines() if line.startswith('<div class="grader-check"'))
    assert ">failed</td>" in html and ">passed</td>" in html and "white-space:pre-wrap" in html
    assert "table-layout:fixed" in html and "✅" not in html
    print(next(line for line in done.stdout.splitlines() if line.startswith("TIMES")))


KERNEL_CELLS = [
    "import torch\nfrom torch import nn\nclass MyLinear(nn.Module):\n"
    "    def __init__(self, i, o, bias=True):\n        super().__init__()\n"
    "        self.weights = nn.Parameter(torch.randn(i, o))\n"
    "        self.bias = nn.Parameter(torch.randn(o)) if bias else None\n"
    "    def forward(self, x):\n        return x @ self.weights + self.bias",
    "from grader import check\ncheck(RELEASE)",
]


def test_check_in_a_real_jupyter_kernel_from_a_release(tmp_path):
    pytest.importorskip("ipykernel")
    import nbformat
    from nbclient import NotebookClient

    release = tmp_path / "custom_layer"
    made = subprocess.run([sys.executable, "-m", "grader", "release", "custom_layer", "-o", str(release)],
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    cells = [nbformat.v4.new_code_cell(c.replace("RELEASE", repr(str(release)))) for c in KERNEL_CELLS]
    notebook = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(notebook, timeout=240, kernel_name="python3").execute()
    data = notebook.cells[1].outputs[0]["data"]
    assert ">passed</td>" in data["text/html"] and ">failed</td>" not in data["text/html"]
    assert "These are not your grade" in data["text/plain"]


def test_check_in_a_submitted_notebook_does_nothing_while_graded(grade, tmp_path):
    source = (EXAMPLES / "custom_layer" / "alice.py").read_text()
    (tmp_path / "zoe.py").write_text(source + '\nfrom grader import check\ncheck("custom_layer")\n')
    graded = grade("custom_layer", tmp_path, timeout=6, memory=512 * 1024**2)
    assert graded.row("zoe").score == 10 and graded.row("zoe").message == "all tests passed"
