"""Hostile: forward returns a dict posing as a tensor (the wire format's own tensor marker)."""
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



class PosingDict(dict):
    shape = torch.Size([4, 2])
    dtype = torch.float32
    device = torch.device("cpu")


def forward(self, x):
    rows = x.shape[0] if x.dim() == 2 else 4
    return PosingDict({"$t": ["float32", [rows, 2], 0, rows * 8, "cpu", False]})


MyLinear.forward = forward
