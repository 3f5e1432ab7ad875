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

# Where no registry answers, the image scripts/ensure-docker.sh builds stands in for the
# default python:3.11-slim: the demo makes it this workspace's base image (`amlocal config
# base_image`), so later runs, reruns and watch use it too; a base image set once for every
# project (`amlocal config --user base_image IMAGE`) is kept. Without a Docker engine the demo
# runs steps as local processes.
LOCAL_BASE_IMAGE := amlocal/python-base:bookworm

demo: $(STAMP)
	@if [ -z "$$AMLOCAL_BASE_IMAGE" ] && docker image inspect $(LOCAL_BASE_IMAGE) >/dev/null 2>&1 \
	    && ! docker image inspect python:3.11-slim >/dev/null 2>&1 \
	    && $(BIN)/amlocal config base_image | grep -q '(not set'; then \
	  $(BIN)/amlocal config base_image $(LOCAL_BASE_IMAGE) >/dev/null && \
	  echo "amlocal: python:3.11-slim is not on this machine; this workspace's steps use $(LOCAL_BASE_IMAGE) (for every project: amlocal config --user base_image $(LOCAL_BASE_IMAGE))"; fi
	$(BIN)/amlocal run sample_projects/compare_models/pipeline.py
	$(BIN)/amlocal runs -n 5
	$(BIN)/amlocal show latest

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/runner_overhead.py
	$(BIN)/python bench/metric_ingestion.py
	$(BIN)/python bench/cli_runs.py
	$(BIN)/python bench/docker_step_overhead.py
	$(BIN)/python bench/docker_fanout.py
	$(BIN)/python bench/reuse_decision.py
	$(BIN)/python bench/reuse_vs_dvc.py
	$(BIN)/python bench/dashboard_first_paint.py
	$(BIN)/python bench/watch_latency.py
	$(BIN)/python bench/tabular_in_step.py

clean:
	rm -rf $(VENV) .amlocal
