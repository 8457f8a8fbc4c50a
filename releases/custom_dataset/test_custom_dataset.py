# The public tests of this assignment (made by `grader release`): hidden tests and
# what only they use are not in this file.
"""Tests for custom_dataset: CustomDataset(text, labels), make_loader and manual_batches.

Each probe runs in the sandbox on the student's namespace and on the reference; each test
compares the two. Ten points in all.
"""
from collections.abc import Mapping
from typing import Any
import torch
from torch.utils.data import DataLoader, Dataset
from grader.api import ProbeFailure, assert_close, assert_names_as_asked, check_signature, construct, defined, fail, fits_signature, hidden, names_used, points, probe, require_method, still_a_stub
TEXT = ['Happy', 'Amazing', 'Sad', 'Unhappy', 'Glum']
LABELS = ['Positive', 'Positive', 'Negative', 'Negative', 'Negative']
NUMBERS = [1, 1, 0, 0, 0]
MORE_TEXT = ['Glad', 'Great', 'Awful', 'Fine', 'Bad', 'Superb', 'Dull']
MORE_LABELS = ['Positive', 'Positive', 'Negative', 'Positive', 'Negative', 'Positive', 'Negative']

def fits_dataset(cls: Any) -> None:
    """Grace's test of a candidate Dataset: CustomDataset(text, labels) has their length and an
    item 0."""
    data = construct(cls, ['a', 'b'], [0, 1])
    if len(data) != 2:
        raise ProbeFailure(f'len({cls.__name__}(text, labels)) is {len(data)}, not len(text) = 2')
    data[0]

def dataset(ns: dict, text: list, labels: list) -> Any:
    """The student's CustomDataset(text, labels), with its own __len__ and __getitem__."""
    cls = defined(ns, 'CustomDataset', like=Dataset, fit=fits_dataset)
    data = construct(cls, list(text), list(labels))
    require_method(data, '__getitem__', Dataset)
    require_method(data, '__len__')
    return data

def plain(value: Any) -> Any:
    """A 0-d tensor or a NumPy scalar (a label may be one) as the Python value it holds."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, torch.Tensor):
        return value.item() if value.dim() == 0 else value
    item = getattr(value, 'item', None)
    return item() if callable(item) else f'<a {type(value).__name__}>'
SIGNATURES = {'make_loader': ('dataset', 'batch_size', 'shuffle'), 'manual_batches': ('x', 'y', 'bs')}

def call(ns: dict, name: str, *args: Any) -> Any:
    """``name(*args)``, its signature checked against the task's before the call."""
    function = defined(ns, name, fit=fits_signature(*SIGNATURES[name]))
    check_signature(function, SIGNATURES[name])
    try:
        return function(*args)
    except TypeError as error:
        if 'argument' not in str(error):
            raise
        raise ProbeFailure(f"{name}({', '.join(map(_show, args))}) failed: {error}; check its parameters against the task") from None

def _show(value: Any) -> str:
    return f'<{len(value)} samples>' if isinstance(value, list | torch.Tensor) else repr(value)

def batches_of(loader: Any, what: str, advice: str='return the DataLoader') -> list:
    try:
        return list(loader)
    except TypeError as error:
        if 'iter' not in str(error):
            raise
        raise ProbeFailure(f'{what} returned a {type(loader).__name__}, which cannot be iterated: {advice}') from None

@probe
def lengths(ns, device):
    return [len(dataset(ns, TEXT, LABELS)), len(dataset(ns, MORE_TEXT, MORE_LABELS))]

@probe
def items(ns, device):
    data = dataset(ns, TEXT, LABELS)
    found = []
    for index in range(len(TEXT)):
        item = data[index]
        if not isinstance(item, Mapping):
            raise ProbeFailure(f'dataset[{index}] returned a {type(item).__name__}; the task asks for a dict with the keys "Text" (the text) and "Class" (its label)')
        found.append({str(key): plain(value) for key, value in item.items()})
    return found

@probe
def collated(ns, device):
    return list(DataLoader(dataset(ns, TEXT, NUMBERS), batch_size=2))

