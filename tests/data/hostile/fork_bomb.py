"""Hostile: a fork bomb: every process forks again and again.

Guard: it runs only as PID 1, i.e. inside the sandbox's PID namespace, where every process it
starts dies with it; and, so that a broken sandbox cannot take the test machine down, each
process forks at most 10 times (1024 processes at most) and only for a second and a half, then
sleeps. PID 1 itself sleeps until the soft time limit stops it, then grading goes on."""
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

if os.getpid() == 1:
    if os.fork() == 0:
        stop = time.monotonic() + 1.5
        ctypes.CDLL(None).prctl(15, b"hostile-bomb", 0, 0, 0)  # PR_SET_NAME: what /proc/N/comm shows
        for _ in range(10):
            if time.monotonic() > stop:
                break
            try:
                os.fork()
            except OSError:
                break
        while True:
            time.sleep(1000)
    time.sleep(1.8)
    print("HOSTILE fork bomb:", len([p for p in os.listdir("/proc") if p.isdigit()]), "processes", flush=True)
    time.sleep(1000)
else:
    print("HOSTILE not PID 1: no PID namespace, no fork bomb")
