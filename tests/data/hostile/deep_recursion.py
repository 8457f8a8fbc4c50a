"""Hostile: lifts the recursion limit, then recurses through C code until the stack overflows."""
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

sys.setrecursionlimit(10**6)


def down(depth):
    return list(map(down, [depth + 1]))  # map() is C: every level also takes C stack


print("HOSTILE recursing", flush=True)
down(0)
