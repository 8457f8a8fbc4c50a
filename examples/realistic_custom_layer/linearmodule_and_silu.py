# d2l exercise: custom layers. SiLU from the activation chapter is in here too.
import torch
from torch import nn


class SiLU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class Linearmodule(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        if bias:
            self.bias = nn.Parameter(torch.randn(out_features))
        else:
            self.register_parameter("bias", None)

    def forward(self, X):
        linear = torch.matmul(X, self.weights)
        if self.bias is not None:
            linear = linear + self.bias
        return linear


act = SiLU()
layer = Linearmodule(5, 3)
print(act(layer(torch.rand(2, 5))))
