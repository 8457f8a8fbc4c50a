"""Tests for custom_layer: MyLinear(in_features, out_features, bias=True), x @ weights + bias.

Each probe runs in the sandbox on the student's namespace and on the reference; each test
compares the two. Ten points in all.
"""

import torch
from torch import nn

from grader.api import (
    LINEAR,
    MATMUL,
    ProbeFailure,
    accepts_keyword,
    assert_close,
    assert_names_as_asked,
    by_hand,
    construct,
    defined,
    fail,
    fits_module,
    hidden,
    load_tensor,
    names_used,
    points,
    probe,
    require_method,
    still_a_stub,
    tensor_of,
)

W = torch.tensor([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]])
B = torch.tensor([0.5, -1.0])
# what grace tries a candidate class with (a name defined twice, another name): MyLinear(3, 2) that
# maps a (4, 3) input to a (4, 2) output
FITS = fits_module(3, 2, bias=True, input=torch.ones(4, 3), shape=(4, 2))


def fixed_layer(ns, device, in_features=3, out_features=2, bias=True, weights=W, bias_values=B):
    """The student's MyLinear with the given weights (and bias) set in place. Weights in
    nn.Linear's (out_features, in_features) layout are loaded transposed (only the layout test
    fails for them); an __init__ without a bias argument fails only what needs bias=False."""
    MyLinear = defined(ns, "MyLinear", like=nn.Module, fit=FITS)
    if not bias and not accepts_keyword(MyLinear, "bias"):
        raise ProbeFailure(f"MyLinear({in_features}, {out_features}, bias=False) cannot be made: "
                           "__init__ has no bias parameter (the task asks for bias=True by default)")
    layer = construct(MyLinear, in_features, out_features, flexible=True, bias=bias)
    require_method(layer, "forward", nn.Module)
    layer.transposed, taken = False, set()
    for name, values in (("weights", weights), ("bias", bias_values if bias else None)):
        if values is None:
            continue
        # by name, else by shape (self.weight, self.b: only the names test fails); plain tensors too
        target = tensor_of(layer, name, tuple(values.shape), taken)
        expected = "(in_features, out_features)" if name == "weights" else "(out_features,)"
        flipped = load_tensor(target, values, f"MyLinear({in_features}, {out_features}).{name}", expected)
        layer.transposed = layer.transposed or flipped
    return layer.to(device)


def task_names(layer, in_features, out_features):
    """The student's parameter names -> the task's: by name, else by shape (``self.W``, ``self.b``,
    ``self.weight``). Only test_parameters_registered looks at the names themselves."""
    taken, task = set(), {}
    for name, shape in (("weights", (in_features, out_features)), ("bias", (out_features,))):
        found = tensor_of(layer, name, shape, taken)
        if isinstance(found, torch.Tensor):
            task[id(found)] = name
    return {name: task.get(id(p), name) for name, p in layer.named_parameters()}


@probe
def registration(ns, device):
    MyLinear = defined(ns, "MyLinear", like=nn.Module, fit=FITS)
    report = {}
    for bias in (True, False):
        if not bias and not accepts_keyword(MyLinear, "bias"):
            report["bias=False"] = "no bias parameter"
            continue
        layer = construct(MyLinear, 4, 3, flexible=True, bias=bias)
        report[f"bias={bias}"] = {
            "parameters": {name: list(p.shape) for name, p in layer.named_parameters()},
            "as_task": sorted(task_names(layer, 4, 3).values()),
            "plain_tensors": sorted(name for name, value in vars(layer).items()
                                    if isinstance(value, torch.Tensor)),
        }
    return report


@probe
def names(ns, device):
    try:
        found = defined(ns, "MyLinear", like=nn.Module, fit=FITS)
    except ProbeFailure:
        return names_used(ns, ["MyLinear"])
    return {**names_used(ns, ["MyLinear"]),
            "stub": still_a_stub(lambda: construct(found, 3, 2, flexible=True, bias=True))}


@probe
def forward_values(ns, device):
    x = torch.linspace(-1, 1, 12).reshape(4, 3)
    layer = fixed_layer(ns, device)
    return {"out": layer(x.to(device))}


@probe
def forward_by_hand(ns, device):
    """forward_values' output, recorded: no nn.Linear (held or subclassed), no F.linear; the
    recorder must see the product any correct forward computes, or the test fails."""
    x = torch.linspace(-1, 1, 12).view(4, 3)  # forward_values' input
    layer = fixed_layer(ns, device)
    out = by_hand(layer, x.to(device), forbidden=LINEAR, forbidden_modules=(nn.Linear,), needs=MATMUL,
                  task="compute x @ weights + bias yourself, from nn.Parameter")
    return {"out": out}


@probe
def forward_without_bias(ns, device):
    x = torch.linspace(-2, 3, 15).reshape(5, 3)
    layer = fixed_layer(ns, device, bias=False)
    return {"out": layer(x.to(device)), "names": sorted(task_names(layer, 3, 2).values())}


