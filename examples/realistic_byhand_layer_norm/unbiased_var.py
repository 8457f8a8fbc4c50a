# my layernorm. checked against nn.LayerNorm -> close but not equal?? (tolerance problem I think)
import torch
from torch import nn


class MyLayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, keepdim=True)
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias


x = torch.randn(4, 6)
print((MyLayerNorm(6)(x) - nn.LayerNorm(6)(x)).abs().max())
