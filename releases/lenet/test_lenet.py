# The public tests of this assignment (made by `grader release`): hidden tests and
# what only they use are not in this file.
"""Tests for lenet: Net(), the LeNet of the PyTorch 60-minute blitz.

Each probe runs in the sandbox on the student's namespace and on the reference; each test
compares the two. Each of LeNet's five layers has a test of its own (found by name, else by its
kind's order: another name costs only the names test), so one layer with other channels, kernel or
padding costs its own test and the tests that need the whole net. The forward and gradient probes
set every parameter from a seeded generator, matching the student's parameters to LeNet's layers
by shape (the ten shapes are all different), so any layout of the same layers (nn.Sequential,
other names, another order) is graded on what it computes. Ten points in all.
"""
import math
import os
import re
import traceback
from typing import Any
import torch
import torch.nn.functional as F
from torch import nn
from grader.api import Mismatch, ProbeFailure, assert_close, assert_names_as_asked, construct, defined, fail, fits_module, graded_as, hidden, names_used, points, probe, require_method, still_a_stub
LAYERS = {'conv1': (6, 1, 5, 5), 'conv2': (16, 6, 5, 5), 'fc1': (120, 400), 'fc2': (84, 120), 'fc3': (10, 84)}
PARAMETERS = {f'{layer}.{kind}': shape if kind == 'weight' else shape[:1] for layer, shape in LAYERS.items() for kind in ('weight', 'bias')}
FEATURES_HINT = 'for 32 x 32 inputs, conv1 (5 x 5) gives 28 x 28, pooling 14 x 14, conv2 10 x 10 and pooling 5 x 5: each image has 16 x 5 x 5 = 400 features, so fc1 = nn.Linear(16 * 5 * 5, 120)'
FITS = fits_module(input=torch.zeros(2, 1, 32, 32), shape=(2, 10))

def build(ns: dict) -> nn.Module:
    """The student's Net(), with a forward of its own."""
    net = construct(defined(ns, 'Net', like=nn.Module, fit=FITS))
    if not isinstance(net, nn.Module):
        raise ProbeFailure(f'Net() is a {type(net).__name__}, not an nn.Module: write class Net(nn.Module)')
    require_method(net, 'forward', nn.Module)
    return net

def lenet_values(device: Any) -> dict[str, torch.Tensor]:
    """Every LeNet parameter by name, from a generator seeded 1234, filled in sorted-name order."""
    generator = torch.Generator().manual_seed(1234)
    values = {}
    for name in sorted(PARAMETERS):
        bound = 1 / math.sqrt(math.prod(LAYERS[name.split('.')[0]][1:]))
        values[name] = (torch.rand(PARAMETERS[name], generator=generator) * 2 - 1) * bound
    return {name: value.to(device) for name, value in values.items()}

def loaded(ns: dict, device: Any) -> tuple[nn.Module, dict[str, nn.Parameter]]:
    """The student's Net on ``device`` with LeNet's fixed values; its parameters by LeNet name."""
    net = build(ns).to(device)
    by_shape = {shape: name for name, shape in PARAMETERS.items()}
    found: dict[str, nn.Parameter] = {}
    unexpected = []
    for parameter in net.parameters():
        name = by_shape.get(tuple(parameter.shape))
        if name is None or name in found:
            unexpected.append(tuple(parameter.shape))
        else:
            found[name] = parameter
    missing = [name for name in PARAMETERS if name not in found]
    if missing or unexpected:
        parts = [f"LeNet's {name} {PARAMETERS[name]} is missing" for name in missing]
        parts += [f"a parameter of shape {shape} is not LeNet's" for shape in unexpected]
        hint = f'; {FEATURES_HINT}' if 'fc1.weight' in missing else ''
        raise ProbeFailure(f"Net's layers do not match LeNet's: {', '.join(parts)}{hint}")
    with torch.no_grad():
        for name, value in lenet_values(device).items():
            found[name].copy_(value)
    return (net, found)

def images(n: int, device: Any, seed: int=7) -> torch.Tensor:
    return torch.randn(n, 1, 32, 32, generator=torch.Generator().manual_seed(seed)).to(device)

