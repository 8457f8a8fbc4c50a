# Logistic regression. backward: let torch do the derivative (less error-prone than by hand)
import torch
import torch.nn as nn


class LR(nn.Module):
    def __init__(self, dim, lr=torch.scalar_tensor(0.01)):
        super(LR, self).__init__()
        self.w = torch.zeros(dim, 1, dtype=torch.float)
        self.b = torch.scalar_tensor(0)
        self.grads = {"dw": torch.zeros(dim, 1, dtype=torch.float), "db": torch.scalar_tensor(0)}
        self.lr = lr

    def forward(self, x):
        return self.sigmoid(torch.matmul(self.w.T, x) + self.b)

    def sigmoid(self, z):
        return 1 / (1 + torch.exp(-z))

    def backward(self, x, yhat, y):
        w = self.w.clone().requires_grad_(True)
        b = self.b.clone().requires_grad_(True)
        p = self.sigmoid(w.T @ x + b)
        loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
        dw, db = torch.autograd.grad(loss, [w, b])
        self.grads["dw"] = dw
        self.grads["db"] = db

    def optimize(self):
        self.w = self.w - self.lr * self.grads["dw"]
        self.b = self.b - self.lr * self.grads["db"]
