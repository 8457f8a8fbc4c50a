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
            # 편향 더하기
            out = out + self.bias.detach()
        return out


layer = MyLinear(3, 2)
y = layer(torch.randn(4, 3))
print(y)
y.sum().backward()
print(layer.weights.grad)
