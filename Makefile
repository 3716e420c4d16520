# One entry point for users, developers and CI. Every target does its own set-up from a machine
# that has only Python: it creates .venv and installs spnlab with what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.spnlab-installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[cpu,test]"
	touch $(STAMP)

demo: $(STAMP)           ## the main job: build an SPN, train it with EM, print log-likelihoods
	$(BIN)/python -m spnlab.demo

test: $(STAMP)           ## the whole test suite
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)          ## speed and memory figures (never part of `make test`)
	$(BIN)/python benchmarks/bench_sum_ops.py

clean:
	rm -rf $(VENV) .pytest_cache
