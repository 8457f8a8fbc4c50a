"""Hostile: starts daemons (own session, double fork) that would outlive grading."""
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


import ctypes
import os
import time

for name in ("hostile-daemon1", "hostile-daemon2"):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME: what /proc/*/comm shows
            if name.endswith("2"):
                os.execv("/bin/sleep", ["sleep", "4343"])
            while True:
                time.sleep(1000)
        os._exit(0)
print("HOSTILE daemons started")
