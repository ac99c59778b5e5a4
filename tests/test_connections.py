"""How the server's connections behave together.

Reads outside a transaction never wait for a write transaction and never see one unfinished;
reads inside one see its own writes. On SQLite they run on a second, read-only connection
(models/sqlite_backend.py); on PostgreSQL, on another connection of the pool. Connections
opening one new SQLite file together all succeed."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

import models
from models.sqlite_backend import ImmediateSqliteClient

# Far longer than a read takes, far shorter than the writer holds its transaction open.
READ_DEADLINE_SECONDS = 5


async def test_a_read_neither_waits_for_an_open_write_transaction_nor_sees_it(db: str) -> None:
    await models.Session.create_session(models.ONE_USER, "s1", name="committed")
    written, finish = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with in_transaction():
            await models.Session.filter(id="s1").update(name="unfinished")
            written.set()
            await finish.wait()

    writing = asyncio.create_task(writer())
    await written.wait()
    try:
        during = await asyncio.wait_for(models.Session.by_id(models.ONE_USER, "s1"), READ_DEADLINE_SECONDS)
    finally:
        finish.set()
        await writing

    assert during is not None and during.name == "committed"
    after = await models.Session.by_id(models.ONE_USER, "s1")
    assert after is not None and after.name == "unfinished"


async def test_a_read_inside_a_transaction_sees_its_own_writes(db: str) -> None:
    await models.Session.create_session(models.ONE_USER, "s1", name="committed")

    async with in_transaction():
        await models.Session.filter(id="s1").update(name="mine")
        inside = await models.Session.by_id(models.ONE_USER, "s1")

    assert inside is not None and inside.name == "mine"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_sqlite_reading_connection_cannot_write(db: str) -> None:
    await models.Session.create_session(models.ONE_USER, "s1")
    client = connections.get("default")
    assert isinstance(client, ImmediateSqliteClient)

    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await client.read('DELETE FROM "sessions"', [])
    assert await models.Session.by_id(models.ONE_USER, "s1") is not None


async def test_connections_opening_one_new_sqlite_file_together_all_succeed(tmp_path: Path) -> None:
    """As two workers starting on one new file: both switch it to WAL, and SQLite refuses one
    of them at once (about one start in twenty) unless the client tries again."""
    for attempt in range(100):
        url = f"sqlite://{tmp_path / f'kalito-{attempt}.db'}"
        credentials = models.tortoise_config(url)["connections"]["default"]["credentials"]
        clients = [ImmediateSqliteClient(connection_name="default", **credentials) for _ in range(2)]
        try:
            await asyncio.gather(*(client.create_connection(with_db=True) for client in clients))
        finally:
            for client in clients:
                await client.close()