@probe
def gradients(ns, device):
    weights = torch.tensor([[0.7, -0.1, 0.2], [0.0, 0.5, -0.3]])
    layer = fixed_layer(ns, device, 2, 3, weights=weights, bias_values=torch.tensor([0.1, 0.2, 0.3]))
    x = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [0.25, -2.0]], device=device)
    (layer(x) * torch.tensor([1.0, -2.0, 3.0], device=device)).sum().backward()
    names = task_names(layer, 2, 3)
    params = {names[name]: p for name, p in layer.named_parameters()}
    missing = [name for name in ("weights", "bias") if name not in params]
    if missing:
        raise ProbeFailure(f"{' and '.join(missing)} not registered as parameters: an optimizer "
                           "would never train them (use nn.Parameter)")
    grads = {name: params[name].grad for name in ("weights", "bias")}
    if layer.transposed and grads["weights"] is not None:  # compared in the task's layout
        grads["weights"] = grads["weights"].T
    return grads


@probe
def batch_shapes(ns, device):
    layer = fixed_layer(ns, device, 3, 2)
    shapes = {}
    for shape in ((1, 3), (7, 3), (2, 5, 3)):
        shapes[str(shape)] = list(layer(torch.ones(shape, device=device)).shape)
    return shapes


@probe
def moves_with_to(ns, device):
    layer = fixed_layer(ns, "cpu")
    names = task_names(layer, 3, 2)
    layer = layer.to(device=device, dtype=torch.float64)
    out = layer(torch.ones(2, 3, dtype=torch.float64, device=device))
    return {
        "parameters": {names.get(name, name): [str(p.dtype), p.device.type]
                       for name, p in layer.named_parameters()},
        "out": out,
    }


def _registered(report, bias):
    found = report[f"bias={bias}"]
    if isinstance(found, str):
        fail(f"MyLinear(4, 3, bias={bias}) cannot be made: __init__ has no bias parameter; add "
             "bias=True to __init__ and create no bias parameter when it is False")
    if not found["parameters"]:
        plain = ", ".join(found["plain_tensors"])
        extra = f" ({plain} are plain tensors)" if plain else ""
        fail(f"MyLinear(4, 3, bias={bias}) has no parameters{extra}: wrap weights and bias in "
             "nn.Parameter so that model.parameters() and optimizers see them")
    return found["parameters"]


@points(2)
def test_parameters_registered(observe):
    """MyLinear(4, 3) registers weights (4, 3) and bias (3,) as nn.Parameter"""
    got, want = observe(registration)
    found = _registered(got, True)
    if found.get("weights") == [3, 4] and want["bias=True"]["parameters"]["weights"] == [4, 3]:
        fail("MyLinear(4, 3).weights has shape (3, 4): nn.Linear's (out_features, in_features) "
             "layout; the task asks for (in_features, out_features) = (4, 3), used as x @ weights "
             "(the other tests loaded your weights transposed)")
    asked = want["bias=True"]["parameters"]
    if sorted(found) != sorted(asked) and got["bias=True"].get("as_task") == sorted(asked):
        return  # other names, found by shape and role: test_names_as_asked alone says so
    assert_close(found, want["bias=True"]["parameters"], what="MyLinear(4, 3).named_parameters() shapes")


@points(1)
def test_no_bias_parameter(observe):
    """MyLinear(4, 3, bias=False) has weights and no bias parameter"""
    got, want = observe(registration)
    _registered(got, False)
    assert_close(got["bias=False"]["as_task"], want["bias=False"]["as_task"],
                 what="MyLinear(4, 3, bias=False) parameters (by role: weights, bias)")


@points(1)
def test_forward_values(observe):
    """forward(x) returns x @ weights + bias (fixed weights, a 4 x 3 input)"""
    got, want = observe(forward_values)
    assert_close(got["out"], want["out"], what="MyLinear(3, 2)(x)")


@points(1)
def test_forward_by_hand(observe):
    """forward(x) computes x @ weights + bias by hand: no nn.Linear, no F.linear"""
    got, want = observe(forward_by_hand)
    assert_close(got["out"], want["out"], what="MyLinear(3, 2)(x), by hand")


@points(1)
def test_batch_shapes(observe):
    """inputs (1, 3), (7, 3) and (2, 5, 3) give outputs (1, 2), (7, 2) and (2, 5, 2)"""
    got, want = observe(batch_shapes)
    assert_close(got, want, what="output shapes by input shape")


@hidden
@points(1)
def test_forward_without_bias(observe):
    """with bias=False, forward(x) returns x @ weights"""
    got, want = observe(forward_without_bias)
    assert_close(got["names"], want["names"], what="parameter names with bias=False", hidden=True)
    assert_close(got["out"], want["out"], what="MyLinear(3, 2, bias=False)(x)", hidden=True)


@hidden
@points(1)
def test_gradients(observe):
    """backward() gives the right gradients for weights and bias"""
    got, want = observe(gradients)
    for name in ("weights", "bias"):
        if got[name] is None:
            fail(f"{name}.grad is None after backward(): the loss does not depend on it "
                 "(is it used in forward without .detach()?)")
        assert_close(got[name], want[name], what=f"{name}.grad", hidden=True)


@hidden
@points(1)
def test_to_moves_parameters(observe):
    """.to(device, dtype) moves every parameter, and forward still works"""
    got, want = observe(moves_with_to)
    assert_close(got["parameters"], want["parameters"], what="parameter dtype and device after .to()",
                 hidden=True)
    assert_close(got["out"], want["out"], what="output after .to(float64)", hidden=True)


@points(1)
def test_names_as_asked(observe):
    """the layer is named MyLinear, as the task asks"""
    got, _ = observe(names)
    assert_names_as_asked(got)
