# custom linear layer, weights like nn.Linear does it
import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(out_features, in_features) * 0.1)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x):
        y = x @ self.weights.T
        return y if self.bias is None else y + self.bias


print(MyLinear(3, 2)(torch.ones(1, 3)))
