# MoFan style training script
import torch
import torch.nn as nn
import torch.utils.data as Data

torch.manual_seed(1)    # reproducible

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train(model, loader, criterion, optimizer, epochs, device):
    losses = []
    for epoch in range(epochs):
        for step, (batch_x, batch_y) in enumerate(loader):
            batch_x, batch_y = batch_x.to(device), batch_y.to(device)
            prediction = model(batch_x)
            loss = criterion(prediction, batch_y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        losses.append(loss.item())
    return losses


def manual_sgd_step(model, lr):
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
            p.grad.zero_()


x = torch.unsqueeze(torch.linspace(-1, 1, 100), dim=1)
y = x.pow(2) + 0.2 * torch.rand(x.size())
loader = Data.DataLoader(dataset=Data.TensorDataset(x, y), batch_size=10, shuffle=True)
net = nn.Sequential(nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 1))
print(train(net, loader, nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.2), 3, device))
