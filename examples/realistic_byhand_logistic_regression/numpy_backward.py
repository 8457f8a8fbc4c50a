# 로지스틱 회귀 - gradient를 numpy로 직접 계산 (by hand, in numpy)
import numpy as np
import torch
from torch import nn


class LR(nn.Module):
    def __init__(self, dim, lr=torch.scalar_tensor(0.01)):
        super().__init__()
        self.w = torch.zeros(dim, 1)
        self.b = torch.scalar_tensor(0)
        self.grads = {"dw": torch.zeros(dim, 1), "db": torch.scalar_tensor(0)}
        self.lr = lr

    def forward(self, x):
        return self.sigmoid(self.w.T @ x + self.b)

    def sigmoid(self, z):
        return 1 / (1 + torch.exp(-z))

    def backward(self, x, yhat, y):
        x_np, error = x.cpu().numpy(), (yhat - y).cpu().numpy()
        m = x_np.shape[1]
        self.grads["dw"] = torch.from_numpy(np.dot(x_np, error.T) / m).to(x.device)
        self.grads["db"] = torch.tensor(float(np.sum(error) / m), device=x.device)

    def optimize(self):
        self.w = self.w - self.lr * self.grads["dw"]
        self.b = self.b - self.lr * self.grads["db"]
