"""Test-only assignment: MyLayerNorm(normalized_shape, eps=1e-5) by hand, as docs/by-hand.md shows
authors: one test of the values, one that they are computed by hand, one of the gradients."""

import torch
from torch import nn

from grader.api import (
    assert_close,
    by_hand,
    construct,
    defined,
    points,
    probe,
    require_method,
)

# What nn.LayerNorm computes with; any LayerNorm written by hand takes a mean (or a sum).
LAYER_NORM = ("torch.nn.functional.layer_norm", "torch.layer_norm", "torch.native_layer_norm",
              "torch.nn.functional.group_norm", "torch.nn.functional.instance_norm",
              "torch.nn.functional.batch_norm")
REDUCTIONS = ("torch.Tensor.mean", "torch.mean", "torch.Tensor.sum", "torch.sum", "torch.Tensor.var",
              "torch.var", "torch.var_mean", "torch.Tensor.std", "torch.std", "torch.std_mean")

X = torch.tensor([[0.5, -1.0, 2.0, 0.0, 1.5, -0.5],
                  [3.0, 1.0, -2.0, 0.5, 0.0, 1.0],
                  [-1.0, -2.0, -3.0, 4.0, 2.0, 0.0],
                  [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])


def new_layer(ns, device):
    layer = construct(defined(ns, "MyLayerNorm", like=nn.Module), 6)
    require_method(layer, "forward", nn.Module)
    return layer.to(device)


@probe
def forward_values(ns, device):
    return {"out": new_layer(ns, device)(X.to(device))}


@probe
def forward_by_hand(ns, device):
    layer = new_layer(ns, device)
    out = by_hand(layer, X.to(device), forbidden=LAYER_NORM, forbidden_modules=(nn.LayerNorm,),
                  needs=REDUCTIONS)
    return {"out": out}


@probe
def input_gradient(ns, device):
    x = X.clone().to(device).requires_grad_()
    (new_layer(ns, device)(x) * torch.arange(6.0, device=device)).sum().backward()
    return {"grad": x.grad}


@points(4)
def test_forward(observe):
    """forward(x) normalises each row: (x - mean) / sqrt(var + eps), var divided by N"""
    got, want = observe(forward_values)
    assert_close(got["out"], want["out"], what="MyLayerNorm(6)(x)", rtol=1e-4, atol=1e-5)


@points(3)
def test_forward_by_hand(observe):
    """forward(x) is computed by hand: no nn.LayerNorm, no F.layer_norm"""
    got, want = observe(forward_by_hand)
    assert_close(got["out"], want["out"], what="MyLayerNorm(6)(x), by hand", rtol=1e-4, atol=1e-5)


@points(3)
def test_input_gradient(observe):
    """backward() through forward gives the input's gradient"""
    got, want = observe(input_gradient)
    assert_close(got["grad"], want["grad"], what="x.grad", rtol=1e-4, atol=1e-5)
