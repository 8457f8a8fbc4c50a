# The public tests of this assignment (made by `grader release`): hidden tests and
# what only they use are not in this file.
"""Tests for autograd_function: MySigmoid and MyLinearFunction, torch.autograd.Functions with a
hand-written backward.

Each gradient probe computes, in float64, the gradients from the student's backward (with a
non-trivial upstream gradient, so that a missing ``grad_output *`` shows), autograd's gradients
of the equivalent built-in expression, and ``torch.autograd.gradcheck``'s verdict on the
student's Function. The tests compare the student's gradients with the built-in ones (taken
from the reference's observation) and explain a failing gradcheck. Ten points in all; a
Function under another name is graded by grace and costs only test_names_as_asked.
"""
import math
import re
from collections.abc import Callable
import torch
import torch.nn.functional as F
from grader.api import Mismatch, ProbeFailure, assert_close, assert_names_as_asked, defined, fail, hidden, names_used, not_a_tensor, points, probe, require_method, still_a_stub
LINEAR_INPUTS = ('x', 'weight', 'bias')

def _fits_sigmoid(cls: type) -> None:
    """Grace's test of a candidate for MySigmoid: apply(x) takes one tensor, keeps its shape."""
    x = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64).reshape(2, 3)
    out = cls.apply(x)
    if getattr(out, 'shape', None) != x.shape:
        raise ProbeFailure(f"{cls.__name__}.apply(x) does not return x's shape (2, 3)")

def _fits_linear(cls: type) -> None:
    """Grace's test of a candidate for MyLinearFunction: apply(x, weight, bias) is (batch, out)."""
    x, weight, bias = (torch.ones(*shape, dtype=torch.float64) for shape in ((3, 4), (2, 4), (2,)))
    out = cls.apply(x, weight, bias)
    if getattr(out, 'shape', None) != (3, 2):
        raise ProbeFailure(f'{cls.__name__}.apply(x, weight, bias) does not return shape (3, 2)')
FITS = {'MySigmoid': _fits_sigmoid, 'MyLinearFunction': _fits_linear}

def _function(ns: dict, name: str, methods: tuple[str, ...]=('forward', 'backward')) -> type:
    """The student's torch.autograd.Function subclass ``name``, defining ``methods``; with grace,
    the one of the student's Functions that fits (``SigmoidFunction`` for MySigmoid)."""
    cls = defined(ns, name, like=torch.autograd.Function, fit=FITS[name])
    if not (isinstance(cls, type) and issubclass(cls, torch.autograd.Function)):
        raise ProbeFailure(f'{name} must be a class derived from torch.autograd.Function: class {name}(torch.autograd.Function)')
    for method in methods:
        require_method(cls, method, torch.autograd.Function)
    return cls

def _readable(error: RuntimeError, name: str, inputs: tuple[str, ...]) -> ProbeFailure | None:
    """A sentence for the autograd errors a hand-written backward causes, else None."""
    text = str(error)
    count = re.search('incorrect number of gradients \\(expected (\\d+), got (\\d+)\\)', text)
    if count:
        expected, got = count.groups()
        return ProbeFailure(f"{name}.backward returned {got} gradient{'s' * (got != '1')}, but forward takes {expected} input{'s' * (expected != '1')} ({', '.join(inputs)}): backward must return one gradient per input of forward, in the same order (None for an input that needs no gradient)")
    shape = re.search('invalid gradient at index (\\d+) - got \\[(.*?)\\] but expected shape compatible with \\[(.*?)\\]', text)
    if shape:
        index, got, expected = shape.groups()
        return ProbeFailure(f'{name}.backward returned a gradient of shape ({got}) for {inputs[int(index)]}, whose shape is ({expected}): each gradient must have the shape of its input (a transposed product?)')
    return None

def _student_gradients(cls: type, inputs: tuple[torch.Tensor, ...], upstream: torch.Tensor, names: tuple[str, ...]) -> tuple[torch.Tensor, list]:
    """(output, gradients of the inputs) from cls.apply and the student's backward."""
    name = cls.__name__
    out = cls.apply(*inputs)
    if not isinstance(out, torch.Tensor):
        raise ProbeFailure(f'{name}.forward returned {type(out).__name__}, not a tensor{not_a_tensor(out)}')
    if out.shape != upstream.shape:
        raise ProbeFailure(f'{name}.forward returned shape {tuple(out.shape)}, expected {tuple(upstream.shape)}')
    try:
        grads = torch.autograd.grad(out, inputs, upstream, allow_unused=True)
    except RuntimeError as error:
        readable = _readable(error, name, names)
        if readable is None:
            raise
        raise readable from None
    return (out, list(grads))

