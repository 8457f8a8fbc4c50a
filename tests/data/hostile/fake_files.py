"""Hostile: forward is wrong (zeros), and the file writes fake reports wherever it can."""
import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        if bias:
            self.bias = nn.Parameter(torch.randn(out_features))
        else:
            self.bias = None

    def forward(self, x):
        return torch.zeros(*x.shape[:-1], self.weights.shape[1])


import json
import os
import sys
from pathlib import Path

FAKE_SCORES = "student,score,max_score,status\nfake_files,10,10,graded\nalice,0,10,FAKE-MARKER\n"
FAKE_JSON = json.dumps({"score": 10, "max_score": 10, "student": "fake_files"})
places = [Path.cwd(), Path.cwd().parent, Path("/tmp"), Path(os.environ.get("HOME", "/tmp")), Path("/"),
          Path("/work"), Path("/dev/shm")]
try:
    import grader

    places += [Path(grader.__file__).resolve().parent, Path(grader.__file__).resolve().parents[1]]
except Exception:
    pass
places += [Path(arg).resolve().parent for arg in sys.argv if arg.endswith(".py")]
for place in places:
    for name, text in (("results.json", FAKE_JSON), ("scores.csv", FAKE_SCORES),
                       ("results.csv", FAKE_SCORES), ("hostile-was-here.txt", "FAKE-MARKER")):
        try:
            (place / name).write_text(text)
            print("HOSTILE wrote", place / name)
        except OSError as error:
            print("HOSTILE could not write", place / name, error.strerror)
