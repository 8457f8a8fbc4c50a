"""Hostile: forward returns a gigantic tensor: rows of 50 million zeros that cost it 4 bytes (an expanded
view), so that whoever copies it runs out of memory."""
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
    return torch.zeros(1).expand(*x.shape[:-1], 50_000_000)


MyLinear.forward = forward
