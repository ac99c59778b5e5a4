"""Everything the project takes from Tortoise below its public API, in this one module.

Tortoise 1.1 has no public way to say what a SQLite transaction begins with, to build the record
of applied migrations once or create its table inside a transaction, to migrate on a SQLite client
of another module, to clear its cache of compiled statements, to create a test database, or to
read how full a connection pool is. What
follows reaches its private names for each; the rest of the project calls this module.
`tests/test_tortoise_adapter.py` pins every behaviour relied on, on both databases, so a Tortoise
release that moves one fails there, and the fix is made here.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionContext
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.backends.base_postgres.client import BasePostgresClient
from tortoise.backends.sqlite import client as sqlite_client
from tortoise.context import TortoiseContext
from tortoise.exceptions import TransactionManagementError
from tortoise.migrations.executor import MigrationExecutor
from tortoise.migrations.loader import MigrationLoader
from tortoise.migrations.recorder import MigrationRecorder
from tortoise.migrations.schema_editor import BasePostgresSchemaEditor, BaseSchemaEditor, SqliteSchemaEditor
from tortoise.models import Model

# --- SQLite transactions ----------------------------------------------------------------------


class SqliteClient(sqlite_client.SqliteClient):
    """Tortoise's SQLite client, whose transactions begin with `transaction_begin`."""

    transaction_begin = "BEGIN"

    def _in_transaction(self) -> TransactionContext:
        # Where Tortoise makes each transaction: its wrapper, under the client's own lock (so the
        # client's other statements wait for the transaction to end).
        return sqlite_client.SqliteTransactionContext(_Transaction(self, self.transaction_begin), self._lock)


class _Transaction(sqlite_client.SqliteTransactionWrapper):
    def __init__(self, client: SqliteClient, begin_statement: str) -> None:
        super().__init__(client)
        self.begin_statement = begin_statement

    async def begin(self) -> None:
        """Tortoise's own begin(), with the client's statement instead of its plain BEGIN."""
        try:
            await self._connection.commit()
            await self._connection.execute(self.begin_statement)
        except sqlite3.OperationalError as error:
            raise TransactionManagementError(error) from error


# --- the record of applied migrations ---------------------------------------------------------

_RECORD_MODELS: dict[str, type[Model]] = {}


class Recorder(MigrationRecorder):
    """Tortoise's record of applied migrations, with two changes: its table is created by a plain
    query (SQLite's `executescript`, which Tortoise uses, would commit the transaction that holds
    the migrations' lock), and its model class is built once (building one parses source files:
    about 7 ms)."""

    def _make_model(self, table_name: str) -> type[Model]:
        if table_name not in _RECORD_MODELS:
            _RECORD_MODELS[table_name] = super()._make_model(table_name)
        return _RECORD_MODELS[table_name]

    async def ensure_schema(self, schema_editor: BaseSchemaEditor | None = None) -> None:
        editor = schema_editor or _schema_editor(self.connection)
        statement = editor._get_model_sql_data(self.model).table_sql.strip().rstrip(";")
        await self.connection.execute_query(statement.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))


def _schema_editor(connection: BaseDBAsyncClient) -> BaseSchemaEditor:
    if connection.capabilities.dialect == "sqlite":
        return SqliteSchemaEditor(connection, atomic=False)
    return BasePostgresSchemaEditor(connection, atomic=False)


class Executor(MigrationExecutor):
    """Tortoise's migration executor, recording with `Recorder`, and knowing SQLite by its dialect."""

    recorder: Recorder

    def __init__(self, connection: BaseDBAsyncClient, apps: dict[str, dict[str, Any]]) -> None:
        # Not super().__init__: it builds a MigrationRecorder (and its model) only to be replaced.
        self.connection = connection
        self.recorder = Recorder(connection)
        self.loader = MigrationLoader(apps, self.recorder, load=False)
        self._full_plan_cache = None
        self._logger = logging.getLogger(MigrationExecutor.__module__)

    def _schema_editor(self, atomic: bool = True, collect_sql: bool = False) -> BaseSchemaEditor:
        # Tortoise knows a SQLite client by "sqlite" in its class's module name, which the
        # transactions of SqliteClient above (this module's) lack.
        if self.connection.capabilities.dialect == "sqlite":
            return SqliteSchemaEditor(self.connection, atomic=atomic, collect_sql=collect_sql)
        return super()._schema_editor(atomic, collect_sql)


# --- connections --------------------------------------------------------------------------------


class PoolUsage(NamedTuple):
    open: int
    idle: int
    maximum: int


def pool_usage(client: BaseDBAsyncClient) -> PoolUsage | None:
    """How many connections `client` holds open, how many of them are idle, and at most how many
    it opens; None for a kind of client this project does not run on."""
    if isinstance(client, sqlite_client.SqliteClient):
        # One connection, serialised by a lock: idle when no statement holds it.
        is_open = int(client._connection is not None)
        return PoolUsage(is_open, int(is_open and not client._lock.locked()), 1)
    if isinstance(client, BasePostgresClient):
        pool = client._pool
        if pool is None:  # asyncpg's pool is created at the first statement
            return PoolUsage(0, 0, client.pool_maxsize)
        return PoolUsage(pool.get_size(), pool.get_idle_size(), pool.get_max_size())
    return None


def forget_compiled_statements() -> None:
    """Tortoise keeps each model's INSERT, UPDATE and DELETE statements per connection name, not
    per dialect: a process that points "default" at another database (the tests, the benchmark)
    clears them first, or SQLite's placeholders reach PostgreSQL."""
    EXECUTOR_CACHE.clear()


async def init_creating_database(context: TortoiseContext, config: dict[str, Any]) -> None:
    """`context.init(config)`, creating the configured database first (the tests' throwaway ones)."""
    await context.init(config=config, _create_db=True)
