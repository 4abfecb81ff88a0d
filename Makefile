# TradeML: `make demo`, `make ui [PORT=3001]`, `make mlflow [MLFLOW_PORT=5001]`, `make test` — each bootstraps .venv itself.
# `demo` and `ui` install the runtime dependencies only; `test` adds the dev extras on top.
# Paths come from `trademl` itself (env var > ~/.config/trademl/config.yml > this checkout's
# data_layer/ and .dagster_home/); `.venv/bin/trademl where` prints them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 3000
HOST ?= 127.0.0.1
# `make mlflow` serves on MLFLOW_PORT (default 5000; `make mlflow PORT=5001` works too).
MLFLOW_PORT ?= $(if $(filter command line environment,$(origin PORT)),$(PORT),5000)
# numpy asks the kernel for transparent huge pages on large arrays; on VMs like the project's 2-core
# box that makes first use of fresh memory ~6x slower (benchmarks/README.md, equities_xs). Off by
# default for every target; `make bench NUMPY_MADVISE_HUGEPAGE=1` measures the other way.
export NUMPY_MADVISE_HUGEPAGE ?= 0

.PHONY: install install-dev demo ui mlflow test bench clean

# One stamp per dependency set: `make test` after `make demo` installs the dev extras on top;
# `make demo` after `make test` installs nothing (the dev install covers the runtime one).
$(BIN)/.installed-runtime: pyproject.toml constraints.txt
	test -x $(BIN)/python || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install -q --upgrade pip; }
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	touch $@

$(BIN)/.installed-dev: pyproject.toml constraints.txt
	test -x $(BIN)/python || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install -q --upgrade pip; }
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(BIN)/.installed-runtime $@

install: $(BIN)/.installed-runtime

install-dev: $(BIN)/.installed-dev

demo: install
	$(BIN)/trademl demo

ui: install
	$(BIN)/trademl ui --host $(HOST) --port $(PORT)

# The MLflow UI over the project's tracking store (MLFLOW_TRACKING_URI, else data_layer/mlflow/mlflow.db).
mlflow: install
	$(BIN)/python -c 'from trademl.models.registry import serve; serve(host="$(HOST)", port=$(MLFLOW_PORT))'

test: install-dev
	$(BIN)/dagster definitions validate -m trademl_jobs.definitions
	$(BIN)/python -m pytest

bench: install-dev
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .dagster_home data_layer .pytest_cache
