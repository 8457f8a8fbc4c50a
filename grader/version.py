"""The grader's version: one place, imported by whatever records it (no module imports the package root)."""

__version__ = "0.1.0"

DISTRIBUTION = "torchgrader"
"""The name on PyPI (``pip install torchgrader``); the import package and the command stay ``grader``."""

OPTIONAL_PACKAGES = ("torchvision", "torchaudio", "numpy", "matplotlib", "distributed")
"""Packages a submission may use whose presence (and version) can change a grade."""


def environment(device: str = "cpu") -> dict:
    """Where a grade was made: the grader, torch and Python versions, the device, and the version
    of each optional package (None when it is not installed), read without importing any of them."""
    import importlib.metadata
    import platform

    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {"grader": __version__, "torch": version("torch"), "python": platform.python_version(),
            "device": device, "packages": {name: version(name) for name in OPTIONAL_PACKAGES}}
