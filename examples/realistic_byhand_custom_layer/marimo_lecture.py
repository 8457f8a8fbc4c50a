import marimo

__generated_with = "0.10.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo
    return (mo,)


@app.cell
def _(mo):
    mo.md(r"""# Lab 3: a linear layer by hand""")
    return


@app.cell
def _(mo):
    mo.md(r"""We write `y = x @ W + b` ourselves, with `nn.Parameter`.""")
    return


@app.cell
def _():
    import torch
    from torch import nn
    return nn, torch


@app.cell
def _(mo):
    mo.md(r"""## The layer""")
    return


@app.cell
def _(nn, torch):
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features, bias=True):
            super().__init__()
            self.weights = nn.Parameter(torch.randn(in_features, out_features) * 0.1)
            self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

        def forward(self, x):
            y = x @ self.weights
            return y + self.bias if self.bias is not None else y
    return (MyLinear,)


@app.cell
def _(mo):
    mo.md(r"""## Try it""")
    return


@app.cell
def _(mo):
    size = mo.ui.slider(1, 8, value=4, label="batch size")
    size
    return (size,)


@app.cell
def _(MyLinear, torch):
    layer = MyLinear(3, 2)
    out = layer(torch.ones(4, 3))
    out.shape
    return layer, out


@app.cell
def _(mo, out):
    mo.md(f"""The output has shape `{tuple(out.shape)}`.""")
    return


@app.cell
def _(mo):
    mo.md(r"""## Questions""")
    return


@app.cell
def _(mo):
    mo.md(r"""1. Why `nn.Parameter`?""")
    return


@app.cell
def _(mo):
    mo.md(r"""2. What does `bias=False` change?""")
    return


if __name__ == "__main__":
    app.run()
