# Two commands on a fresh machine with Python 3.11 and pip:
#   make demo   set up .venv, grade the example class, print where the report is
#   make test   set up .venv, run the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
OUT ?= out/custom_layer
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu

.PHONY: demo test lint bench clean releases vision docs dist

$(BIN)/grader: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found; run: make PYTHON=python3 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned, the CPU build from PyTorch's CPU index where it answers (PyPI's Linux wheel
	# pulls several GB of CUDA libraries); else PyPI's (CI reaches PyPI only). Asked once, up front:
	# pip would retry an unreachable index for every requirement.
	if $(BIN)/python -c "import urllib.request as u; u.urlopen('$(TORCH_CPU_INDEX)/torch/', timeout=10)" \
	        >/dev/null 2>&1; then \
	    $(BIN)/pip install --quiet torch==2.13.0 --index-url $(TORCH_CPU_INDEX) \
	        --extra-index-url https://pypi.org/simple || $(BIN)/pip install --quiet torch==2.13.0; \
	else \
	    $(BIN)/pip install --quiet torch==2.13.0; \
	fi
	$(BIN)/pip install --quiet -e '.[dev]'
	@$(MAKE) --no-print-directory vision
	@touch $@

# torchvision (students' `import torchvision`), the CPU build matching torch==2.13.0 from PyTorch's
# CPU index; kept only if it imports beside this torch. Where none can be had (no route to that
# index), grading goes on without it: a student's import then says torchvision is not installed.
TORCHVISION := torchvision==0.28.0
vision:
	@if $(BIN)/pip install --quiet --retries 1 --timeout 15 '$(TORCHVISION)' \
	        --index-url $(TORCH_CPU_INDEX) --extra-index-url https://pypi.org/simple \
	        >/dev/null 2>&1 && $(BIN)/python -c 'import torchvision' >/dev/null 2>&1; then \
	    echo "make: $(TORCHVISION) (CPU) installed"; \
	else \
	    $(BIN)/pip uninstall --quiet -y torchvision >/dev/null 2>&1; \
	    echo "make: no CPU build of $(TORCHVISION) could be installed here: grading goes on without torchvision"; \
	fi

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
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

# The documentation site (docs/, mkdocs.yml) into site/; every warning is an error. The command
# reference is generated from the command line's parser on each build (docs/hooks/cli_reference.py).
docs: $(BIN)/grader
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# What would be uploaded to PyPI: the sdist and the wheel into dist/, checked by twine (never uploaded
# from here).
dist: $(BIN)/grader
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

bench: $(BIN)/grader
	$(BIN)/python bench/bench_grader.py

clean:
	rm -rf $(VENV) out site dist
