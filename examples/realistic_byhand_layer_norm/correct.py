# LayerNorm 직접 구현 (hand-written, as in the lecture)
import torch
import torch.nn as nn


class MyLayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))

    def forward(self, x):
        mu = x.mean(-1, keepdim=True)
        sigma2 = x.var(-1, keepdim=True, unbiased=False)
        x_hat = (x - mu) / torch.sqrt(sigma2 + self.eps)
        return self.weight * x_hat + self.bias


x = torch.randn(2, 3, 6)
print(torch.allclose(MyLayerNorm(6)(x), nn.LayerNorm(6)(x), atol=1e-5))
