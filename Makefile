# Quickstart: `make run` (demo) and `make test` (everything CI runs).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## Set up and serve the web app on a seeded synthetic demo clinic (SQLite), printing the demo logins.
run: $(STAMP)
	$(BIN)/ketamine-therapy serve --demo

## Set up and run the whole suite: lint, types, tests.
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

## Benchmarks run outside the suite.
bench: $(STAMP)
	$(BIN)/python benchmarks/pk_population.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
