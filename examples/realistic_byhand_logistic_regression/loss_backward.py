import torch
import torch.nn as nn


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
        w = self.w.detach().requires_grad_()
        b = self.b.detach().requires_grad_()
        loss = nn.functional.binary_cross_entropy(self.sigmoid(w.T @ x + b), y)
        loss.backward()
        self.grads["dw"], self.grads["db"] = w.grad, b.grad

    def optimize(self):
        self.w = self.w - self.lr * self.grads["dw"]
        self.b = self.b - self.lr * self.grads["db"]


model = LR(2)
x = torch.randn(2, 10)
y = (x[0:1] > 0).float()
for epoch in range(100):
    yhat = model(x)
    model.backward(x, yhat, y)
    model.optimize()
print(model.w.T, model.b)
