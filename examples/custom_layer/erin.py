import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        # requires_grad=True 이면 학습 되는거 아닌가요?
        self.weights = torch.randn(in_features, out_features, requires_grad=True)
        if bias:
            self.bias = torch.randn(out_features, requires_grad=True)
        else:
            self.bias = None

    def forward(self, x):
        out = x @ self.weights
        if self.bias is not None:
            out = out + self.bias
        return out


layer = MyLinear(3, 2)
x = torch.randn(4, 3)
print(layer(x))
print("num params:", len(list(layer.parameters())))
