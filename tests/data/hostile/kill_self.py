"""Hostile: sends itself SIGKILL.

Inside the sandbox it is PID 1 of its own PID namespace, and the kernel ignores SIGKILL sent to
that process from inside the namespace: it goes on and is graded."""
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
import signal

os.kill(os.getpid(), signal.SIGKILL)
print("HOSTILE still alive after SIGKILL to myself")
