"""Fixtures: a fresh real database per test (SQLite always, PostgreSQL when it answers),
and an HTTP client that drives the app through ASGI."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import connections
from tortoise.backends.base.config_generator import generate_config
from tortoise.backends.base_postgres.client import BasePostgresClient
from tortoise.context import TortoiseContext

import models
from models.database import apps_config
from models.tortoise_adapter import forget_compiled_statements, init_creating_database
from server import create_app
from settings import Settings
from support.databases import POSTGRES_AVAILABLE, POSTGRES_URL, drop_postgres_database, postgres_url_for
from tests.databases import EACH_DATABASE

if os.environ.get("KALITO_REQUIRE_POSTGRES") == "1" and not POSTGRES_AVAILABLE:
    raise RuntimeError(f"KALITO_REQUIRE_POSTGRES=1 but PostgreSQL does not answer at {POSTGRES_URL}")


@pytest.fixture(params=EACH_DATABASE)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'kalito.db'}"
    # generate_config(testing=True) fills {} with a random name: one new database per test
    return postgres_url_for("kalito_test_{}")


@contextlib.asynccontextmanager
async def open_database(database_url: str) -> AsyncIterator[str]:
    """A fresh, empty database with the schema and the default personas, as on first start,
    current in this context (Tortoise keeps its context in a contextvar); yields its dialect."""
    forget_compiled_statements()
    # The schema comes from the migrations, as in production: the deployment's `migrate`, then
    # the server's start.
    config = generate_config(database_url, app_modules={}, testing=True)
    if database_url.startswith("sqlite"):  # the server's own SQLite client (models/sqlite_backend.py)
        config["connections"] = models.tortoise_config(database_url)["connections"]
    config["apps"] = apps_config()
    async with TortoiseContext() as context:
        await init_creating_database(context, config)
        await models.migrate()
        await models.prepare_database()
        connection = connections.get("default")
        yield connection.capabilities.dialect
    if isinstance(connection, BasePostgresClient) and connection.database:
        # a database made for this test alone; closing the context leaves it behind
        await drop_postgres_database(connection.database)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    async with open_database(database_url) as dialect:
        yield dialect


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@dataclass
class GraphQLClient:
    """Posts operations as Apollo Client does and hands back the decoded body."""

    http: httpx.AsyncClient

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        # Encoded as a browser's JSON.stringify does: a lone surrogate travels as a \uXXXX escape
        # (httpx's own encoder would refuse to send it, so such inputs never reached the server).
        body = json.dumps({"query": query, "variables": variables or {}})
        response = await self.http.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert response.headers["content-type"].startswith("application/json"), response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of an operation that must succeed."""
        body = await self(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def twice(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of a read sent twice (strawberry's answer, then the compiled plan's), which
        must agree."""
        first = await self.data(query, variables)
        assert await self.data(query, variables) == first
        return first

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The single error of an operation that must fail."""
        body = await self(query, variables)
        assert len(body.get("errors", [])) == 1, body
        error: dict[str, Any] = body["errors"][0]
        return error


@pytest.fixture
async def http(db: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://kalito.test") as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


class SQLCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends (it logs each one on `tortoise.db_client`)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.statements.append(record.getMessage())

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def sql_counter() -> Iterator[SQLCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = SQLCounter()
    previous_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous_level)
