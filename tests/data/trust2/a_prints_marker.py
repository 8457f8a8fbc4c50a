"""Trust, round two: an honest-looking student who prints a line of its own (a marker) many
times, and holds a second one in its source: no later sandbox may find either in its memory."""
import torch
from torch import nn

SOURCE_MARKER = "SRCMARK:8141592653589793238462643383279502884197"  # only in this file's bytes

for _ in range(3000):  # past the head the server keeps: its tail too
    print("OUTMARK:" + "".join(str(i * 7 % 10) for i in range(40)), flush=True)


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None

    def forward(self, x):
        out = x @ self.weights
        return out + self.bias if self.bias is not None else out
