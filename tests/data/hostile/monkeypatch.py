"""Hostile: forward is wrong (zeros), then it patches what a comparison could use.

torch's arithmetic and reductions, torch.testing, numpy, a fake pytest module, and the grader's own
comparators: they live in its own sandbox, while the comparison runs in the judge."""
import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        if bias:
            self.bias = nn.Parameter(torch.randn(out_features))
        else:
            self.bias = None

    def forward(self, x):
        return torch.zeros(*x.shape[:-1], self.weights.shape[1])


import sys
import types

import numpy

import grader.judge.compare
import grader.judge.plugin
import grader.sandbox.wire

torch.Tensor.__sub__ = lambda self, other: torch.zeros_like(self)
torch.Tensor.__rsub__ = lambda self, other: torch.zeros_like(self)
torch.Tensor.abs = lambda self: torch.zeros_like(self)
torch.Tensor.max = lambda self, *args, **kwargs: torch.tensor(0.0)
torch.Tensor.__eq__ = lambda self, other: True
torch.Tensor.__ne__ = lambda self, other: False
torch.abs = lambda *args, **kwargs: torch.tensor(0.0)
torch.max = lambda *args, **kwargs: torch.tensor(0.0)
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(a, dtype=torch.bool)
torch.testing.assert_close = lambda *args, **kwargs: None
numpy.allclose = numpy.array_equal = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None

fake_pytest = types.ModuleType("pytest")
fake_pytest.fail = fake_pytest.skip = lambda *args, **kwargs: None
fake_pytest.approx = lambda expected, *args, **kwargs: types.SimpleNamespace(__eq__=lambda other: True)
sys.modules["pytest"] = fake_pytest

grader.judge.compare.assert_close = lambda *args, **kwargs: None
grader.judge.compare.fail = lambda *args, **kwargs: None
grader.judge.compare.Mismatch = type("Mismatch", (Exception,), {})
grader.judge.plugin.JudgePlugin.pytest_runtest_makereport = lambda *args, **kwargs: None
grader.sandbox.wire.decode_frames = lambda data: []
for name, module in list(sys.modules.items()):
    if name.startswith("grader_probes") and module is not None:
        for attribute in dir(module):
            if attribute.startswith("test_"):
                setattr(module, attribute, lambda *args, **kwargs: None)
print("HOSTILE patched torch, numpy, pytest and grader.judge.compare")
