"""Hostile: writes its own 'load' frame, whose value is a list instead of a dict, then exits.

The frames cross into the judge: they must cost this submission its row, never the batch."""
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


import json
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


def raw_frame(header: bytes, blob: bytes = b"") -> bytes:
    return struct.pack("<I", len(header)) + header + struct.pack("<Q", len(blob)) + blob


os.write(result_fd(), raw_frame(json.dumps({"kind": "load", "value": ["not", "a", "dict"]}).encode()))
os._exit(0)
