"""`grader similar`: copied code and identical wrong results are flagged; pages escape student text."""

from __future__ import annotations

import json

import nbformat
import pandas as pd

from grader.course.similarity import ranked_rows, write_similarity

STARTER = "import torch\nfrom torch import nn\n\nclass MyLinear(nn.Module):\n    pass  # TODO\n"
OWN = {
    "ann": "def train(model, data):\n    for step, (x, y) in enumerate(data):\n        loss = "
           "((model(x) - y) ** 2).mean()\n        loss.backward()\n        print('step', step, loss)\n",
    "ben": "class Accumulator:\n    def __init__(self):\n        self.total = 0.0\n    def add(self, "
           "value):\n        self.total += float(value) * 0.5 + 3\n        return self.total\n",
    "cy": "def helper(tensor):\n    shape = tensor.shape\n    flat = tensor.reshape(-1)\n    return "
          "flat.sum() / max(1, len(flat)), shape, '<script>alert(1)</script>'\n",
}


def graded_folder(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    out.mkdir()
    codes = dict(OWN, dan="# mine\n" + OWN["cy"].replace("flat", "flat_"))  # dan copies cy
    rows = []
    for student, code in codes.items():
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(STARTER),
                                                   nbformat.v4.new_code_cell(code)])
        nbformat.write(notebook, subs / f"{student}.ipynb")
        rows.append({"student": student, "file": str(subs / f"{student}.ipynb")})
    pd.DataFrame(rows).to_csv(out / "scores.csv", index=False)
    wrong = "values differ\nAt index (0, 1): got 0.363636, expected -0.636364"
    pd.DataFrame([
        {"student": "ann", "test": "test_forward", "status": "failed", "message": wrong},
        {"student": "ben", "test": "test_forward", "status": "failed", "message": wrong},
        {"student": "cy", "test": "test_forward", "status": "passed", "message": ""},
        {"student": "dan", "test": "test_forward", "status": "passed", "message": ""},
    ]).to_csv(out / "results.csv", index=False)
    (out / "run.json").write_text(json.dumps({"assignment": "custom_layer"}))
    starter = tmp_path / "starter.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(STARTER)]), starter)
    return out, starter


def test_copied_code_and_shared_wrong_results_are_flagged(tmp_path):
    out, starter = graded_folder(tmp_path)
    result = write_similarity(out, starter)
    table = pd.read_csv(out / "similarity.csv")
    flagged = {(r.student_a, r.student_b) for r in table.itertuples() if r.flagged}
    assert flagged == {("cy", "dan"), ("ann", "ben")}
    copy = table[(table.student_a == "cy")].iloc[0]
    assert copy.code_similarity > 0.6 and copy.shared_wrong == 0
    wrong = table[(table.student_a == "ann")].iloc[0]
    assert wrong.shared_tests == "test_forward" and wrong.code_similarity < 0.3
    assert result.flagged == 2 and [r["student_a"] for r in ranked_rows(out)][:1] == ["cy"]
    page = (out / copy.page).read_text()
    assert "&lt;script&gt;alert(1)" in page.replace("<mark>", "").replace("</mark>", "")
    assert "<script>" not in page
    assert "<mark>" in page and "class MyLinear" not in page  # the starter's cell is removed
