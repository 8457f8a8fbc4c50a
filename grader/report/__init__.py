"""Every file the grader writes for people: the report and what is sent on from it.

| module | writes |
| --- | --- |
| ``tables`` | ``scores.csv``, ``results.csv``, ``run.json`` (pandas tables, the run's header) |
| ``html`` | ``scores.parquet`` and ``report.html``, the instructor's page (``gradebook``: its tables) |
| ``feedback`` | ``feedback/STUDENT.md``, ``.html`` (``notebook_page``: the annotated notebook) |
| ``files`` | the one atomic writer and writability check every writer uses |
| ``escaping`` | text from submissions, bounded and escaped per sink (CSV, terminal, HTML, Markdown, XML) |

Importing this package imports none of them (pandas and nbconvert are slow to import): the report's
entry points below are looked up when first used.
"""

from __future__ import annotations

from typing import Any

_ENTRY_POINTS = {"write_report": "tables", "results_table": "tables", "scores_table": "tables",
                 "header": "tables"}

__all__ = list(_ENTRY_POINTS)


def __getattr__(name: str) -> Any:
    if name in _ENTRY_POINTS:
        import importlib

        return getattr(importlib.import_module(f"grader.report.{_ENTRY_POINTS[name]}"), name)
    raise AttributeError(f"module 'grader.report' has no attribute {name!r}")
