import torch
import torch.nn as nn


class LinearLayer(nn.Module):
    """y = xW + b"""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.empty(in_features, out_features).uniform_(-0.1, 0.1))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x):
        if self.bias is None:
            return x @ self.weights
        return x @ self.weights + self.bias


def train_step(model, x, y, lr=0.1):
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    return loss.item()
