"""Hostile: kills its parent.

Inside the sandbox os.getppid() is 0 (the parent lives outside its PID namespace), so this is
kill(0, 9): its own process group."""
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

print("HOSTILE parent pid as seen from inside:", os.getppid())
os.kill(os.getppid(), 9)
time.sleep(2)  # the kill takes a few milliseconds to land: wait, so that the score does not depend on it
print("HOSTILE still alive after killing my parent")
