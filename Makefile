# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/amlocal run sample_projects/compare_models/pipeline.py
	$(BIN)/amlocal runs -n 5
	$(BIN)/amlocal show latest

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/runner_overhead.py
	$(BIN)/python bench/metric_ingestion.py
	$(BIN)/python bench/cli_runs.py

clean:
	rm -rf $(VENV) .amlocal
