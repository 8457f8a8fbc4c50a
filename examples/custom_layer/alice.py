# Assignment: custom_layer
# Alice - MyLinear built from nn.Module / nn.Parameter
import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
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


layer = MyLinear(3, 2)
print(layer)
for name, p in layer.named_parameters():
    print(name, tuple(p.shape))

x = torch.randn(4, 3)
y = layer(x)
print("output shape:", y.shape)

y.sum().backward()
print("weights grad:", layer.weights.grad.shape)
print("bias grad:", layer.bias.grad)
