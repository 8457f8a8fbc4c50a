# The public tests of this assignment (made by `grader release`): hidden tests and
# what only they use are not in this file.
"""Tests for logistic_regression: LR(dim, lr) with plain tensors w (dim, 1) and b, by hand.

Each probe runs in the sandbox on the student's namespace and on the reference; each test
compares the two. The student's gradients are compared with autograd's gradient of the mean
binary cross-entropy, computed in the reference's run of the probe. Ten points in all.
"""
from typing import Any
import torch
import torch.nn.functional as F
from torch import nn
from grader.api import AUTOGRAD, MATMUL, ProbeFailure, assert_close, assert_names_as_asked, by_hand, construct, defined, fail, hidden, names_used, points, probe, require_method, still_a_stub, tensor_name_of
W = torch.tensor([[0.5], [-1.0], [0.25], [2.0]])
DW = torch.tensor([[0.2], [-0.4], [1.0], [0.1]])
BIAS = 0.75

def _tensor(value: Any, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ProbeFailure(f'{what} is a {type(value).__name__}, not a tensor: build it with torch operations (torch.zeros, @, torch.exp)')
    return value.detach()

def _scalar(value: Any, what: str) -> float:
    """A number held in a Python number or a one-element tensor."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach())
    if isinstance(value, int | float) and (not isinstance(value, bool)):
        return float(value)
    if value is None:
        attribute = what.rsplit('.', 1)[-1].split()[0]
        raise ProbeFailure(f'{what} is missing (or None): set self.{attribute} in __init__')
    shape = f'a tensor of shape {tuple(value.shape)}' if isinstance(value, torch.Tensor) else f'a {type(value).__name__}'
    raise ProbeFailure(f'{what} should be a single number, got {shape}')

def new_model(ns: dict, dim: int, lr: float=0.01, methods: tuple[str, ...]=()) -> nn.Module:
    """The student's LR(dim, lr=torch.scalar_tensor(lr)), with the methods the probe calls."""
    model = construct(defined(ns, 'LR', like=nn.Module), dim, lr=torch.scalar_tensor(lr))
    for method in methods:
        require_method(model, method, nn.Module)
    return model

def attribute_names(model: nn.Module, dim: int) -> tuple[str, str]:
    """The student's names for w and b: the task's, else the one plain tensor of w's shape
    (``self.weight``) and the one scalar tensor (``self.bias``), found by shape and role: only
    the names test fails for them. A missing w is said as missing, never as ``NoneType``."""
    w_name = tensor_name_of(model, 'w', (dim, 1)) or tensor_name_of(model, 'w', (dim,))
    if w_name is None:
        raise ProbeFailure(f'LR({dim}) has no attribute w (and no one tensor of shape ({dim}, 1) to grade in its place): set self.w = torch.zeros(dim, 1) in __init__')
    b_name = 'b' if hasattr(model, 'b') else tensor_name_of(model, 'b', (), {w_name, 'lr'}) or 'b'
    return (w_name, b_name)

def fixed_model(ns: dict, device: Any, w: torch.Tensor, b: float, lr: float=0.01, methods: tuple[str, ...]=()) -> nn.Module:
    """The student's LR with w and b set on device, each in the student's own shape."""
    dim = w.shape[0]
    model = new_model(ns, dim, lr, methods)
    w_name, b_name = attribute_names(model, dim)
    own = getattr(model, w_name, None)
    if not isinstance(own, torch.Tensor) or isinstance(own, nn.Parameter):
        kind = 'an nn.Parameter' if isinstance(own, nn.Parameter) else f'a {type(own).__name__}'
        raise ProbeFailure(f'LR({dim}).{w_name} is {kind}: set self.w = torch.zeros(dim, 1) in __init__, a plain tensor (the gradients are computed by hand)')
    if own.numel() != dim:
        raise ProbeFailure(f'LR({dim}).w has shape {tuple(own.shape)}; the task asks for (dim, 1) = ({dim}, 1)')
    own_b = getattr(model, b_name, None)
    if isinstance(own_b, nn.Parameter):
        raise ProbeFailure(f'LR({dim}).{b_name} is an nn.Parameter: make b a plain tensor, torch.scalar_tensor(0)')
    _scalar(own_b, f'LR({dim}).b')
    setattr(model, w_name, w.reshape(own.shape).to(device, copy=True))
    setattr(model, b_name, torch.full(own_b.shape, b, device=device) if isinstance(own_b, torch.Tensor) else b)
    model.task_names = (w_name, b_name)
    return model

@probe
def initial_state(ns, device):
    model = new_model(ns, 5)
    w_name, b_name = attribute_names(model, 5)
    return {'w': _tensor(getattr(model, w_name, None), 'LR(5).w'), 'b': _scalar(getattr(model, b_name, None), 'LR(5).b')}

@probe
def sigmoid_values(ns, device):
    model = new_model(ns, 3, methods=('sigmoid',))
    z = torch.linspace(-6, 6, 12, device=device).reshape(3, 4)
    return {'out': _tensor(model.sigmoid(z), 'sigmoid(z)')}

@probe
def forward_values(ns, device):
    x = torch.linspace(-2, 2, 24, device=device).reshape(6, 4).T
    outputs = {}
    for name, b in (('zero', 0.0), ('bias', BIAS)):
        model = fixed_model(ns, device, W, b, methods=('forward',))
        outputs[name] = _tensor(model(x), 'forward(x)')
    return outputs

@probe
def backward_grads(ns, device):
    model = fixed_model(ns, device, W, BIAS, methods=('backward',))
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(4, 8, generator=generator).to(device)
    y = (torch.rand(1, 8, generator=generator) > 0.5).float().to(device)
    w = W.clone().to(device).requires_grad_()
    b = torch.tensor(BIAS, device=device, requires_grad=True)
    yhat = torch.sigmoid(w.T @ x + b)
    F.binary_cross_entropy(yhat, y).backward()
    model.backward(x, yhat.detach(), y)
    grads = getattr(model, 'grads', None)
    if not isinstance(grads, dict) or not {'dw', 'db'} <= set(grads):
        raise ProbeFailure('after backward(), self.grads must be a dict with keys "dw" and "db"')
    return {'dw': _tensor(grads['dw'], 'grads["dw"]'), 'db': _scalar(grads['db'], 'grads["db"]'), 'm': x.shape[1], 'autograd': {'dw': w.grad, 'db': float(b.grad)}}

@probe
def backward_by_hand(ns, device):
    """backward's grads["dw"], recorded: no autograd (torch.autograd.grad, .backward(), ...); the
    recorder must see the product dw needs (or numpy taking over), or the test fails."""
    model = fixed_model(ns, device, W, BIAS, methods=('backward',))
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(4, 6, generator=generator).to(device)
    y = (torch.rand(1, 6, generator=generator) > 0.5).float().to(device)
    yhat = torch.sigmoid(W.to(device).T @ x + BIAS)
    by_hand(model.backward, x, yhat, y, forbidden=AUTOGRAD, needs=(*MATMUL, 'torch.Tensor.numpy'), task='compute the gradients yourself, without autograd')
    grads = getattr(model, 'grads', None)
    if not isinstance(grads, dict) or 'dw' not in grads:
        raise ProbeFailure('after backward(), self.grads must be a dict with keys "dw" and "db"')
    return {'dw': _tensor(grads['dw'], 'grads["dw"]'), 'm': x.shape[1]}

@probe
def optimize_step(ns, device):
    model = fixed_model(ns, device, W, BIAS, lr=0.1, methods=('optimize',))
    w_name, b_name = model.task_names
    model.grads = {'dw': DW.reshape(getattr(model, w_name).shape).to(device, copy=True), 'db': torch.tensor(-0.5, device=device)}
    model.optimize()
    return {'w': _tensor(getattr(model, w_name), 'w after optimize()'), 'b': _scalar(getattr(model, b_name), 'b after optimize()')}

def _close(actual: torch.Tensor, expected: torch.Tensor, tolerance: float=0.0001) -> bool:
    """Whether two tensors of the same shape agree to ``tolerance`` of the expected scale."""
    if actual.shape != expected.shape:
        return False
    actual, expected = (actual.double(), expected.double())
    scale = float(expected.abs().max()) + 1e-06 if expected.numel() else 1.0
    return bool((actual - expected).abs().max() <= tolerance * scale)

def _check_probabilities(got: Any, want: torch.Tensor, what: str, bias: float=0.0) -> None:
    if isinstance(got, torch.Tensor) and got.shape == want.shape:
        if _close(got, 1 - want):
            fail(f'{what} is 1 - the expected value: the exponent in sigmoid has the wrong sign; sigmoid(z) = 1 / (1 + exp(-z))')
        if bias and _close(torch.logit(got.double()), torch.logit(want.double()) - bias):
            fail(f'{what} is sigmoid(w.T @ x), without b: add the bias, sigmoid(w.T @ x + b)')
    assert_close(got, want, what=what)

def _check_gradient(got: Any, want: Any, what: str, m: int) -> None:
    actual, expected = (torch.as_tensor(got).double(), torch.as_tensor(want).double())
    if _close(actual, -expected):
        fail(f'{what} is -1 times the gradient of the loss: the sign is wrong. The gradient uses (yhat - y), not (y - yhat): check the sign of (yhat - y)')
    if _close(actual, m * expected):
        fail(f'{what} is m times the gradient of the loss (m = {m} examples here): the 1/m factor is missing. The loss is the mean over the m examples: multiply by 1/m')
    assert_close(got, want, what=what)

@points(1)
def test_initial_state(observe):
    """LR(5) starts with w = zeros of shape (5, 1) and b = 0"""
    got, want = observe(initial_state)
    assert_close(got['w'], want['w'], what='LR(5).w', check_device=False)
    assert_close(got['b'], want['b'], what='LR(5).b')

@points(1)
def test_sigmoid(observe):
    """sigmoid(z) returns 1 / (1 + exp(-z)) elementwise"""
    got, want = observe(sigmoid_values)
    _check_probabilities(got['out'], want['out'], 'sigmoid(z)')

@points(1)
def test_forward(observe):
    """forward(x) returns sigmoid(w.T @ x + b) of shape (1, m) (fixed w, b = 0)"""
    got, want = observe(forward_values)
    _check_probabilities(got['zero'], want['zero'], 'forward(x) with b = 0')

@points(1)
def test_forward_with_bias(observe):
    """forward(x) adds the bias b (fixed w, b = 0.75)"""
    got, want = observe(forward_values)
    _check_probabilities(got['bias'], want['bias'], f'forward(x) with b = {BIAS}', bias=BIAS)

@points(1)
def test_backward_dw(observe):
    """backward(x, yhat, y) sets grads["dw"] to the gradient of the mean cross-entropy"""
    got, want = observe(backward_grads)
    _check_gradient(got['dw'], want['autograd']['dw'], 'grads["dw"]', want['m'])

@points(1)
def test_backward_by_hand(observe):
    """backward(x, yhat, y) computes grads["dw"] by hand, without autograd"""
    got, want = observe(backward_by_hand)
    _check_gradient(got['dw'], want['dw'], 'grads["dw"], by hand', want['m'])

@points(1)
def test_backward_db(observe):
    """backward(x, yhat, y) sets grads["db"] to the gradient of the mean cross-entropy"""
    got, want = observe(backward_grads)
    _check_gradient(got['db'], want['autograd']['db'], 'grads["db"]', want['m'])

@points(1)
def test_optimize(observe):
    """optimize() takes one step: w - lr * dw and b - lr * db"""
    got, want = observe(optimize_step)
    assert_close(got['w'], want['w'], what='w after optimize()')
    assert_close(got['b'], want['b'], what='b after optimize()')

@probe
def names(ns, device):
    try:
        found = defined(ns, 'LR', like=nn.Module)
    except ProbeFailure:
        return names_used(ns, ['LR'])
    return {**names_used(ns, ['LR']), 'stub': still_a_stub(lambda: construct(found, 2, lr=torch.scalar_tensor(0.01)))}

@points(1)
def test_names_as_asked(observe):
    """the model is named LR, as the task asks"""
    got, _ = observe(names)
    assert_names_as_asked(got)
