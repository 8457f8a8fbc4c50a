# Two commands on a fresh machine with Python 3.11 and pip:
#   make demo   set up .venv, grade the example class, print where the report is
#   make test   set up .venv, run the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
OUT ?= out/custom_layer

.PHONY: demo test lint bench clean releases

$(BIN)/grader: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found; run: make PYTHON=python3 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: a looser requirement would let pip fetch a multi-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

demo: $(BIN)/grader
	$(BIN)/grader grade custom_layer examples/custom_layer -o $(OUT)
	@echo "The report is in $(OUT)/: scores.csv, results.csv, run.json, report.html, feedback/"

# The student releases the wheel carries (no reference, no hidden test): run after changing an
# assignment; tests/test_release.py fails while one is stale.
ASSIGNMENTS := $(notdir $(wildcard assignments/*))
releases: $(BIN)/grader
	@for name in $(ASSIGNMENTS); do $(BIN)/grader release $$name -o releases/$$name || exit 1; done

test: $(BIN)/grader
	$(BIN)/ruff check grader tests bench
	$(BIN)/python -m pytest -q

bench: $(BIN)/grader
	$(BIN)/python bench/bench_grader.py

clean:
	rm -rf $(VENV) out
