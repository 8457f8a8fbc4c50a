"""Hostile: prints about 300 MB."""
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
        out = x @ self.weights
        if self.bias is not None:
            out = out + self.bias
        return out


import sys

line = "HOSTILE flood " + "x" * (1024 * 1024 - 15) + "\n"
for _ in range(300):
    sys.stdout.write(line)
sys.stdout.flush()
print("HOSTILE flood done")
