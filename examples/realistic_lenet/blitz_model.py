# PyTorch 60-minute blitz, "Neural Networks" and "Training a classifier", typed along at home
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torchvision                      # not installed where this is graded
import torchvision.transforms as transforms
import matplotlib.pyplot as plt


class Model(nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        # 1 input image channel, 6 output channels, 5x5 square convolution kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        # an affine operation: y = Wx + b
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5*5 from image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        # Max pooling over a (2, 2) window
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        # If the size is a square, you can specify with a single number
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)  # flatten all dimensions except the batch dimension
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Model()
print(net)

input = torch.randn(1, 1, 32, 32)
out = net(input)
print(out.size)
print(output)          # scratch line: `output` is defined further down

criterion = nn.MSELoss()
optimizer = optim.SGD(net.parameters(), lr=0.01)
losses = []
for step in range(20):
    optimizer.zero_grad()
    output = net(input)
    loss = criterion(output, torch.randn(1, 10))
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

plt.plot(losses)
plt.title("training loss")
plt.show()
