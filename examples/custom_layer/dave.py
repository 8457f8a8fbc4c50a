import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        # weights: (in, out)
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        if bias:
            self.bias = nn.Parameter(torch.randn(out_features))
        else:
            self.bias = None

    def forwrad(self, x):
        y = x @ self.weights
        if self.bias is not None:
            y = y + self.bias
        return y


layer = MyLinear(3, 2)
print(layer)
print([n for n, _ in layer.named_parameters()])
