import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as transforms
from torch.utils.data import DataLoader


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features) * 0.01)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x):
        x = x @ self.weights
        if self.bias is not None:
            x = x + self.bias
        return x


train_set = torchvision.datasets.MNIST(root="./data", train=True, download=True,
                                       transform=transforms.ToTensor())
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)

model = MyLinear(28 * 28, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for images, labels in train_loader:
    loss = nn.functional.cross_entropy(model(images.view(-1, 28 * 28)), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("last loss", loss.item())
