"""Tests for training_loop: train(model, inputs, labels, criterion, optimizer, epochs) and
manual_sgd_step(model, lr).

Each probe runs in the sandbox on the student's namespace and on the reference; each test
compares the two. The training probes watch every optimizer.step() through a step pre-hook:
which gradients the step found, and the fresh gradient of the loss at that point, so that a
missing zero_grad() or a step() before backward() can be named. Ten points in all.
"""

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from grader.api import (
    ProbeFailure,
    assert_close,
    check_signature,
    defined,
    fail,
    fits_signature,
    hidden,
    points,
    probe,
)

EPOCHS = 12
TRAIN = ("model", "inputs", "labels", "criterion", "optimizer", "epochs")  # the task's signatures
STEP = ("model", "lr")


def _problem(device: Any) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A seeded regression problem: a small MLP, inputs (32, 3) and targets (32, 1)."""
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    inputs = torch.randn(32, 3)
    labels = inputs @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3 + 0.1 * torch.randn(32, 1)
    return model.to(device), inputs.to(device), labels.to(device)


def _flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1) for t in tensors])


def _number(value: Any, what: str) -> float:
    """The value of one loss: a float, or anything with one number in it (its type is noted)."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        raise ProbeFailure(f"{what} is {type(value).__name__}, not a number: append "
                           "loss.item()") from None


def run_train(ns: dict, device: Any, make_optimizer: Callable) -> dict:
    """Run the student's train on the seeded problem, watching each optimizer.step()."""
    train = defined(ns, "train", fit=fits_signature(*TRAIN))
    check_signature(train, TRAIN)
    model, inputs, labels = _problem(device)
    criterion = nn.MSELoss()
    optimizer = make_optimizer(model.parameters())
    params = list(model.parameters())
    seen: dict[str, list] = {"grads": [], "fresh": [], "missing": []}

    def before_step(*_: Any) -> None:
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
        seen["missing"].append(not any(bool(g.any()) for g in grads))
        seen["grads"].append(_flat(grads).clone())
        with torch.enable_grad():
            seen["fresh"].append(_flat(torch.autograd.grad(criterion(model(inputs), labels), params)))

    optimizer.register_step_pre_hook(before_step)
    losses = train(model, inputs, labels, criterion, optimizer, EPOCHS)
    if not isinstance(losses, list | tuple):
        raise ProbeFailure(f"train returned {type(losses).__name__}: return a list with one loss "
                           "(a float) per epoch")
    size = sum(p.numel() for p in params)
    empty = torch.zeros(0, size, device=device)
    return {
        "kinds": ["float" if isinstance(v, float) else type(v).__name__ for v in losses],
        "losses": [_number(v, f"train(...)[{i}]") for i, v in enumerate(losses)],
        "steps": len(seen["missing"]),
        "missing": seen["missing"],
        "grads": torch.stack(seen["grads"]) if seen["grads"] else empty,
        "fresh": torch.stack(seen["fresh"]) if seen["fresh"] else empty,
    }


@probe
def train_sgd(ns, device):
    return run_train(ns, device, lambda params: torch.optim.SGD(params, lr=0.05))


@probe
def train_adam(ns, device):
    return run_train(ns, device, lambda params: torch.optim.Adam(params, lr=0.05))


def _grad_state(grad: torch.Tensor | None) -> str:
    if grad is None:
        return "None"
    return "non-zero" if bool(grad.any()) else "zero"


@probe
def manual_step(ns, device):
    step = defined(ns, "manual_sgd_step", fit=fits_signature(*STEP))
    check_signature(step, STEP)
    model, inputs, labels = _problem(device)
    nn.MSELoss()(model(inputs), labels).backward()
    before = [p.detach().clone() for p in model.parameters()]
    step(model, 0.1)
    return {"before": before, "after": [p.detach().clone() for p in model.parameters()],
            "grads": [_grad_state(p.grad) for p in model.parameters()]}


@probe
def manual_two_steps(ns, device):
    step = defined(ns, "manual_sgd_step", fit=fits_signature(*STEP))
    check_signature(step, STEP)
    model, inputs, labels = _problem(device)
    before = [p.detach().clone() for p in model.parameters()]
    for lr in (0.1, 0.05):
        nn.MSELoss()(model(inputs), labels).backward()
        step(model, lr)
    return {"before": before, "after": [p.detach().clone() for p in model.parameters()]}


