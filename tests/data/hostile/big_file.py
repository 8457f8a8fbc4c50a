"""Hostile: writes a 1 GB file into its working directory (the scratch space)."""
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


import os

chunk = b"\0" * (1024 * 1024)
written = 0
try:
    with open("big.bin", "wb") as handle:
        for _ in range(1024):
            handle.write(chunk)
            handle.flush()
            written += len(chunk)
finally:
    print(f"HOSTILE wrote {written >> 20} MB before stopping", flush=True)
