# Assignment: logistic_regression
# mistake: w is stored as a row, shape (1, dim), instead of (dim, 1); the code is consistent with it
import torch
import torch.nn as nn


class LR(nn.Module):
    def __init__(self, dim, lr=torch.scalar_tensor(0.01)):
        super().__init__()
        self.w = torch.zeros(1, dim)  # 가중치 (행 벡터)
        self.b = torch.scalar_tensor(0)
        self.grads = {"dw": torch.zeros(1, dim), "db": torch.scalar_tensor(0)}
        self.lr = lr

    def forward(self, x):
        return self.sigmoid(self.w @ x + self.b)

    def sigmoid(self, z):
        return 1 / (1 + torch.exp(-z))

    def backward(self, x, yhat, y):
        m = x.shape[1]
        self.grads["dw"] = (1 / m) * (yhat - y) @ x.T  # (1, m) @ (m, dim) -> (1, dim)
        self.grads["db"] = (1 / m) * torch.sum(yhat - y)

    def optimize(self):
        self.w = self.w - self.lr * self.grads["dw"]
        self.b = self.b - self.lr * self.grads["db"]


model = LR(3)
x = torch.randn(3, 10)
print(model.forward(x).shape)
