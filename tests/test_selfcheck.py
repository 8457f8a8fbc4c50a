"""check() inside a notebook: the public tests on the live objects, shown as a table."""

import subprocess
import sys

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
result = check("custom_layer")
assert torch.equal(torch.rand(1), before), "check() changed the notebook's random state"
print(repr(result))
print(result._repr_html_())
print("SCORE", result.score, result.max_score)
'''


def test_check_runs_public_tests_on_live_objects():
    done = subprocess.run([sys.executable, "-c", SESSION], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "SCORE 4.0 6.0" in done.stdout
    assert "[FAILED] forward(x) returns x @ weights + bias" in done.stdout
    assert "a missing or wrong bias" in done.stdout
    assert "<table>" in done.stdout and "Hidden tests also count" in done.stdout


def test_check_in_a_submitted_notebook_does_nothing_while_graded(grade, tmp_path):
    source = (EXAMPLES / "custom_layer" / "alice.py").read_text()
    (tmp_path / "zoe.py").write_text(source + '\nfrom grader import check\ncheck("custom_layer")\n')
    graded = grade("custom_layer", tmp_path, timeout=6, memory=512 * 1024**2)
    assert graded.row("zoe").score == 10 and graded.row("zoe").message == "all tests passed"
