"""Pins what models/tortoise_adapter.py relies on in Tortoise's private parts: a Tortoise release
that changes one of these fails here, and the adapter is the one file to mend."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid

import pytest
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.migrations.executor import MigrationExecutor
from tortoise.migrations.recorder import MigrationRecorder
from tortoise.migrations.schema_editor import AsyncpgSchemaEditor, SqliteSchemaEditor
from tortoise.transactions import in_transaction

import models
from models.database import apps_config
from models.sqlite_backend import ImmediateSqliteClient
from models.tortoise_adapter import (
    Executor,
    PoolUsage,
    Recorder,
    forget_compiled_statements,
    init_creating_database,
    pool_usage,
)
from support.databases import drop_postgres_database, postgres_url_for
from tests.databases import ON_POSTGRES

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Rollback(Exception):
    """Raised to leave a transaction by rolling it back."""


def sqlite_client() -> ImmediateSqliteClient:
    client = connections.get("default")
    assert isinstance(client, ImmediateSqliteClient)
    return client


async def tables(connection: BaseDBAsyncClient) -> set[str]:
    if connection.capabilities.dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        query = "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
    _, rows = await connection.execute_query(query)
    return {row["name"] for row in rows}


# --- SQLite transactions ----------------------------------------------------------------------


@ON_SQLITE
async def test_a_sqlite_transaction_begins_with_the_clients_statement(db: str) -> None:
    """BEGIN IMMEDIATE takes the write lock as the transaction starts, before any statement."""
    other = sqlite3.connect(sqlite_client().filename, timeout=0, isolation_level=None)
    try:
        async with in_transaction():
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once it ends
        other.execute("ROLLBACK")
    finally:
        other.close()


@ON_SQLITE
async def test_the_clients_other_statements_wait_for_its_transaction_to_end(db: str) -> None:
    """The transaction holds the client's lock: a statement outside it would otherwise run on
    the one shared connection, inside the transaction."""
    client = sqlite_client()
    order: list[str] = []

    async def outside() -> None:
        await client.execute_query("SELECT 1")
        order.append("outside")

    async with in_transaction():
        task = asyncio.create_task(outside())
        for _ in range(20):  # every chance to run, were it not waiting
            await asyncio.sleep(0)
        order.append("transaction ends")
    await task

    assert order == ["transaction ends", "outside"]


# --- the record of applied migrations ---------------------------------------------------------


async def test_the_record_table_is_made_inside_the_transaction_without_ending_it(db: str) -> None:
    with pytest.raises(Rollback):
        async with in_transaction() as transaction:
            await models.Session.create_session(models.ONE_USER, "written-first")
            await Recorder(transaction, table_name="pinned_record").ensure_schema()
            assert "pinned_record" in await tables(transaction)
            raise Rollback

    connection = connections.get("default")
    assert "pinned_record" not in await tables(connection)
    assert await models.Session.by_id(models.ONE_USER, "written-first") is None


async def test_the_record_table_is_made_once_and_records(db: str) -> None:
    recorder = Recorder(connections.get("default"), table_name="pinned_record")
    await recorder.ensure_schema()
    await recorder.ensure_schema()  # already there: nothing happens

    await recorder.record_applied("pinned", "0001_first")

    assert [(key.app_label, key.name) for key in await recorder.applied_migrations()] == [("pinned", "0001_first")]


def test_the_record_model_is_built_once_per_table() -> None:
    assert Recorder(None).model is Recorder(None).model
    # the table Tortoise's own executor and `tortoise migrate` record in
    assert Recorder(None).table_name == MigrationRecorder(None).table_name


async def test_the_executor_is_tortoises_own_with_the_recorder_replaced(db: str) -> None:
    connection = connections.get("default")

    executor = Executor(connection, apps_config())

    # Every attribute Tortoise's own __init__ sets, and no other.
    assert set(vars(executor)) == set(vars(MigrationExecutor(connection, apps_config())))
    assert isinstance(executor.recorder, Recorder) and executor.loader.recorder is executor.recorder
    assert await executor.plan() == []  # the fixture migrated: nothing pending


async def test_the_executor_edits_the_schema_with_the_editor_of_its_dialect(db: str) -> None:
    async with in_transaction() as transaction:
        editor = Executor(transaction, apps_config())._schema_editor()

    expected = SqliteSchemaEditor if db == "sqlite" else AsyncpgSchemaEditor
    assert type(editor) is expected and editor.client is transaction


# --- connections --------------------------------------------------------------------------------


async def test_forgetting_compiled_statements_empties_tortoises_cache(db: str) -> None:
    await models.Session.create_session(models.ONE_USER, "s1")
    assert any(key[0] == "default" for key in EXECUTOR_CACHE)

    forget_compiled_statements()

    assert EXECUTOR_CACHE == {}
    await models.Session.create_session(models.ONE_USER, "s2")  # compiled again
    assert any(key[0] == "default" for key in EXECUTOR_CACHE)


async def test_pool_usage_counts_open_idle_and_most_connections(db: str) -> None:
    client = connections.get("default")
    await client.execute_query("SELECT 1")
    usage = pool_usage(client)
    assert usage is not None
    assert usage.open >= 1 and usage.idle == usage.open and usage.maximum == (1 if db == "sqlite" else 5)

    async with client.acquire_connection():
        held = pool_usage(client)

    assert held == PoolUsage(usage.open, usage.idle - 1, usage.maximum)


@ON_SQLITE
async def test_pool_usage_of_a_sqlite_client_not_yet_connected(db: str) -> None:
    credentials = models.tortoise_config(f"sqlite://{sqlite_client().filename}")["connections"]["default"][
        "credentials"
    ]
    unconnected = ImmediateSqliteClient(connection_name="unconnected", **credentials)

    assert pool_usage(unconnected) == PoolUsage(0, 0, 1)


@ON_POSTGRES
async def test_init_creating_database_makes_the_configured_database() -> None:
    name = f"kalito_adapter_{uuid.uuid4().hex}"
    forget_compiled_statements()
    try:
        async with TortoiseContext() as context:
            await init_creating_database(context, models.tortoise_config(postgres_url_for(name)))
            client = connections.get("default")
            assert pool_usage(client) == PoolUsage(0, 0, 5)  # the pool opens at the first statement
            _, rows = await client.execute_query("SELECT current_database() AS name")
    finally:
        await drop_postgres_database(name)

    assert rows[0]["name"] == name
