"""Hostile: threads that never stop: one spins, one prints, one keeps patching the namespace."""
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


import threading
import time


def spin():
    while True:
        pass


def chatter():
    while True:
        print("HOSTILE thread still running")
        time.sleep(0.01)


def meddle():
    while True:
        globals()["MyLinear"] = MyLinear
        time.sleep(0.001)


for target in (spin, chatter, meddle):
    threading.Thread(target=target).start()
