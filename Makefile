# TradeML: `make demo`, `make ui`, `make test` — each bootstraps .venv itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export TRADEML_DATA_ROOT ?= $(CURDIR)/data_layer

.PHONY: install demo ui test bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed
	@# the Dagster instance home, created once with the project's dagster.yaml (never overwritten)
	@mkdir -p "$(DAGSTER_HOME)"
	@test -f "$(DAGSTER_HOME)/dagster.yaml" || cp dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"

demo: install
	$(BIN)/trademl demo

ui: install
	$(BIN)/trademl ui

test: install
	$(BIN)/dagster definitions validate -m trademl_jobs.definitions
	$(BIN)/python -m pytest

bench: install
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .dagster_home data_layer .pytest_cache
