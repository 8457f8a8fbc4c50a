import torch
from torch import nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features):
        super(MyLinear, self).__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features))

    def forward(self, x):
        return torch.matmul(x, self.weights) + self.bias


layer = MyLinear(3, 2)
print(layer(torch.randn(4, 3)).shape)
