"""The grader's version: one place, imported by whatever records it (no module imports the package root)."""

__version__ = "0.1.0"

DISTRIBUTION = "torchgrader"
"""The name on PyPI (``pip install torchgrader``); the import package and the command stay ``grader``."""
