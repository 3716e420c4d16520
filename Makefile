# One entry point for users, developers and CI. Every target does its own set-up from a machine
# that has only Python: it creates .venv and installs spnlab with what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.spnlab-installed
PORT   ?= 8888

.PHONY: demo quick-demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[cpu,test,notebook]"
	touch $(STAMP)

demo: $(STAMP)           ## the main job: JupyterLab on the tour notebook (the workbench)
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m jupyter lab notebooks/01_tour.ipynb \
		--ServerApp.port=$(PORT) $(if $(filter 0,$(shell id -u)),--allow-root,)

quick-demo: $(STAMP)     ## no browser: build an SPN, train it with EM, print log-likelihoods
	$(BIN)/python -m spnlab.demo

test: $(STAMP)           ## the whole test suite, browser tests included
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -q tests

bench: $(STAMP)          ## speed and memory figures (never part of `make test`)
	$(BIN)/python benchmarks/bench_sum_ops.py
	$(BIN)/python benchmarks/bench_lab_step.py
	$(BIN)/python benchmarks/bench_graph_eval.py
	$(BIN)/python benchmarks/bench_widget_step.py
	$(BIN)/python benchmarks/bench_widget_bytes.py
	$(BIN)/python benchmarks/bench_graph_render.py
	$(BIN)/python benchmarks/bench_structure_speed.py
	$(BIN)/python benchmarks/bench_structure.py

clean:
	rm -rf $(VENV) .pytest_cache
