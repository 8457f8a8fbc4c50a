"""Escape: hold far more memory than the limit, spread over several processes (each under a
per-process limit) and the tmpfs mounts; it reports how much it held at once."""
import torch
import torch.nn as nn


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None

    def forward(self, x):
        out = x @ self.weights
        return out + self.bias if self.bias is not None else out


def report(key, value):
    print(f"ESCAPE {key}: {value}", flush=True)

import os
import time

CHILD_MB, CHILDREN = 200, 4
ready_r, ready_w = os.pipe()
children = []
for _ in range(CHILDREN):
    pid = os.fork()
    if pid == 0:
        try:
            block = bytearray(CHILD_MB << 20)
            for i in range(0, len(block), 4096):
                block[i] = 1
            os.write(ready_w, b"x")
            time.sleep(30)
        finally:
            os._exit(0)
    children.append(pid)
time.sleep(0.2)
deadline = time.monotonic() + 6
held = 0
os.set_blocking(ready_r, False)
while time.monotonic() < deadline:
    try:
        held += len(os.read(ready_r, 64))
    except BlockingIOError:
        pass
    alive = sum(1 for pid in children if os.waitpid(pid, os.WNOHANG) == (0, 0))
    if held >= CHILDREN or (held and alive < CHILDREN):
        break
    time.sleep(0.1)
alive = [pid for pid in children if os.waitpid(pid, os.WNOHANG) == (0, 0)]
report("children_holding", f"{len(alive)} of {CHILDREN} ({CHILD_MB} MB each)")
written = 0
for folder in ("/tmp", "/dev/shm"):
    try:
        with open(os.path.join(folder, "hoard"), "wb") as handle:
            for _ in range(300):
                handle.write(b"\0" * (1 << 20))
                written += 1
    except OSError as error:
        report(folder, f"stopped {error.errno}")
report("tmpfs_mb", written)
for pid in alive:
    os.kill(pid, 9)
