# The two commands of the README: `make run` and `make test`. Both install what they need
# into .venv from pyproject.toml first, so they work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-test run test lint schema

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	cd tests/e2e/apollo && npm ci --no-audit --no-fund --silent
	cd tests/e2e/graphiql && npm ci --no-audit --no-fund --silent

run: install
	$(BIN)/kalito-graphql serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest

lint: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy .

schema: install
	$(BIN)/kalito-graphql export-schema --output schema.graphql
