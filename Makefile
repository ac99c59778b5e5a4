# The two commands of the README, `make run` and `make test`, and CI's `make lint`: each installs
# what it needs into .venv from pyproject.toml first, so they work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-test install-python-test install-dev run test test-graphql-core-floor lint schema

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: install-python-test
	cd tests/e2e/apollo && npm ci --no-audit --no-fund --silent
	cd tests/e2e/graphiql && npm ci --no-audit --no-fund --silent

run: install
	$(BIN)/kalito-graphql serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest

# The suite runs on the newest graphql-core pyproject.toml allows; the compiled plans and the
# adapter, what reaches into graphql-core's coercion, run on the oldest too (on SQLite: what
# graphql-core does does not depend on the database).
GRAPHQL_CORE_FLOOR := 3.3.0
PLAN_TESTS := tests/test_compiled_plans.py tests/test_arguments.py tests/test_strawberry_adapter.py
test-graphql-core-floor: install-python-test
	scripts/test_graphql_core_floor.sh $(GRAPHQL_CORE_FLOOR) -q -k "not postgres" $(PLAN_TESTS)

install-python-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

install-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

schema: install
	$(BIN)/kalito-graphql export-schema --output schema.graphql
