import torch
from torch import nn


class MyLinear(nn.Module):
    """x @ weights + bias, with weights of shape (in_features, out_features)."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features) * 0.1)
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_features))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        out = x @ self.weights
        if self.bias is not None:
            out = out + self.bias
        return out
