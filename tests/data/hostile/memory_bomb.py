"""Hostile: forward allocates 64 MB tensors until memory runs out."""
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



def forward(self, x):
    hoard = []
    while True:
        hoard.append(torch.empty(16 << 20))


MyLinear.forward = forward