def _builtin_gradients(function: Callable, inputs: tuple[torch.Tensor, ...], upstream: torch.Tensor) -> tuple[torch.Tensor, list]:
    """(output, gradients) of a built-in expression, by autograd."""
    leaves = tuple((t.detach().clone().requires_grad_() for t in inputs))
    out = function(*leaves)
    return (out, list(torch.autograd.grad(out, leaves, upstream)))

def _gradcheck(cls: type, inputs: tuple[torch.Tensor, ...], names: tuple[str, ...]) -> bool:
    leaves = tuple((t.detach().clone().requires_grad_() for t in inputs))
    try:
        return bool(torch.autograd.gradcheck(cls.apply, leaves, raise_exception=False))
    except RuntimeError as error:
        readable = _readable(error, cls.__name__, names)
        if readable is None:
            raise
        raise readable from None

def _f64(*shape: int, start: float, end: float, device: torch.device) -> torch.Tensor:
    values = torch.linspace(start, end, math.prod(shape), dtype=torch.float64, device=device)
    return values.reshape(shape)

@probe
def sigmoid_forward(ns, device):
    x = _f64(3, 4, start=-6.0, end=5.0, device=device)
    return {'out': _function(ns, 'MySigmoid', ('forward',)).apply(x), 'builtin': torch.sigmoid(x)}

@probe
def sigmoid_gradients(ns, device):
    cls = _function(ns, 'MySigmoid')
    x = _f64(2, 5, start=-3.0, end=2.5, device=device).requires_grad_()
    upstream = _f64(2, 5, start=-1.5, end=2.0, device=device)
    _, (grad,) = _student_gradients(cls, (x,), upstream, ('x',))
    _, (builtin,) = _builtin_gradients(torch.sigmoid, (x,), upstream)
    return {'x': x, 'upstream': upstream, 'grad': grad, 'builtin': builtin, 'gradcheck': _gradcheck(cls, (x,), ('x',))}

def _linear_inputs(device: torch.device, batch: int, n_in: int, n_out: int, seeded: bool):
    if seeded:
        x, weight, bias = (torch.randn(*shape, dtype=torch.float64).to(device) for shape in ((batch, n_in), (n_out, n_in), (n_out,)))
        upstream = torch.randn(batch, n_out, dtype=torch.float64).to(device)
    else:
        x = _f64(batch, n_in, start=-1.0, end=2.0, device=device)
        weight = _f64(n_out, n_in, start=0.5, end=-1.5, device=device)
        bias = _f64(n_out, start=0.25, end=-0.75, device=device)
        upstream = _f64(batch, n_out, start=-2.0, end=1.0, device=device)
    return (tuple((t.requires_grad_() for t in (x, weight, bias))), upstream)

def _linear_observation(ns: dict, device: torch.device, batch: int, n_in: int, n_out: int, seeded: bool=False) -> dict:
    cls = _function(ns, 'MyLinearFunction')
    inputs, upstream = _linear_inputs(device, batch, n_in, n_out, seeded)
    out, grads = _student_gradients(cls, inputs, upstream, LINEAR_INPUTS)
    builtin_out, builtin = _builtin_gradients(F.linear, inputs, upstream)
    _, ones = _builtin_gradients(F.linear, inputs, torch.ones_like(upstream))
    return {'out': out, 'builtin_out': builtin_out, 'inputs': inputs, 'grads': dict(zip(LINEAR_INPUTS, grads, strict=True)), 'builtin': dict(zip(LINEAR_INPUTS, builtin, strict=True)), 'with_ones': dict(zip(LINEAR_INPUTS, ones, strict=True))}

@probe
def linear_forward(ns, device):
    x, weight, bias = (t.detach() for t in _linear_inputs(device, 3, 4, 2, False)[0])
    out = _function(ns, 'MyLinearFunction', ('forward',)).apply(x, weight, bias)
    return {'out': out, 'builtin': F.linear(x, weight, bias)}

@probe
def linear_gradients(ns, device):
    found = _linear_observation(ns, device, 3, 4, 2)
    cls = _function(ns, 'MyLinearFunction')
    found['gradcheck'] = _gradcheck(cls, found.pop('inputs'), LINEAR_INPUTS)
    return found

