"""Hostile: ignores and blocks SIGALRM (the soft time limit), then loops forever.

Only the hard limit (SIGKILL from outside the sandbox) can stop it."""
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


import signal

signal.signal(signal.SIGALRM, signal.SIG_IGN)
signal.signal(signal.SIGPROF, signal.SIG_IGN)  # the alarm on its CPU time, too
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM, signal.SIGPROF, signal.SIGTERM, signal.SIGINT])
while True:
    pass
