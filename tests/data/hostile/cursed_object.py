"""Hostile: forward returns an object that raises on every attribute access."""
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



class CursedError(Exception):
    def __str__(self):
        raise CursedError()


class Cursed:
    def __getattribute__(self, name):
        raise CursedError()

    def __getattr__(self, name):
        raise CursedError()

    def __len__(self):
        raise CursedError()

    def __iter__(self):
        raise CursedError()

    def __bool__(self):
        raise CursedError()

    def __eq__(self, other):
        raise CursedError()

    def __repr__(self):
        raise CursedError()

    __str__ = __repr__
    __hash__ = None


def forward(self, x):
    return Cursed()


MyLinear.forward = forward
