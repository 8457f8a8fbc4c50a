"""Reading an assignment: what its warm server imports for a given class."""

import dataclasses

import pytest

from grader.errors import GraderError
from grader.intake.assignment import find_assignment, load_assignment


def test_warm_imports_follow_what_the_class_uses(tmp_path):
    layer = find_assignment("custom_layer")
    assert layer.warm_imports() == ()  # neither its reference nor its tests need more than torch
    plotting = tmp_path / "plots.ipynb"
    plotting.write_text('{"cells": [{"source": "import matplotlib.pyplot as plt"}]}')
    training = tmp_path / "trains.py"
    training.write_text("opt = torch.optim.SGD(model.parameters(), lr=0.1)\n")
    assert layer.warm_imports([plotting]) == ("matplotlib.pyplot",)
    magic_only = tmp_path / "magic.ipynb"  # %matplotlib is skipped when grading: nothing to import
    magic_only.write_text('{"cells": [{"source": "%matplotlib inline\\nimport torch"}]}')
    assert layer.warm_imports([magic_only]) == ()
    assert set(layer.warm_imports([plotting, training])) == {
        "torch._dynamo", "torch.fx.experimental.symbolic_shapes", "matplotlib.pyplot"}
    assert "torch._dynamo" in find_assignment("training_loop").warm_imports()  # its probes train
    assert len(layer.warm_imports(everything=True)) == 3  # a Dask worker cannot know the class


def test_preload_in_assignment_toml_wins(tmp_path):
    layer = find_assignment("custom_layer")
    folder = tmp_path / "preloaded"
    folder.mkdir()
    (folder / "reference.py").write_bytes(layer.reference.read_bytes())
    (folder / "test_it.py").write_bytes(layer.test_files[0].read_bytes())
    (folder / "assignment.toml").write_text('name = "preloaded"\n[sandbox]\npreload = ["numpy"]\n')
    assert load_assignment(folder).warm_imports(everything=True) == ("numpy",)
    assert dataclasses.replace(load_assignment(folder), preload=()).warm_imports() == ()
    (folder / "assignment.toml").write_text('name = "preloaded"\n[sandbox]\npreload = "numpy"\n')
    with pytest.raises(GraderError, match="must be a list"):
        load_assignment(folder)
