"""Correct: the layers are named conv1..fc3 and also wrapped in nn.Sequential blocks."""
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        self.features = nn.Sequential(self.conv1, nn.ReLU(), nn.MaxPool2d(2),
                                      self.conv2, nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(self.fc1, nn.ReLU(), self.fc2, nn.ReLU(), self.fc3)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))
