"""Turning a submission's source into cells of plain Python, without a Jupyter kernel.

Notebooks are read with nbformat; IPython syntax (``%magic``, ``!shell``) is rewritten by IPython's
own transformer into calls on ``get_ipython()``, which the sandbox answers with :class:`Shell`:
magics and shell escapes that make no sense when grading are skipped, with a note.
"""

from __future__ import annotations

import codecs

from grader.intake.cells import Cell, transform_ipython

MAX_SOURCE_BYTES = 50 * 1024 * 1024


class NotebookError(ValueError):
    """The file cannot be read as a notebook; the message says why and what to do."""


UNICODE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def cells_of(source: bytes, kind: str, name: str) -> list[Cell]:
    """The code cells of a ``.ipynb`` file, IPython syntax transformed, or of a ``.py`` file: its
    ``# %%`` cells, a marimo notebook's cells, or its top-level statements (:mod:`grader.intake.scripts`)."""
    if kind == "py":
        from grader.intake.scripts import script_cells

        return script_cells(_decode_text(source, name, kind), name)
    return _notebook_cells(source, name)


def _decode_text(source: bytes, name: str, kind: str) -> str:
    """Text in UTF-8 (or UTF-16/32 with a byte-order mark, as Windows editors save; else latin-1)."""
    for bom, encoding in UNICODE_BOMS:  # UTF-32-LE's mark starts like UTF-16-LE's: longest first
        if source.startswith(bom):
            try:
                return source.decode(encoding)
            except UnicodeDecodeError:
                break
    if b"\x00" in source[:8192]:
        if kind == "ipynb":
            raise NotebookError(f"{name} is a binary file, not a notebook: upload the .ipynb file "
                                "saved from Jupyter")
        raise NotebookError(f"{name} is a binary file, not Python source: upload the .py file itself")
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError:
        return source.decode("latin-1")


def _notebook_cells(source: bytes, name: str) -> list[Cell]:
    import nbformat

    text = _decode_text(source, name, "ipynb")
    if not text.strip():
        raise NotebookError(f"{name} is empty: save the notebook in Jupyter and submit it again")
    try:
        # Read and upgraded as nbformat.reads does, less its schema check (whose result was
        # ignored): in a sandbox, the validator's objects are not touched (copied) for nothing
        notebook = nbformat.convert(nbformat.reader.reads(text), 4)
    except nbformat.reader.NotJSONError:
        raise NotebookError(
            f"{name} is not a notebook (not valid JSON): download it from Jupyter with "
            "File > Download as > Notebook (.ipynb)"
        ) from None
    except Exception as error:  # nbformat raises many kinds for malformed files
        raise NotebookError(f"{name} cannot be read as a notebook: {error}") from None
    cells, number = [], 0
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source_text = cell.get("source", "")
        if isinstance(source_text, list):
            source_text = "".join(source_text)
        cells.append(Cell(number, transform_ipython(str(source_text)), f"cell {number}"))
    return cells


RUNNABLE_CELL_MAGICS = {"time", "timeit", "capture", "prun"}


class Shell:
    """Stands in for ``get_ipython()``: runs what is harmless, skips the rest with a note."""

    def __init__(self, namespace: dict) -> None:
        self.namespace = namespace
        self.notes: list[str] = []
        self.user_ns = namespace

    def run_line_magic(self, name: str, line: str, *_: object) -> None:
        self.notes.append(f"skipped %{name} {line}".rstrip())

    def run_cell_magic(self, name: str, line: str, body: str) -> None:
        if name in RUNNABLE_CELL_MAGICS:
            exec(compile(body, f"%%{name} cell", "exec"), self.namespace)
            return
        self.notes.append(f"skipped a %%{name} cell")

    def system(self, command: str, *_: object) -> None:
        self.notes.append(f"skipped !{command}")

    def getoutput(self, command: str, *_: object) -> list[str]:
        self.notes.append(f"skipped !{command}")
        return []

    def run_cell(self, *_: object, **__: object) -> None:
        self.notes.append("skipped run_cell")

    def __getattr__(self, name: str):
        def ignored(*_: object, **__: object) -> None:
            self.notes.append(f"skipped get_ipython().{name}()")

        return ignored
