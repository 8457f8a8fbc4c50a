"""A cell: the unit of a submission that runs (a notebook's code cell, a script's ``# %%`` cell, a
marimo cell or a top-level statement), and IPython's syntax made plain Python. Shared by
``notebook`` and ``scripts``; imports nothing of the grader."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based, counting code cells only as a student sees them ("cell 3")
    source: str
    filename: str  # what tracebacks show: "alice.py" or "cell 3"
    first_line: int = 1  # the line of ``filename`` where ``source`` begins (a script's cells)

    def code_text(self) -> str:
        """The source as compiled: blank lines first, so that line numbers are the file's."""
        return "\n" * (self.first_line - 1) + self.source if self.first_line > 1 else self.source


def transform_ipython(source: str) -> str:
    """IPython syntax to plain Python, with IPython's own transformer."""
    if "%" not in source and "!" not in source and "?" not in source:
        return source
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # leave it to compile() to report the syntax error
        return source
