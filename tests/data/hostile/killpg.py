"""Hostile: SIGKILL to its whole process group."""
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
import time

os.killpg(0, 9)
time.sleep(2)  # the kill takes a few milliseconds to land: wait, so that the score does not depend on it
print("HOSTILE still alive after killpg(0, 9)")
