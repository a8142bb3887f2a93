# The README's two commands: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/lastmeter: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/lastmeter

.PHONY: demo test lint bench fuzz-nightly load
demo: $(BIN)/lastmeter
	$(BIN)/lastmeter demo

lint: $(BIN)/lastmeter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest

bench: $(BIN)/lastmeter
	$(BIN)/python bench/merge.py

# Nightly: schemathesis with 500 examples per API operation (CI runs 20).
fuzz-nightly: $(BIN)/lastmeter
	LASTMETER_FUZZ_EXAMPLES=500 $(BIN)/pytest tests/fuzz

# Load: 200 laptops x 300 checks syncing and 200 owners voting at once (docs/benchmarks.md).
load: $(BIN)/lastmeter
	$(BIN)/python bench/load.py
