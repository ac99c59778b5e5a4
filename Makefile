# The two commands of the README, `make run` and `make test`, and CI's `make lint`: each installs
# what it needs into .venv from pyproject.toml first, so they work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-test install-dev run test lint schema

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

install-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

schema: install
	$(BIN)/kalito-graphql export-schema --output schema.graphql
