"""Trust, round two: floods the judge. In the order the judge accepts (a load frame first), it
writes 30 extra result frames under made-up probe names, each header just under the 1 MB cap and
made of empty lists (the costliest JSON to decode): about 27 MB the judge must not decode."""
import json
import os
import struct
import sys


def result_fd():
    """The pipe the sandbox sends observations through: found on the stack, or among the open fds."""
    frame = sys._getframe()
    while frame is not None:
        if isinstance(frame.f_locals.get("result_fd"), int):
            return frame.f_locals["result_fd"]
        frame = frame.f_back
    for name in os.listdir("/proc/self/fd"):
        if int(name) > 2 and os.readlink(f"/proc/self/fd/{name}").startswith("pipe:"):
            return int(name)
    raise RuntimeError("no result pipe")


def frame(header: dict) -> bytes:
    data = json.dumps(header).encode()
    return struct.pack("<I", len(data)) + data + struct.pack("<Q", 0)


def write(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


fd = result_fd()
write(fd, frame({"kind": "load", "name": "", "value": {"$d": {"cells": 1, "errors": [], "notes": []}},
                 "error": None, "extra": {}}))
junk = [[] for _ in range(240_000)]  # about 960 KB of JSON
for index in range(30):
    write(fd, frame({"kind": "probe", "name": f"made_up_{index}", "value": junk, "error": None, "extra": {}}))
