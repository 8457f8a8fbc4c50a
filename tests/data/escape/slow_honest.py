"""Honest, and slow: a correct MyLinear and about a second of its own computation at top level."""
import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None

    def forward(self, x):
        out = x @ self.weights
        return out + self.bias if self.bias is not None else out


import time

started = time.process_time()
a = torch.randn(200, 200)
while time.process_time() - started < 1.0:
    a = torch.tanh(a @ a.T / 200)
print(f"worked {time.process_time() - started:.2f} s of CPU")
