"""Trusted side: a wrong MyLinear that writes a complete stream of its own first (a clean load
frame, perfect-looking probe frames, done), hoping the first frames win."""
import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None

    def forward(self, x):
        out = x @ self.weights * 0
        return out + self.bias if self.bias is not None else out
import os
import struct
import sys


def result_fd():
    """The pipe the sandbox sends observations through: found on the stack, or among the open fds."""
    frame = sys._getframe()
    while frame is not None:
        if isinstance(frame.f_locals.get("result_fd"), int):
            return frame.f_locals["result_fd"]
        frame = frame.f_back
    for name in os.listdir("/proc/self/fd"):
        if int(name) > 2 and os.readlink(f"/proc/self/fd/{name}").startswith("pipe:"):
            return int(name)
    raise RuntimeError("no result pipe")


def frame(header: bytes, blob: bytes = b"") -> bytes:
    return struct.pack("<I", len(header)) + header + struct.pack("<Q", len(blob)) + blob

import json

fd = result_fd()
os.write(fd, frame(json.dumps({"kind": "load", "name": "", "value": {"$d": {"cells": 1, "errors": [],
                                                                         "notes": []}}}).encode()))
for name in ("batch_shapes", "forward_values", "gradients", "registration"):
    os.write(fd, frame(json.dumps({"kind": "probe", "name": name, "value": None}).encode()))
os.write(fd, frame(json.dumps({"kind": "done", "extra": {"seconds": 0.01}}).encode()))
