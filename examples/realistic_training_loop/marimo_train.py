import marimo

__generated_with = "0.10.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo
    return (mo,)


@app.cell
def _():
    import torch
    from torch import nn
    return nn, torch


@app.cell
def _(nn, torch):
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    inputs = torch.randn(16, 3)
    labels = inputs.sum(1, keepdim=True)
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    epochs = 5
    return criterion, epochs, inputs, labels, model, optimizer


@app.cell
def _(criterion, epochs, inputs, labels, model, optimizer):
    def train():
        losses = []
        for _ in range(epochs):
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses
    return (train,)


@app.cell
def _(torch):
    def manual_sgd_step(model, lr):
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
                p.grad.zero_()
    return (manual_sgd_step,)


@app.cell
def _(train):
    train()
    return


if __name__ == "__main__":
    app.run()
