# Assignment: logistic_regression
# Logistic regression with gradients computed by hand (no autograd)
import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class LogisticRegression(nn.Module):
    def __init__(self, dim, lr=torch.scalar_tensor(0.01)):
        super().__init__()
        self.w = torch.zeros(dim, 1, dtype=torch.float).to(device)
        self.b = torch.scalar_tensor(0).to(device)
        self.grads = {"dw": torch.zeros(dim, 1, dtype=torch.float).to(device),
                      "db": torch.scalar_tensor(0).to(device)}
        self.lr = lr.to(device)

    def forward(self, x):
        z = torch.mm(self.w.T, x) + self.b
        return self.sigmoid(z)

    def sigmoid(self, z):
        return 1 / (1 + torch.exp(-z))

    def backward(self, x, yhat, y):
        m = x.shape[1]
        self.grads["dw"] = (1 / m) * torch.mm(x, (yhat - y).T)
        self.grads["db"] = (1 / m) * torch.sum(yhat - y)

    def optimize(self):
        self.w = self.w - self.lr * self.grads["dw"]
        self.b = self.b - self.lr * self.grads["db"]


# a small demo: two blobs
torch.manual_seed(42)
x = torch.cat([torch.randn(2, 50) + 2, torch.randn(2, 50) - 2], dim=1).to(device)
y = torch.cat([torch.ones(1, 50), torch.zeros(1, 50)], dim=1).to(device)
model = LogisticRegression(2, lr=torch.scalar_tensor(0.1))
for epoch in range(100):
    yhat = model.forward(x)
    model.backward(x, yhat, y)
    model.optimize()
    if epoch % 20 == 0:
        loss = -(y * torch.log(yhat) + (1 - y) * torch.log(1 - yhat)).mean()
        print(f"epoch {epoch}: loss {loss.item():.4f}")
print("accuracy:", ((model.forward(x) > 0.5).float() == y).float().mean().item())