def run(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``net(x)``, explaining the shape errors a forward typically raises."""
    try:
        out = net(x)
    except Exception as error:
        raise ProbeFailure(_forward_error(error, tuple(x.shape))) from None
    if not isinstance(out, torch.Tensor):
        raise ProbeFailure(f'Net()(x) returned a {type(out).__name__}, not a tensor')
    return out

def _forward_error(error: Exception, shape: tuple) -> str:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not os.path.isabs(f.filename) and (not f.filename.startswith('<'))]
    where = ''
    if frames:
        last = frames[-1]
        line = (last.line or '').strip()
        where = f' ({last.filename}, line {last.lineno}' + (f': `{line}`)' if line else ')')
    message = str(error).strip().splitlines()[0] if str(error).strip() else ''
    text = f'Net()(x) for x of shape {shape} raised {type(error).__name__}{where}: {message}'
    sizes = re.search('\\((\\d+)x(\\d+) and (\\d+)x(\\d+)\\)', message)
    if sizes and sizes[2] != sizes[3]:
        return f'{text}. The flattened features have {sizes[2]} values per image but the next nn.Linear expects {sizes[3]}: {FEATURES_HINT}'
    if 'is invalid for input of size' in message:
        return f'{text}. Flatten with torch.flatten(x, 1) or x.view(-1, 16 * 5 * 5): {FEATURES_HINT}'
    return text
POOLING = {'relu, then 2x2 max pooling': lambda y: F.max_pool2d(F.relu(y), 2), 'relu, then 2x2 average pooling': lambda y: F.avg_pool2d(F.relu(y), 2), '2x2 average pooling, then relu': lambda y: F.relu(F.avg_pool2d(y, 2)), '2x2 max pooling without relu': lambda y: F.max_pool2d(y, 2), '2x2 average pooling without relu': lambda y: F.avg_pool2d(y, 2), 'relu without pooling': F.relu, 'nothing (no relu, no pooling)': lambda y: y}
ACTIVATION = {'relu': F.relu, 'nothing (no activation)': lambda y: y, 'sigmoid': torch.sigmoid, 'tanh': torch.tanh}
OUTPUT = {"nothing (fc3's output is returned)": lambda y: y, 'relu': F.relu, 'softmax': lambda y: F.softmax(y, 1), 'log_softmax': lambda y: F.log_softmax(y, 1)}
STEPS = (('conv1', 'conv2', POOLING), ('conv2', 'fc1', POOLING), ('fc1', 'fc2', ACTIVATION), ('fc2', 'fc3', ACTIVATION), ('fc3', 'output', OUTPUT))

def _which(result: torch.Tensor | None, layer_out: torch.Tensor | None, candidates: dict) -> str:
    if result is None or layer_out is None:
        return 'not run'
    for label, function in candidates.items():
        value = function(layer_out)
        if value.numel() == result.numel() and torch.allclose(value.reshape(-1), result.reshape(-1), rtol=0.0001, atol=1e-05):
            return label
    return 'something else'

def steps_of(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, str]]:
    """``net(x)`` and what the student's forward does between LeNet's layers (seen by hooks)."""
    by_shape = {shape: name for name, shape in LAYERS.items()}
    seen: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    handles = []
    for module in net.modules():
        weight = getattr(module, 'weight', None)
        name = by_shape.get(tuple(weight.shape)) if isinstance(weight, torch.Tensor) else None
        if name is not None:

            def hook(module, inputs, output, name=name):
                seen[name] = (inputs[0].detach().clone(), output.detach().clone())
            handles.append(module.register_forward_hook(hook))
    try:
        out = run(net, x)
    finally:
        for handle in handles:
            handle.remove()
    seen['output'] = (out.detach(), out.detach())
    steps = {}
    for before, after, candidates in STEPS:
        result, layer_out = (seen.get(after, (None, None))[0], seen.get(before, (None, None))[1])
        steps[f'{before} -> {after}'] = _which(result, layer_out, candidates)
    return (out, steps)
LAYER_KINDS = (('Conv2d', ('conv1', 'conv2')), ('Linear', ('fc1', 'fc2', 'fc3')))

def _described(module: nn.Module) -> dict[str, Any]:
    """What makes a layer LeNet's: its kind, sizes, kernel, stride, padding and bias."""
    if isinstance(module, nn.Conv2d):
        padding = module.padding if isinstance(module.padding, str) else list(module.padding)
        return {'kind': 'Conv2d', 'in_channels': module.in_channels, 'out_channels': module.out_channels, 'kernel_size': list(module.kernel_size), 'stride': list(module.stride), 'padding': padding, 'bias': module.bias is not None}
    return {'kind': 'Linear', 'in_features': module.in_features, 'out_features': module.out_features, 'bias': module.bias is not None}

@probe
def layers(ns, device):
    """Each of LeNet's layers as the student built it: the module of that name, else the next
    one of its kind in the order they were registered (recorded: only the names test fails)."""
    net = build(ns)
    named: dict[int, tuple[str, nn.Module]] = {}
    lenet = {layer for _, layers in LAYER_KINDS for layer in layers}
    for name, module in net.named_modules(remove_duplicate=False):
        if id(module) not in named or name in lenet:
            named[id(module)] = (name, module)
    found: dict[str, Any] = {}
    for kind, names in LAYER_KINDS:
        cls = getattr(nn, kind)
        mine = [(name, module) for name, module in named.values() if isinstance(module, cls)]
        by_name = {name: module for name, module in mine if name in names}
        rest = [(name, module) for name, module in mine if name not in by_name]
        for layer in names:
            if layer in by_name:
                found[layer] = _described(by_name[layer])
            elif rest:
                name, module = rest.pop(0)
                found[layer] = _described(module)
                graded_as(type(net).__name__, layer, name)
            else:
                found[layer] = None
    return found

@probe
def forward_values(ns, device):
    net, _ = loaded(ns, device)
    out, steps = steps_of(net, images(4, device))
    return {'out': out, 'steps': steps}

def _step_difference(got: dict[str, str], want: dict[str, str]) -> str | None:
    for step, expected in want.items():
        if got.get(step) != expected:
            before, after = step.split(' -> ')
            return f'between {before} and {after} your Net applies {got.get(step)}; LeNet applies {expected}'
    return None

def _shown(layer: dict[str, Any]) -> str:
    if layer['kind'] == 'Conv2d':
        extra = ''.join((f', {key}={(tuple(layer[key]) if isinstance(layer[key], list) else layer[key])!r}' for key, default in (('stride', [1, 1]), ('padding', [0, 0])) if layer[key] != default))
        return f"Conv2d({layer['in_channels']}, {layer['out_channels']}, kernel_size={tuple(layer['kernel_size'])}{extra}" + (', bias=False' if not layer['bias'] else '') + ')'
    return f"Linear({layer['in_features']}, {layer['out_features']}" + (', bias=False' if not layer['bias'] else '') + ')'
HINTS = {('conv1', 'in_channels'): "the blitz's images have 1 channel (3 is CIFAR-10's colour images)", ('fc1', 'in_features'): FEATURES_HINT}

def _check_layer(observe, name: str) -> None:
    got, want = observe(layers)
    mine, asked = (got[name], want[name])
    if mine is None:
        fail(f"Net() has no {name}: LeNet's {name} is nn.{_shown(asked)} (found neither a module named {name} nor one more nn.{asked['kind']} in Net)")
    if mine != asked:
        differ = [key for key in asked if mine.get(key) != asked[key]]
        hints = [HINTS[name, key] for key in differ if (name, key) in HINTS]
        fail(f"{name} is nn.{_shown(mine)}; LeNet's {name} is nn.{_shown(asked)} ({', '.join(differ)} differ{('s' if len(differ) == 1 else '')})" + (f": {'; '.join(hints)}" if hints else ''))

@points(1)
def test_conv1(observe):
    """conv1 is nn.Conv2d(1, 6, 5)"""
    _check_layer(observe, 'conv1')

@points(1)
def test_conv2(observe):
    """conv2 is nn.Conv2d(6, 16, 5)"""
    _check_layer(observe, 'conv2')

@points(1)
def test_fc1(observe):
    """fc1 is nn.Linear(16 * 5 * 5, 120)"""
    _check_layer(observe, 'fc1')

@points(1)
def test_fc2(observe):
    """fc2 is nn.Linear(120, 84)"""
    _check_layer(observe, 'fc2')

@points(1)
def test_fc3(observe):
    """fc3 is nn.Linear(84, 10)"""
    _check_layer(observe, 'fc3')

@points(2)
def test_forward_values(observe):
    """with fixed weights, Net()(x) equals LeNet's output for 4 images"""
    got, want = observe(forward_values)
    try:
        assert_close(got['out'], want['out'], what='Net()(x) with fixed weights')
    except Mismatch as mismatch:
        cause = _step_difference(got['steps'], want['steps'])
        if cause is None:
            raise
        fail(f'{mismatch}\nLikely cause: {cause}')

@points(1)
def test_layer_steps(observe):
    """relu and 2x2 max pooling after each conv, relu after fc1 and fc2, nothing after fc3"""
    got, want = observe(forward_values)
    cause = _step_difference(got['steps'], want['steps'])
    if cause:
        fail(cause)

@probe
def names(ns, device):
    try:
        found = defined(ns, 'Net', like=nn.Module, fit=FITS)
    except ProbeFailure:
        return names_used(ns, ['Net'])
    return {**names_used(ns, ['Net']), 'stub': still_a_stub(lambda: construct(found))}

@points(1)
def test_names_as_asked(observe):
    """the network is named Net, as the task asks"""
    got, _ = observe(names)
    assert_names_as_asked(got)