@probe
def loader_batches(ns, device):
    loader = call(ns, 'make_loader', list(range(10)), 4, False)
    return {'is_dataloader': isinstance(loader, DataLoader), 'batches': batches_of(loader, 'make_loader(data, 4, False)')}

def _manual(ns: dict, device: Any, sizes: tuple[int, ...]) -> dict[str, list]:
    x, y = (torch.arange(30.0, device=device).reshape(10, 3), torch.arange(10, device=device))
    found = {}
    for bs in sizes:
        what = f'manual_batches(x, y, {bs})'
        result = call(ns, 'manual_batches', x, y, bs)
        if result is None:
            raise ProbeFailure(f'{what} returned None: yield each (x_batch, y_batch) pair')
        pairs = batches_of(result, what, 'yield each (x_batch, y_batch) pair')
        for pair in pairs:
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise ProbeFailure(f'{what} produced a {type(pair).__name__}, not an (x_batch, y_batch) pair')
        found[f'bs={bs}'] = [list(pair) for pair in pairs]
    return found

@probe
def manual_even(ns, device):
    return _manual(ns, device, (5, 2))

@probe
def manual_uneven(ns, device):
    return _manual(ns, device, (4, 3, 20))

@points(1)
def test_length(observe):
    """len(CustomDataset(text, labels)) is the number of samples"""
    got, want = observe(lengths)
    for count, expected in zip(got, want, strict=True):
        if count != expected:
            hint = ': off by one (return len(self.labels))' if abs(count - expected) == 1 else ''
            fail(f'len(CustomDataset(text, labels)) with {expected} samples is {count}{hint}')

@points(2)
def test_getitem(observe):
    """each item is a dict: {"Text": the text, "Class": its label}"""
    got, want = observe(items)
    for index, (item, expected) in enumerate(zip(got, want, strict=True)):
        assert_close(item, expected, what=f'dataset[{index}]')

@points(1)
def test_collate(observe):
    """DataLoader(dataset, batch_size=2) gives dicts of 2 texts and 2 labels, the last one short"""
    got, want = observe(collated)
    assert_close(got, want, what='the batches of DataLoader(CustomDataset(text, labels), batch_size=2)')

@points(1)
def test_make_loader(observe):
    """make_loader(data, 4, False) returns a DataLoader: batches of 4, 4 and 2, in order"""
    got, want = observe(loader_batches)
    if not got['is_dataloader']:
        fail('make_loader does not return a torch.utils.data.DataLoader: return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)')
    assert_close(got['batches'], want['batches'], what='the batches of make_loader(range(10), 4, False)')

@points(1)
def test_manual_batches_even(observe):
    """manual_batches(x, y, bs) yields DataLoader(TensorDataset(x, y), batch_size=bs)'s batches"""
    got, want = observe(manual_even)
    assert_close(got, want, what='manual_batches on 10 samples')

@points(1)
def test_manual_batches_uneven(observe):
    """manual_batches also yields the last, shorter batch when bs does not divide n"""
    got, want = observe(manual_uneven)
    for key, expected in want.items():
        bs = int(key.removeprefix('bs='))
        if len(got[key]) == len(expected) - 1:
            fail(f'manual_batches(x, y, {bs}) on 10 samples gave {len(got[key])} batches, expected {len(expected)}: the last batch of {10 % bs} samples is missing (loop over range(0, n, bs), or over range((n + bs - 1) // bs))')
        assert_close(got[key], expected, what=f'manual_batches(x, y, {bs}) on 10 samples')

@probe
def names(ns, device):
    try:
        found = defined(ns, 'CustomDataset', like=Dataset, fit=fits_dataset)
    except ProbeFailure:
        return names_used(ns, ['CustomDataset'])
    return {**names_used(ns, ['CustomDataset']), 'stub': still_a_stub(lambda: construct(found, list(TEXT), list(LABELS)))}

@points(1)
def test_names_as_asked(observe):
    """the dataset is named CustomDataset, as the task asks"""
    got, _ = observe(names)
    assert_names_as_asked(got)
