"""LeNet-5 for MNIST: the model, and a training script run only from the command line."""
import torch
import torch.nn as nn

try:
    import torchvision
    from torchvision import transforms
except ImportError:  # the model itself does not need torchvision
    torchvision = None


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        return self.fc3(x)


def train(epochs=2):
    data = torchvision.datasets.MNIST("./data", train=True, download=True,
                                      transform=transforms.Compose([transforms.Resize(32),
                                                                    transforms.ToTensor()]))
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True)
    model = CNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for images, labels in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
    return model


if __name__ == "__main__":
    train()
