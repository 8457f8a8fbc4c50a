# Exercise 1: custom linear layer (tutorial script, run top to bottom)
import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as transforms
import matplotlib.pyplot as plt

trainset = torchvision.datasets.MNIST(root="./data", train=True, download=True,
                                      transform=transforms.ToTensor())
print(len(trainset))

x = torch.randn(4, 3)
print(x.shape, y.shape)   # scratch line: y was never defined

model_on_gpu = torch.zeros(3).cuda()


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None

    def forward(self, x):
        out = x @ self.weights
        return out + self.bias if self.bias is not None else out


layer = MyLinear(3, 2)
for frame in range(20):          # an "animation" of the outputs
    plt.plot(layer(x).detach().numpy())
    plt.pause(0.25)
plt.show()
