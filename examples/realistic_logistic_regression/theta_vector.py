# logistic regression, w and b stacked in one theta vector (like Andrew Ng's course)
import torch
import torch.nn as nn


class LR(nn.Module):
    def __init__(self, dim, lr=torch.scalar_tensor(0.01)):
        super().__init__()
        self.theta = torch.zeros(dim + 1, 1)
        self.grads = {"dw": None, "db": None}
        self.lr = lr

    def sigmoid(self, z):
        return 1 / (1 + torch.exp(-z))

    def forward(self, x):
        x1 = torch.cat([torch.ones(1, x.shape[1]), x])
        return self.sigmoid(self.theta.T @ x1)

    def backward(self, x, yhat, y):
        m = x.shape[1]
        self.grads["dw"] = x @ (yhat - y).T / m
        self.grads["db"] = (yhat - y).sum() / m

    def optimize(self):
        self.theta[1:] -= self.lr * self.grads["dw"]
        self.theta[0] -= self.lr * self.grads["db"]
