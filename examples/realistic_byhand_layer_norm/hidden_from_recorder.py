# Hostile: hides the library call from the grader's recorder (it runs in this process). The check
# fails closed: it saw none of the operations a LayerNorm by hand performs.
import torch
import torch.nn.functional as F
from torch import nn


class MyLayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))

    def forward(self, x):
        with torch._C.DisableTorchFunction():
            return F.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)
