import torch
import torch.nn as nn

# 선형 레이어 직접 구현
class MyLiner(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        if bias:
            self.bias = nn.Parameter(torch.randn(out_features))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        out = x @ self.weights
        if self.bias is not None:
            out += self.bias
        return out
