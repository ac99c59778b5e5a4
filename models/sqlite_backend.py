"""Tortoise's SQLite client, with write transactions that take the write lock when they begin.

A plain (deferred) `BEGIN` reads first and asks for the write lock at its first write. When
another process committed in between, SQLite cannot upgrade the stale read snapshot and fails at
once with "database is locked" — the busy timeout does not apply to that case. Every transaction
this project opens writes, so each begins with `BEGIN IMMEDIATE`: it waits (up to the busy
timeout) for the writer before it, then reads and writes the latest data. Several server
processes can then share one SQLite file without losing writes.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise TransactionManagementError(error) from error


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
