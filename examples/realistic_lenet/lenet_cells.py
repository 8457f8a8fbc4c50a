# %% [markdown]
# # LeNet on MNIST (VS Code cells)

# %%
import torch
from torch import nn
import torch.nn.functional as F

device = torch.device("cuda")   # written on a laptop with a GPU

# %%
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)

# %%
model = LeNet().cuda()
print(model(torch.randn(4, 1, 32, 32, device=device)).shape)

# %%
print(sum(p.numel() for p in LeNet().parameters()))
