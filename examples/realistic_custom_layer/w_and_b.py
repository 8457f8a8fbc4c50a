# %% [markdown]
# Exercise 1: y = xW + b, with W and b as in the lecture's notation

# %%
import torch
from torch import nn


# %%
class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.W = nn.Parameter(torch.randn(in_features, out_features) * 0.1)
        self.b = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x):
        out = x @ self.W
        if self.b is not None:
            out = out + self.b
        return out


# %%
layer = MyLinear(3, 2)
print(layer(torch.randn(4, 3)).shape)
