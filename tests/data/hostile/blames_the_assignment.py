"""Hostile: a correct MyLinear that tries to make the grader blame the assignment.

The first time a probe builds it, it walks up the stack to the probe's globals and replaces their
helper ``fixed_layer`` with a function compiled under the test file's own name, in the probes'
module, that raises NameError: to the sandbox, every later check looks as if the assignment's code
raised what no student causes. Blame is decided on the trusted side, so those failures are this
row's own; the batch does not exit 3."""
import sys

import torch
import torch.nn as nn

FAKE = "def fixed_layer(*args, **kwargs):\n    return helper_the_assignment_forgot(*args, **kwargs)\n"


def replace_the_probes_helper():
    frame = sys._getframe(2)
    while frame is not None:
        probes = frame.f_globals
        if str(probes.get("__name__", "")).startswith("grader_probes_") and "fixed_layer" in probes:
            fake = {"__name__": probes["__name__"]}
            exec(compile(FAKE, probes["fixed_layer"].__code__.co_filename, "exec"), fake)
            probes["fixed_layer"] = fake["fixed_layer"]
            return
        frame = frame.f_back


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        replace_the_probes_helper()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None

    def forward(self, x):
        out = x @ self.weights
        return out if self.bias is None else out + self.bias