def _close(actual: torch.Tensor, expected: torch.Tensor) -> bool:
    scale = float(expected.abs().max()) + 1e-6
    return bool((actual - expected).abs().max() <= 1e-4 * scale)


def _accumulated(got: dict) -> bool:
    """Whether each step found the fresh gradient plus the previous step's: no zero_grad()."""
    grads, fresh = got["grads"].double(), got["fresh"].double()
    later = range(1, len(grads))
    return len(grads) > 1 and all(
        _close(grads[k], fresh[k] + grads[k - 1]) and not _close(grads[k], fresh[k]) for k in later)


def _check_training(got: dict, want: dict, hidden: bool = False) -> None:
    count, epochs, steps = len(got["losses"]), len(want["losses"]), got["steps"]
    if count != epochs:
        fail(f"train(..., epochs={epochs}) returned {count} losses: append one loss per epoch")
    if steps != epochs:
        fail(f"optimizer.step() was called {steps} times in {epochs} epochs: call it once per "
             "epoch, on the optimizer passed to train, after loss.backward()")
    if any(got["missing"]):
        fail("when optimizer.step() ran, the parameters had no gradients (p.grad was None or "
             "zero), so it changed nothing: call step() after loss.backward(). The order is "
             "optimizer.zero_grad(), forward, loss, loss.backward(), optimizer.step()")
    if _accumulated(got):
        fail("the gradients accumulate from one epoch to the next: backward() adds to p.grad, so "
             "each step used the sum of all the gradients so far. Call optimizer.zero_grad() "
             "before backward() in every epoch")
    assert_close(torch.tensor(got["losses"]), torch.tensor(want["losses"]),
                 what="the loss at each epoch", rtol=1e-4, atol=1e-6, hidden=hidden)


def _check_update(got: dict, want: dict, hidden: bool = False) -> None:
    if all(torch.equal(a, b) for a, b in zip(got["after"], got["before"], strict=True)):
        fail("manual_sgd_step did not change the parameters: p = p - lr * p.grad makes a new "
             "tensor and rebinds the name p, the model's parameter stays as it was. Update it "
             "in place with -=: p -= lr * p.grad (under torch.no_grad())")
    assert_close(got["after"], want["after"], what="the parameters after manual_sgd_step",
                 hidden=hidden)


@points(3)
def test_train_sgd(observe):
    """train(...) with SGD gives the expected loss at each epoch"""
    got, want = observe(train_sgd)
    _check_training(got, want)


@points(1)
def test_losses_are_floats(observe):
    """train(...) returns the losses as Python floats (loss.item())"""
    got, _ = observe(train_sgd)
    kinds = sorted(set(got["kinds"]) - {"float"})
    if not got["kinds"]:
        fail("train returned an empty list: append one loss per epoch")
    if kinds:
        fail(f"train returned {' and '.join(kinds)} items, not Python floats: append "
             "loss.item(). A loss tensor keeps its whole graph alive, epoch after epoch")


@points(2)
def test_manual_sgd_step_updates(observe):
    """manual_sgd_step(model, 0.1) sets p -= 0.1 * p.grad for every parameter"""
    got, want = observe(manual_step)
    _check_update(got, want)


@points(1)
def test_manual_sgd_step_zeroes_grads(observe):
    """after manual_sgd_step, every p.grad is zero (or None)"""
    got, _ = observe(manual_step)
    kept = got["grads"].count("non-zero")
    if kept:
        fail(f"after manual_sgd_step, {kept} of {len(got['grads'])} parameters still hold their "
             "gradient: zero them (p.grad.zero_() or model.zero_grad()), or the next backward() "
             "adds to them")


@hidden
@points(2)
def test_train_adam(observe):
    """train(...) with Adam gives the expected loss at each epoch"""
    got, want = observe(train_adam)
    _check_training(got, want, hidden=True)


@hidden
@points(1)
def test_manual_sgd_two_steps(observe):
    """two manual_sgd_step calls, each after its own backward(), match two SGD steps"""
    got, want = observe(manual_two_steps)
    _check_update(got, want, hidden=True)
