"""Hostile: writes no MyLinear of its own; it looks for a solution on the grading machine and runs it.

Instructors keep solutions near the submissions (``course/solution.py`` beside
``course/submissions/``). This looks in the folders around its own file and the judge's results
(their host paths are on its own stack: the request the sandbox received), in ``/`` and the usual
homes, for a ``solution*.py`` file that defines ``class MyLinear``, and executes the first one it
finds. In the allow-listed sandbox none of those folders exist.
"""
import os
import sys
from pathlib import Path


def hidden_paths():
    """Host paths the sandbox's request names: this file, and where its results go."""
    frame = sys._getframe()
    while frame is not None:
        request = frame.f_locals.get("request")
        if hasattr(request, "source") and hasattr(request, "result"):
            return [Path(request.source), Path(request.result)]
        frame = frame.f_back
    import gc

    return next(([Path(o.source), Path(o.result)] for o in gc.get_objects()
                 if type(o).__name__ == "SandboxRequest"), [])


def candidates():
    places = {path.parent for path in hidden_paths()} | {path.parent.parent for path in hidden_paths()}
    places |= {Path("/home"), Path("/root"), Path("/srv"), Path("/var/tmp"), Path("/tmp"), Path("/")}
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
