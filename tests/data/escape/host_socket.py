"""Escape: connect to unix sockets on the host (a read-only mount does not stop connect()):
a path the test listens on outside the submissions, and an abstract socket."""
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

import socket

for address in ("/var/tmp/grader-escape/host.sock", "/run/grader-escape.sock", "\0grader-escape"):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1)
            client.connect(address)
            client.sendall(b"ESCAPED")
        report(repr(address), "connected")
    except OSError as error:
        report(repr(address), f"refused {error.errno}")
