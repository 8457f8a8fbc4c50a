"""Hostile: kill(-1, 9), then SIGKILL to every process it can see that looks like the grader.

Guard: only as PID 1, i.e. inside the sandbox's PID namespace, where kill(-1) reaches its own
descendants only. Without that namespace these calls would kill every process of this user (the
test runner included), so they are skipped."""
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

if os.getpid() == 1:
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:  # there was nobody else to kill
        pass
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if int(pid) != os.getpid() and (b"grader" in cmdline or b"pytest" in cmdline):
            print("HOSTILE killing", pid, cmdline[:80])
            os.kill(int(pid), signal.SIGKILL)
    print("HOSTILE kill(-1) and the hunt for the grader done")
else:
    print("HOSTILE not PID 1: no PID namespace, the hostile calls are skipped")
