"""Scripts as cells (grader.intake.scripts), run as the sandbox runs them (grader.sandbox.child._run_cells):
a crash early in a script costs nothing after it, and every error names the file's line."""


from grader.intake.notebook import cells_of
from grader.model import CellError
from grader.sandbox.child import _run_cells


def run(source: str, name: str = "s.py"):
    namespace, _, errors = _run_cells(cells_of(source.encode(), "py", name), "py", budget=10)
    return namespace, [CellError.of_value(e).text_for("py") for e in errors], errors


def test_top_level_statements_a_crash_keeps_later_definitions():
    namespace, errors, _ = run("import math\nx = y + 1  # scratch\n\n@staticmethod\ndef f():\n"
                               "    return 1\n\nclass Net:\n    pass\n")
    assert errors == ["NameError at line 2 `x = y + 1  # scratch`: name 'y' is not defined"]
    assert "Net" in namespace and "f" in namespace


def test_decorators_stay_with_their_definition():
    cells = cells_of(b"import functools\n@functools.lru_cache\ndef f():\n    return 1\n", "py", "a.py")
    assert [(c.first_line, c.source.splitlines()[0]) for c in cells] == [
        (1, "import functools"), (2, "@functools.lru_cache")]


def test_percent_cells_skip_markdown_and_keep_file_lines():
    source = "# %% [markdown]\n# Title\n# %%\nimport torch\n# %% load\nw = open('w.pt')\n# %%\nz = 3\n"
    cells = cells_of(source.encode(), "py", "p.py")
    assert [(c.number, c.first_line) for c in cells] == [(1, 4), (2, 6), (3, 8)]
    namespace, errors, _ = run(source, "p.py")
    assert errors[0].startswith("FileNotFoundError at line 6 `w = open('w.pt')`")
    assert namespace["z"] == 3


def test_nbconvert_script_markers_are_cells():
    cells = cells_of(b"#!/usr/bin/env python\n# In[1]:\nx = 1\n\n# In[ ]:\ny = x\n", "py", "n.py")
    assert [c.first_line for c in cells] == [1, 3, 6]


MARIMO = '''import marimo

app = marimo.App()


@app.cell
def _(Helper, torch):
    out = Helper()(torch.ones(2))
    return (out,)


@app.cell
def _(nn):
    class Helper(nn.Module):
        def forward(self, x):
            return x * 2
    return (Helper,)


@app.cell
def _():
    import torch
    from torch import nn
    return nn, torch


if __name__ == "__main__":
    app.run()
'''


def test_marimo_cells_run_in_dependency_order_without_marimo():
    namespace, errors, _ = run(MARIMO, "m.py")
    assert errors == []
    assert namespace["out"].tolist() == [2.0, 2.0]


def test_marimo_error_names_the_files_line():
    _, errors, _ = run(MARIMO.replace("return x * 2", "return x * undefined"), "m.py")
    assert errors[0].startswith("NameError at line 16 `return x * undefined`")


def test_a_syntax_error_leaves_one_cell_for_compile_to_report():
    cells = cells_of(b"x = 1\ndef f(:\n    pass\n", "py", "g.py")
    assert len(cells) == 1
    _, errors, _ = run("x = 1\ndef f(:\n    pass\n", "g.py")
    assert errors[0].startswith("SyntaxError at line 2")


def test_a_failed_download_says_there_is_no_network():
    _, errors, _ = run("import socket\nraise socket.gaierror(-3, 'Temporary failure in name resolution')\n")
    assert errors[0].startswith("there is no network while grading")


def test_cuda_without_a_gpu_says_so_in_words():
    _, errors, _ = run("raise AssertionError('Torch not compiled with CUDA enabled')\n")
    assert errors[0].startswith('your code uses the GPU (.cuda() or device="cuda"), but this grader has no GPU')


def test_plt_pause_show_and_draw_return_at_once():
    namespace, errors, _ = run("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                               "for _ in range(20):\n    plt.plot([1, 2])\n    plt.pause(0.5)\n"
                               "plt.show()\nplt.draw()\n")
    assert errors == []
    plt = namespace["plt"]
    assert all(getattr(plt, name).__module__ != "matplotlib.pyplot" for name in ("pause", "show", "draw"))


def test_a_cell_error_names_the_cell_its_line_is_in():
    text = CellError.of_value({"cell": 5, "type": "NameError", "line": 3, "where": "cell 4",
                             "text": "y", "message": "name 'y' is not defined"}).text_for("ipynb")
    assert text == "cell 5: NameError at line 3 of cell 4 `y`: name 'y' is not defined"


def test_a_time_out_names_the_line_without_soft_timeout():
    error = CellError.of_value({"cell": 2, "type": "SoftTimeout", "line": 7, "where": "cell 2",
                                "text": "while True:", "message": "ran too long and was stopped"})
    text = error.text_for("ipynb")
    assert text == ("cell 2: stopped at line 7 `while True:` at the time limit: an endless loop, "
                    "or code too slow to grade?")


def test_a_missing_package_says_what_to_do():
    namespace, errors, _ = run("import torchvision_not_here.transforms as T\n\nclass Net:\n    pass\n")
    assert errors == ["ModuleNotFoundError at line 1 `import torchvision_not_here.transforms as T`: "
                      "No module named 'torchvision_not_here': torchvision_not_here is not installed where "
                      "your work is graded, so the graded code must not need it (if torchvision_not_here "
                      "is a module of your own, hand in torchvision_not_here.py with your work)"]
    assert "Net" in namespace


def test_names_a_failing_cell_would_have_defined_include_nested_statements():
    from grader.sandbox.headless import defined_names

    source = ("import torch\nwith open('d.csv') as handle:\n    SCALE = 1\nfor i in range(2):\n    C = i\n"
              "try:\n    D = 1\nexcept OSError as error:\n    E = 2\ndef f():\n    G = 1\n")
    assert sorted(defined_names(source)) == ["C", "D", "E", "SCALE", "f", "handle", "i", "torch"]
