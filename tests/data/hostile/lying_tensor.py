"""Hostile: forward returns a tensor subclass (holding zeros) whose comparisons all lie."""
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
            out = out + self.bias
        return out



class Liar(torch.Tensor):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __sub__(self, other):
        return torch.zeros_like(torch.Tensor.as_subclass(self, torch.Tensor))

    __rsub__ = __sub__

    def abs(self):
        return torch.zeros_like(torch.Tensor.as_subclass(self, torch.Tensor))

    def max(self, *args, **kwargs):
        return torch.tensor(0.0)

    def allclose(self, *args, **kwargs):
        return True

    def tolist(self):
        return "everything is fine"

    def __repr__(self):
        return "tensor([[correct]])"


def forward(self, x):
    return torch.zeros(*x.shape[:-1], self.weights.shape[1]).as_subclass(Liar)


MyLinear.forward = forward
