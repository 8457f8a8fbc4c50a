# Assignment: training_loop
# mistake: optimizer.step() comes before loss.backward()
import torch
import torch.nn as nn


def train(model, inputs, labels, criterion, optimizer, epochs):
    losses = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        optimizer.step()
        loss.backward()
        losses.append(loss.item())
    return losses


def manual_sgd_step(model, lr):
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
            p.grad.zero_()


# demo: fit y = 3x + 1
torch.manual_seed(0)
x = torch.randn(64, 1)
y = 3 * x + 1 + 0.1 * torch.randn(64, 1)
net = nn.Linear(1, 1)
history = train(net, x, y, nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.1), 50)
print("first and last loss:", history[0], history[-1])
print("weight", net.weight.item(), "bias", net.bias.item())

loss = nn.MSELoss()(net(x), y)
loss.backward()
manual_sgd_step(net, 0.1)
print("after a manual step:", nn.MSELoss()(net(x), y).item())
