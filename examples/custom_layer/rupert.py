import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        # 가중치 초기화
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        # 편향 (bias=False 이면 None)
        if bias:
            self.bias = nn.Parameter(torch.randn(out_features))
        else:
            self.bias = None

    def forward(self, x):
        # 행렬 곱
        return x @ self.weights


layer = MyLinear(3, 2)
print(layer(torch.randn(4, 3)))
