"""Hand-written SQL for the read paths that run on every request, on either database.

Tortoise builds a statement anew for every query (about 55 µs for `WHERE id = ? LIMIT 1`) and
turns each row into a model instance (about 20 µs a row): a page of 50 sessions cost 1.3 ms
before the database did anything. These reads write their statements once, with `?`
placeholders (converted to PostgreSQL's `$n` once per statement), run them on Tortoise's own
connection, and answer plain rows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise import connections

from models.sqlite_backend import ImmediateSqliteClient, fetch_on_own_connection


def _dollar_placeholders(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...` (the statements hold no literal `?`)."""
    parts = sql.split("?")
    return "".join(part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, 1))


_for_postgres = functools.lru_cache(maxsize=1024)(_dollar_placeholders)


def on_sqlite() -> bool:
    return bool(connections.get("default").capabilities.dialect == "sqlite")


async def fetch(sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
    """The rows of one statement, each indexable by position.

    On SQLite outside a transaction, on the client's reading connection (models/sqlite_backend.py);
    inside one, straight to the transaction's aiosqlite connection: Tortoise's `execute_query`
    also counts changed rows and rewrites NUL bytes, which a read with parameters needs neither
    of (about 15 µs a request under load)."""
    client = connections.get("default")
    if isinstance(client, ImmediateSqliteClient):
        rows: Sequence[Sequence[Any]] = await client.read(sql, params)
        return rows
    if client.capabilities.dialect != "sqlite":
        _, rows = await client.execute_query(_for_postgres(sql), list(params))
        return rows
    return await fetch_on_own_connection(client, sql, params)  # inside a transaction


async def execute(sql: str, params: Sequence[Any]) -> None:
    """One write, on the current connection (the transaction's, inside one)."""
    client = connections.get("default")
    await client.execute_query(sql if client.capabilities.dialect == "sqlite" else _for_postgres(sql), list(params))


async def execute_many(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """One write statement for each of `rows`, sent together."""
    if not rows:
        return
    client = connections.get("default")
    await client.execute_many(
        sql if client.capabilities.dialect == "sqlite" else _for_postgres(sql), [list(row) for row in rows]
    )


def column_list(columns: Sequence[str]) -> str:
    return ",".join(f'"{column}"' for column in columns)


def placeholders(count: int) -> str:
    return ",".join("?" * count)


def moment_param(moment: datetime) -> Any:
    """A moment as its column stores it: SQLite holds Tortoise's `isoformat(" ")` text in UTC, so
    text order is time order; PostgreSQL compares timestamptz itself."""
    if not on_sqlite():
        return moment
    return (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).isoformat(" ")


def moment_from_db(value: Any) -> datetime:
    """A stored moment as an aware datetime in UTC, whichever driver read it."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)  # both drivers give UTC
