"""Hostile: writes no MyLinear of its own; it looks for a solution on the grading machine and runs it.

Instructors keep solutions near the submissions (``course/solution.py`` beside
``course/submissions/``); the sandbox hides the submissions folder, the assignment's tests and
reference, and the report folder. This looks in the folders around the hidden ones (their paths are
on its own stack: the request the sandbox received) and in the usual homes, for a ``solution*.py``
file that defines ``class MyLinear``, and executes the first one it finds. (Any other correct file
that the grader's user can read stays readable: see the README's caveats.)
"""
import os
import sys
from pathlib import Path


def hidden_paths():
    frame = sys._getframe()
    while frame is not None:
        request = frame.f_locals.get("request")
        if isinstance(request, dict) and isinstance(request.get("hide"), list | tuple):
            return [Path(p) for p in request["hide"]]
        frame = frame.f_back
    import gc

    return next(([Path(p) for p in o["hide"]] for o in gc.get_objects() if isinstance(o, dict)
                 and isinstance(o.get("hide"), list | tuple)), [])


def candidates():
    places = {path.parent for path in hidden_paths()}
    places |= {Path("/home"), Path("/root"), Path("/srv"), Path("/var/tmp")}
    for place in sorted(places):
        for folder, dirs, files in os.walk(place):
            if folder.count(os.sep) - str(place).count(os.sep) >= 3:
                dirs[:] = []
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.startswith("solution") and name.endswith(".py"):
                    yield Path(folder) / name


for path in candidates():
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        continue
    if "class MyLinear" in text and "copycat" not in text:
        print("HOSTILE copied", path)
        exec(compile(text, str(path), "exec"))
        break
else:
    print("HOSTILE found nothing to copy")
