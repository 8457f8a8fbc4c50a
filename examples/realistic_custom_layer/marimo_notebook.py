import marimo

__generated_with = "0.9.14"
app = marimo.App(width="medium")


@app.cell
def __(MyLinear, torch):
    layer = MyLinear(3, 2)
    layer(torch.ones(2, 3))
    return (layer,)


@app.cell
def __(nn, torch):
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features, bias=True):
            super().__init__()
            self.weights = nn.Parameter(torch.randn(in_features, out_features))
            if bias:
                self.bias = nn.Parameter(torch.randn(out_features))
            else:
                self.bias = None

        def forward(self, x):
            out = x @ self.weights
            if self.bias is not None:
                out = out + self.bias
            return out
    return (MyLinear,)


@app.cell
def __():
    import torch
    from torch import nn
    return nn, torch


if __name__ == "__main__":
    app.run()
