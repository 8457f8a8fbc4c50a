import torch
import torch.nn as nn


class MyLinear(nn.Module):
    """Same layout as nn.Linear: weight is (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(out_features, in_features))
        if bias:
            self.bias = nn.Parameter(torch.randn(out_features))
        else:
            self.bias = None

    def forward(self, x):
        if self.bias is None:
            return x @ self.weights.T
        return x @ self.weights.T + self.bias


layer = MyLinear(3, 2)
print(layer.weights.shape)
print(layer(torch.randn(5, 3)).shape)
