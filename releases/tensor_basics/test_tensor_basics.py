# The public tests of this assignment (made by `grader release`): hidden tests and
# what only they use are not in this file.
"""Tests for tensor_basics: storage and strides, views and copies, dtype/device, a first gradient.

Each probe runs in the sandbox on the student's namespace and on the reference; each test
compares the two. Ten points in all.
"""
from typing import Any
import torch
from grader.api import ProbeFailure, assert_close, check_signature, defined, fail, fits_signature, hidden, not_a_tensor, points, probe
LAYOUT_KEYS = ('shape', 'stride', 'storage_offset', 'is_contiguous')
SIGNATURES = {'describe_layout': ('t',), 'column_view': ('t', 'j'), 'safe_copy': ('t',), 'flatten_transposed': ('t',), 'to_float64_on': ('t', 'device'), 'scalar_autograd_example': (), 'make_trainable': ('t',)}

def function_of(ns: dict, name: str) -> Any:
    """The student's function ``name``, its signature checked against the starter's."""
    function = defined(ns, name, fit=fits_signature(*SIGNATURES[name]))
    check_signature(function, SIGNATURES[name])
    return function

def _tensor_from(ns: dict, name: str, call: str, *args: Any) -> torch.Tensor:
    """``ns[name](*args)``, which must return a tensor."""
    result = function_of(ns, name)(*args)
    if not isinstance(result, torch.Tensor):
        raise ProbeFailure(f'{call} returned {type(result).__name__}, not a tensor{not_a_tensor(result)}')
    return result

def _layout(ns: dict, t: torch.Tensor, call: str) -> dict:
    """The student's describe_layout(t), with tuples as lists and uncalled methods explained."""
    found = function_of(ns, 'describe_layout')(t)
    if not isinstance(found, dict):
        raise ProbeFailure(f'{call} returned {type(found).__name__}, not a dict with keys ' + ', '.join(map(repr, LAYOUT_KEYS)))
    plain = {}
    for key, value in found.items():
        if callable(value):
            example = f' (t.{key}(), not t.{key})' if key in LAYOUT_KEYS[1:] else ''
            raise ProbeFailure(f'{call}[{key!r}] is a method, not its result: call it{example}')
        plain[str(key)] = [int(n) for n in value] if isinstance(value, tuple | list) else value
    return plain

@probe
def layouts(ns, device):
    t = torch.arange(12.0, device=device).reshape(3, 4)
    return {'contiguous': _layout(ns, t, 'describe_layout(t)'), 'transposed': _layout(ns, t.T, 'describe_layout(t.T)'), 'slice': _layout(ns, t[1:, 2:], 'describe_layout(t[1:, 2:])'), 'expanded': _layout(ns, torch.zeros(3, 1, device=device).expand(3, 4), 'describe_layout(torch.zeros(3, 1).expand(3, 4))')}

@probe
def column(ns, device):
    t = torch.arange(12.0, device=device).reshape(3, 4)
    before = t.clone()
    view = _tensor_from(ns, 'column_view', 'column_view(t, 2)', t, 2)
    values = view.clone()
    shares = view.untyped_storage().data_ptr() == t.untyped_storage().data_ptr()
    view.fill_(-1.0)
    return {'values': values, 'shares_storage': shares, 'wrote_through': bool((t != before).any()), 'original_after': t}

@probe
def copy(ns, device):
    t = torch.arange(6.0, device=device).reshape(2, 3)
    before = t.clone()
    result = _tensor_from(ns, 'safe_copy', 'safe_copy(t)', t)
    values = result.clone()
    shares = result.untyped_storage().data_ptr() == t.untyped_storage().data_ptr()
    with torch.no_grad():
        result.fill_(-1.0)
    changed = bool((t != before).any())
    return {'values': values, 'shares_storage': shares, 'original_changed': changed}

@probe
def flattened(ns, device):
    t = torch.arange(6.0, device=device).reshape(2, 3)
    try:
        return {'out': _tensor_from(ns, 'flatten_transposed', 'flatten_transposed(t)', t)}
    except RuntimeError as error:
        if 'view size is not compatible' not in str(error):
            raise
        raise ProbeFailure(f'flatten_transposed(t) raised RuntimeError: .view() cannot flatten a transposed tensor. t.T has shape {tuple(t.T.shape)} and stride {t.T.stride()}, so it is not contiguous (t.T.is_contiguous() is False): its elements are not in order in memory. Use .reshape(-1) (it copies when it must), or .contiguous().view(-1)') from None

