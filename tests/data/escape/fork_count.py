"""Escape: a fork bomb that counts how many processes it gets (bounded at 500, so that a
broken sandbox cannot harm the machine)."""
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


def report(key, value):
    print(f"ESCAPE {key}: {value}", flush=True)

import os
import time

started = 0
for _ in range(500):
    try:
        pid = os.fork()
    except OSError as error:
        report("fork_refused", error.errno)
        break
    if pid == 0:
        time.sleep(20)
        os._exit(0)
    started += 1
report("forked", started)
