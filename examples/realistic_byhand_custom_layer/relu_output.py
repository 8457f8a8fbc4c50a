import torch
from torch import nn


class MyLinear(nn.Module):
    """A fully connected layer (with its activation, as in the lecture's MLP)."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None

    def forward(self, x):
        out = x @ self.weights
        if self.bias is not None:
            out = out + self.bias
        return torch.relu(out)


net = nn.Sequential(MyLinear(4, 8), MyLinear(8, 1))
print(net(torch.randn(3, 4)))
