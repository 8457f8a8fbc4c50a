"""`grader similar`: copied code and identical wrong results are flagged; pages escape student text."""

from __future__ import annotations

import json

import nbformat
import pandas as pd

from grader.course.similarity import write_similarity
from grader.report.gradebook import ranked_rows

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


def folder_of(tmp_path, codes: dict[str, str], failures: dict[str, str] | None = None):
    """A graded folder of notebooks (starter cell + own code) and results.csv's failures."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    out.mkdir()
    for student, code in codes.items():
        cells = [nbformat.v4.new_code_cell(STARTER)] + ([nbformat.v4.new_code_cell(code)] if code else [])
        nbformat.write(nbformat.v4.new_notebook(cells=cells), subs / f"{student}.ipynb")
    pd.DataFrame([{"student": s, "file": str(subs / f"{s}.ipynb")} for s in codes]).to_csv(
        out / "scores.csv", index=False)
    pd.DataFrame([{"student": s, "test": "test_forward", "status": "failed" if s in (failures or {}) else
                   "passed", "message": (failures or {}).get(s, "")} for s in codes]).to_csv(
        out / "results.csv", index=False)
    starter = tmp_path / "starter.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(STARTER)]), starter)
    return out, starter


def test_the_starter_handed_in_and_its_own_wrong_results_flag_nobody(tmp_path):
    """heidi hands in the unchanged starter; ann's failure is the starter's own (heidi fails the
    same way): no pair with heidi, and ann and ben (who share that failure) are not flagged."""
    wrong = "values differ\nAt index (0, 1): got 0.0, expected -0.636364"
    out, starter = folder_of(tmp_path, {"heidi": "", **OWN}, {"heidi": wrong, "ann": wrong, "ben": wrong})
    result = write_similarity(out, starter)
    table = pd.read_csv(out / "similarity.csv")
    assert "heidi" not in set(table.student_a) | set(table.student_b)
    assert result.flagged == 0 and table.empty


def test_pairs_are_ranked_by_code_rare_in_the_class_and_pages_say_what_is_unmarked(tmp_path):
    """Five students share one helper (common, not copied from each other: a tutorial's); two others
    copy each other's own code. The copy ranks first though the helper's pairs share more, and
    every page says what is left unmarked and why."""
    tutorial = ("def tutorial_helper(values):\n    total = 0.0\n    for index, value in enumerate(values):\n"
                "        total += value * (index + 1) / (len(values) + 7)\n    return total, len(values)\n")
    codes = {f"t{i}": tutorial + f"\nanswer_{i} = {i} * 17\n" for i in range(5)}
    # cy and dan copied one function each other's, and wrote the rest themselves: less shared code
    # than the helper's pairs, all of it theirs alone.
    codes |= {"cy": OWN["cy"] + "\n" + OWN["ann"], "dan": "# mine\n" + OWN["cy"].replace("flat", "flat_")
              + "\n" + OWN["ben"]}
    out, starter = folder_of(tmp_path, codes)
    write_similarity(out, starter, threshold=0.4)
    table = pd.read_csv(out / "similarity.csv")
    flagged = table[table.flagged]
    assert (flagged.iloc[0].student_a, flagged.iloc[0].student_b) == ("cy", "dan")
    helper = flagged[flagged.student_a.str.startswith("t")]
    assert len(helper) and helper.code_similarity.min() > flagged.iloc[0].code_similarity
    assert flagged.iloc[0].rare_code > 0.2 and helper.rare_code.max() == 0
    page = (out / flagged.iloc[0].page).read_text()
    assert "Not marked, and not counted in the shares: the starter&#x27;s code" in page or \
        "Not marked, and not counted in the shares: the starter's code" in page
    assert "fingerprints of cy" in page


def test_a_page_names_the_common_code_it_leaves_unmarked(tmp_path):
    """Code more than 10 submissions have is not marked: the page says how much of it the pair shares."""
    common = ("def everyone_writes_this(layer, x):\n    with torch.no_grad():\n        out = layer(x)\n"
              "        print('shape', out.shape, 'mean', out.mean().item())\n    return out\n")
    codes = {f"s{i:02}": common + f"\nmine_{i} = {i} + {i * 3}\n" for i in range(12)}
    codes |= {"cy": common + OWN["cy"], "dan": common + "# mine\n" + OWN["cy"].replace("flat", "flat_")}
    out, starter = folder_of(tmp_path, codes)
    write_similarity(out, starter)
    table = pd.read_csv(out / "similarity.csv")
    pair = table[(table.student_a == "cy") & (table.student_b == "dan")].iloc[0]
    page = " ".join((out / pair.page).read_text().split())
    assert "of code both have that more than 10 submissions have too (everyone writes it" in page


def test_the_same_class_gives_the_same_table_in_every_process(tmp_path):
    """copydetect hashed with Python's salted hash(): shares (and the ranking) changed between runs
    of the same class. Two processes with different salts must write the same similarity.csv."""
    import subprocess
    import sys

    codes = {"cy": OWN["cy"] + "\n" + OWN["ann"], "dan": "# mine\n" + OWN["cy"] + "\n" + OWN["ben"],
             **{name: code for name, code in OWN.items() if name not in ("cy",)}}
    out, starter = folder_of(tmp_path, codes)
    tables = []
    for salt in ("6", "9"):
        script = ("import sys; from pathlib import Path\n"
                  "from grader.course.similarity import write_similarity\n"
                  "write_similarity(Path(sys.argv[1]), Path(sys.argv[2]), threshold=0.4)")
        subprocess.run([sys.executable, "-c", script, str(out), str(starter)], check=True, timeout=120,
                       env={"PYTHONHASHSEED": salt, "PATH": "/usr/bin:/bin"})
        tables.append((out / "similarity.csv").read_text())
    assert tables[0] == tables[1] and "cy" in tables[0]