@probe
def converted(ns, device):
    floats = torch.tensor([[0.5, -1.25], [3.0, 2.0]])
    integers = torch.tensor([1, -2, 3], dtype=torch.int32)
    call = 'to_float64_on(t, device)'
    return {'float32': _tensor_from(ns, 'to_float64_on', call, floats, device), 'int32': _tensor_from(ns, 'to_float64_on', call, integers, device)}

@probe
def scalar_grad(ns, device):
    grad = function_of(ns, 'scalar_autograd_example')()
    if grad is None:
        raise ProbeFailure('scalar_autograd_example() returned None: call out.backward(), then return x.grad')
    if not isinstance(grad, torch.Tensor):
        raise ProbeFailure(f'scalar_autograd_example() returned {type(grad).__name__}, not x.grad' + not_a_tensor(grad))
    return {'grad': grad}

@probe
def trainable(ns, device):
    t = torch.tensor([1.0, 2.0, 3.0], device=device)
    result = function_of(ns, 'make_trainable')(t)
    return {'same_tensor': result is t, 'original_requires_grad': t.requires_grad, 'result_requires_grad': bool(getattr(result, 'requires_grad', False)), 'result_is_leaf': bool(getattr(result, 'is_leaf', False))}

@points(1)
def test_describe_layout(observe):
    """describe_layout gives shape, stride, storage_offset and is_contiguous (t and t.T)"""
    got, want = observe(layouts)
    for case, call in (('contiguous', 't'), ('transposed', 't.T')):
        assert_close(got[case], want[case], what=f'describe_layout({call})')

@points(2)
def test_column_view(observe):
    """column_view(t, 2) is a view: right values, and writing through it changes t"""
    got, want = observe(column)
    assert_close(got['values'], want['values'], what='column_view(t, 2)')
    if not (got['wrote_through'] and got['shares_storage']):
        fail('column_view(t, 2) returned a copy, not a view: writing through it did not change the original; use indexing/slicing or .view (no .clone(), .contiguous() or torch.tensor)')
    assert_close(got['original_after'], want['original_after'], what='t after column_view(t, 2).fill_(-1)')

@points(1)
def test_safe_copy(observe):
    """safe_copy(t) has t's values, and writing into it leaves t unchanged"""
    got, want = observe(copy)
    assert_close(got['values'], want['values'], what='safe_copy(t)')
    if got['original_changed'] or got['shares_storage']:
        fail("safe_copy(t) is not independent: it shares t's storage, so writing into it changed t (a view or t itself?); return t.clone()")

@points(1)
def test_flatten_transposed(observe):
    """flatten_transposed(t) is t.T flattened: t's columns, one after another"""
    got, want = observe(flattened)
    assert_close(got['out'], want['out'], what='flatten_transposed(arange(6).reshape(2, 3))')

@points(1)
def test_to_float64_on(observe):
    """to_float64_on(t, device) converts float32 and int32 tensors to float64 on device"""
    got, want = observe(converted)
    for source in ('float32', 'int32'):
        assert_close(got[source], want[source], what=f'to_float64_on(a {source} tensor, device)')

@points(2)
def test_scalar_autograd_example(observe):
    """scalar_autograd_example() returns x.grad, 4.5 everywhere"""
    got, want = observe(scalar_grad)
    grad, expected = (got['grad'], want['grad'])
    if grad.shape == expected.shape and torch.allclose(grad.double(), 4 * expected.double()):
        fail('x.grad is 4 times too big (18 instead of 4.5): out must be the mean of the 4 elements, ((x + 2)**2 * 3).mean(), not their sum')
    assert_close(grad, expected, what='x.grad')

@points(1)
def test_make_trainable(observe):
    """make_trainable(t) turns on requires_grad in place and returns t itself"""
    got, want = observe(trainable)
    if not got['original_requires_grad']:
        made = 'a new tensor that requires grad' if got['result_requires_grad'] else 'no change'
        fail(f'after make_trainable(t), t.requires_grad is still False ({made}): call t.requires_grad_() on t itself and return t')
    assert_close(got, want, what='make_trainable(t)')