def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Close enough to name a pattern (float32 rounding included)."""
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=0.0001, atol=1e-06)

def _sigmoid_mistake(got: dict, want: dict) -> str | None:
    """The sigmoid-specific mistakes: a missing grad_output factor, s computed from x."""
    grad, expected, x, upstream = (got['grad'], want['builtin'], want['x'], want['upstream'])
    if not isinstance(grad, torch.Tensor) or _close(grad, expected):
        return None
    if _close(grad * upstream, expected):
        return 'MySigmoid.backward ignores grad_output: it returns ds/dx alone, but by the chain rule it must return grad_output * ds/dx (the upstream gradient times the local derivative s * (1 - s))'
    if _close(grad, upstream * x * (1 - x)):
        return "MySigmoid.backward computes s * (1 - s) with s = the input x, but s must be the sigmoid's output: save it in forward with ctx.save_for_backward(s) and read it back in backward with ctx.saved_tensors"
    return None

def _explain(pairs: list[tuple], special: str | None=None, hidden: bool=False) -> str | None:
    """Why the student's gradients differ from autograd's: the first mismatch, in words.

    ``pairs`` holds (student's gradient, autograd's, what it is[, autograd's for an upstream
    gradient of ones: what a backward ignoring grad_output returns]).
    """
    if special:
        return special
    for got, want, what, *with_ones in pairs:
        if got is None:
            return f'{what}: backward returned None; return grad_output times the local derivative'
        if with_ones and (not _close(got, want)) and _close(got, with_ones[0]):
            return f'{what}: backward ignores grad_output (it returns what an upstream gradient of ones would give): by the chain rule every gradient must be built from grad_output'
        try:
            assert_close(got, want, what=what, hidden=hidden)
        except Mismatch as mismatch:
            return str(mismatch)
    return None

def _sigmoid_pairs(got: dict, want: dict) -> list:
    return [(got['grad'], want['builtin'], 'x.grad (upstream gradient != 1)')]

def _linear_pairs(got: dict, want: dict) -> list:
    return [(got['grads'][name], want['builtin'][name], f'{name} gradient', want['with_ones'][name]) for name in LINEAR_INPUTS]

def _require_gradcheck(got: dict, call: str, explanation: str | None) -> None:
    if not got['gradcheck']:
        fail(f'torch.autograd.gradcheck({call}) returned False: the gradients from your backward differ from finite differences of your forward.' + (f'\n{explanation}' if explanation else ''))

@points(1)
def test_sigmoid_forward(observe):
    """MySigmoid.apply(x) returns 1 / (1 + exp(-x))"""
    got, want = observe(sigmoid_forward)
    assert_close(got['out'], want['builtin'], what='MySigmoid.apply(x)')

@points(1)
def test_sigmoid_gradcheck(observe):
    """torch.autograd.gradcheck passes on MySigmoid.apply (float64)"""
    got, want = observe(sigmoid_gradients)
    _require_gradcheck(got, 'MySigmoid.apply, (x,)', _explain(_sigmoid_pairs(got, want), _sigmoid_mistake(got, want)))

@points(2)
def test_sigmoid_backward(observe):
    """MySigmoid.backward returns grad_output * s * (1 - s), with s the saved output"""
    got, want = observe(sigmoid_gradients)
    message = _explain(_sigmoid_pairs(got, want), _sigmoid_mistake(got, want))
    if message:
        fail(message)

@points(1)
def test_linear_forward(observe):
    """MyLinearFunction.apply(x, weight, bias) returns x @ weight.T + bias"""
    got, want = observe(linear_forward)
    assert_close(got['out'], want['builtin'], what='MyLinearFunction.apply(x, weight, bias)')

@points(1)
def test_linear_gradcheck(observe):
    """torch.autograd.gradcheck passes on MyLinearFunction.apply (float64)"""
    got, want = observe(linear_gradients)
    _require_gradcheck(got, 'MyLinearFunction.apply, (x, weight, bias)', _explain(_linear_pairs(got, want)))

@points(1)
def test_linear_backward(observe):
    """MyLinearFunction.backward returns the gradients of x, weight and bias"""
    got, want = observe(linear_gradients)
    message = _explain(_linear_pairs(got, want))
    if message:
        fail(message)

@probe
def names(ns, device):
    stubs = []
    for name, fits in FITS.items():
        try:
            cls = _function(ns, name, ())
        except ProbeFailure:
            continue
        stubs.append(still_a_stub(lambda cls=cls, fits=fits: fits(cls)))
    return {**names_used(ns, list(FITS)), 'stub': bool(stubs) and all(stubs)}

@points(1)
def test_names_as_asked(observe):
    """the Functions are named MySigmoid and MyLinearFunction, as the task asks"""
    got, _ = observe(names)
    assert_names_as_asked(got)
