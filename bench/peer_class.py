"""The benchmark's class: N ``custom_layer`` notebooks in a fixed mix of correct ones and common
mistakes, and the assignment's checks rewritten as plain Python for the peers (nbgrader, otter,
nbclient) to run inside the student's kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HEADER = "%matplotlib inline\nimport torch\nfrom torch import nn\n"
CORRECT = '''class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None

    def forward(self, x):
        out = x @ self.weights
        return out if self.bias is None else out + self.bias
'''
DEMO = "layer = MyLinear(3, 2)\nprint(layer(torch.randn(4, 3)).shape)\n"
VARIANTS = {  # name -> (solution cell, demo cell, fully correct?)
    "correct": (CORRECT, DEMO, True),
    "correct_matmul": (CORRECT.replace("x @ self.weights", "torch.matmul(x, self.weights)"), DEMO, True),
    "raises_later": (CORRECT, DEMO + "print(layer.weight)  # AttributeError: a typo in the demo\n", True),
    "no_bias": (CORRECT.replace("return out if self.bias is None else out + self.bias", "return out"),
                DEMO, False),
    "misspelled": (CORRECT.replace("def forward", "def forwrad"), "", False),
    "plain_tensor": (CORRECT.replace("nn.Parameter(torch.randn(in_features, out_features))",
                                     "torch.randn(in_features, out_features, requires_grad=True)")
                     .replace("nn.Parameter(torch.randn(out_features))",
                              "torch.randn(out_features, requires_grad=True)"), DEMO, False),
    "transposed": (CORRECT.replace("randn(in_features, out_features)", "randn(out_features, in_features)")
                   .replace("x @ self.weights", "x @ self.weights.T"), DEMO, False),
    "unfinished": (CORRECT.split("    def forward")[0] + "    def forward(self, x):\n"
                   "        raise NotImplementedError\n", "", False),
}
MIX = ["correct"] * 5 + ["correct_matmul", "raises_later", "no_bias", "misspelled", "plain_tensor",
                         "transposed", "unfinished"]

# The assignment's public and hidden tests, as code that runs inside the student's kernel (how the
# peers work): the same checks on the same fixed weights and inputs, the same points.
CHECKS = '''import torch as _torch
from torch.testing import assert_close as _close
_W = _torch.tensor([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]])
_B = _torch.tensor([0.5, -1.0])

def _fixed(MyLinear, i=3, o=2, bias=True, w=_W, b=_B):
    layer = MyLinear(i, o, bias=bias)
    with _torch.no_grad():
        layer.weights.copy_(w)
        if bias:
            layer.bias.copy_(b)
    return layer

def _shapes(layer):
    return {name: list(p.shape) for name, p in layer.named_parameters()}

def check_parameters_registered(MyLinear):
    assert _shapes(MyLinear(4, 3)) == {"weights": [4, 3], "bias": [3]}

def check_no_bias_parameter(MyLinear):
    assert _shapes(MyLinear(4, 3, bias=False)) == {"weights": [4, 3]}

def check_forward_values(MyLinear):
    x = _torch.linspace(-1, 1, 12).reshape(4, 3)
    _close(_fixed(MyLinear)(x), x @ _W + _B)

def check_batch_shapes(MyLinear):
    layer = _fixed(MyLinear)
    for shape in ((1, 3), (7, 3), (2, 5, 3)):
        assert list(layer(_torch.ones(shape)).shape) == list(shape[:-1]) + [2]

def check_forward_without_bias(MyLinear):
    x = _torch.linspace(-2, 3, 15).reshape(5, 3)
    layer = _fixed(MyLinear, bias=False)
    assert sorted(n for n, _ in layer.named_parameters()) == ["weights"]
    _close(layer(x), x @ _W)

def check_gradients(MyLinear):
    w = _torch.tensor([[0.7, -0.1, 0.2], [0.0, 0.5, -0.3]])
    layer = _fixed(MyLinear, 2, 3, w=w, b=_torch.tensor([0.1, 0.2, 0.3]))
    x = _torch.tensor([[1.0, 2.0], [-1.0, 0.5], [0.25, -2.0]])
    c = _torch.tensor([1.0, -2.0, 3.0])
    (layer(x) * c).sum().backward()
    params = dict(layer.named_parameters())
    _close(params["weights"].grad, x.T @ c.expand(3, 3))
    _close(params["bias"].grad, 3 * c)

def check_to_moves_parameters(MyLinear):
    layer = _fixed(MyLinear).to(dtype=_torch.float64)
    dtypes = {n: p.dtype for n, p in layer.named_parameters()}
    assert dtypes == {"weights": _torch.float64, "bias": _torch.float64}
    _close(layer(_torch.ones(2, 3, dtype=_torch.float64)), (_torch.ones(2, 3) @ _W + _B).double())
'''
TESTS = [("parameters_registered", 2, False), ("no_bias_parameter", 1, False), ("forward_values", 2, False),
         ("batch_shapes", 1, False), ("forward_without_bias", 1, True), ("gradients", 2, True),
         ("to_moves_parameters", 1, True)]
MAX_SCORE = sum(points for _, points, _ in TESTS)

def make_class(n: int) -> dict[str, str]:
    """Student id -> variant, in the fixed mix."""
    return {f"student{index:04d}": MIX[index % len(MIX)] for index in range(n)}


def student_cells(variant: str) -> list:
    solution, demo, _ = VARIANTS[variant]
    return [new_markdown_cell("# A custom linear layer"), new_code_cell(HEADER), new_code_cell(solution),
            new_code_cell(demo)]


def write_plain_class(folder: Path, students: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for student, variant in students.items():
        nbformat.write(new_notebook(cells=student_cells(variant), metadata=KERNEL), folder / f"{student}.ipynb")


KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
