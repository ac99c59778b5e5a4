"""Tortoise's SQLite client, with write transactions that take the write lock when they begin,
and a second connection that only reads.

A plain (deferred) `BEGIN` reads first and asks for the write lock at its first write. When
another process committed in between, SQLite cannot upgrade the stale read snapshot and fails at
once with "database is locked" — the busy timeout does not apply to that case. Every transaction
this project opens writes, so each begins with `BEGIN IMMEDIATE`: it waits (up to the busy
timeout) for the writer before it, then reads and writes the latest data. Several server
processes can then share one SQLite file without losing writes.

Tortoise runs every statement on one connection behind an asyncio lock, held from the moment a
statement is sent until its caller runs again to release it. Under load that caller waits its
turn behind every other request's Python with the lock held, and reads queue behind one another:
`session(id)` served 2,900 requests a second that way, 4,400 without it (bench/, one worker).
The hot reads (models/sql.py) go instead to a connection of their own, `query_only`, without a
lock: aiosqlite's thread runs its statements one after another while the event loop does the
rest. In WAL mode it reads the last committed data beside the writer and never blocks it, nor
waits for a transaction's commit; a read inside a transaction stays on the transaction's
connection, where it sees that transaction's own writes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

import aiosqlite
from tortoise.backends.sqlite.client import SqliteClient

from models import tortoise_adapter

Rows = Sequence[Sequence[Any]]
CONNECT_ATTEMPTS = 5


async def fetch_on_own_connection(client: SqliteClient, sql: str, params: Sequence[Any]) -> Rows:
    """The rows of one read on `client`'s own connection, under its lock (a transaction's, or an
    in-memory database's), logged as Tortoise logs its own statements."""
    client.log.debug("%s: %s", sql, params)
    async with client.acquire_connection() as connection:
        return cast(Rows, await connection.execute_fetchall(sql, params))


class ImmediateSqliteClient(tortoise_adapter.SqliteClient):
    transaction_begin = "BEGIN IMMEDIATE"

    def __init__(self, file_path: str, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)
        self._reader: aiosqlite.Connection | None = None

    @property
    def in_memory(self) -> bool:
        """A database in memory is one per connection: a second one would read another."""
        return self.filename == ":memory:" or "mode=memory" in self.filename

    async def create_connection(self, with_db: bool) -> None:
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                await super().create_connection(with_db)
                break
            except sqlite3.OperationalError as error:
                # Two connections switching one new file to WAL at once: SQLite refuses one of
                # them at once (waiting could deadlock, so the busy timeout does not apply); the
                # other is done within milliseconds. Seen with two workers starting together.
                await super().close()  # the half-made connection: the next attempt makes a new one
                if "locked" not in str(error) or attempt == CONNECT_ATTEMPTS:
                    raise
                await asyncio.sleep(0.01 * attempt)
        if self._reader is None and not self.in_memory:
            reader = await aiosqlite.connect(self.filename, isolation_level=None)
            for pragma in ("query_only=ON", f"busy_timeout={self.pragmas.get('busy_timeout', 5000)}"):
                await reader.execute(f"PRAGMA {pragma}")
            self._reader = reader

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        await super().close()

    async def read(self, sql: str, params: Sequence[Any]) -> Rows:
        """The rows of one read outside any transaction, as tuples."""
        if self.in_memory:
            return await fetch_on_own_connection(self, sql, params)
        if self._reader is None:
            await self.create_connection(with_db=True)
        assert self._reader is not None
        self.log.debug("%s: %s", sql, params)  # as Tortoise logs its own statements
        return cast(Rows, await self._reader.execute_fetchall(sql, params))


client_class = ImmediateSqliteClient
