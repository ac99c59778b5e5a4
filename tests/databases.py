"""The real databases the tests run on: where PostgreSQL is, whether it answers, and
throwaway databases on it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import asyncpg

POSTGRES_URL = os.environ.get("KALITO_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


def postgres_answers() -> bool:
    url = urlparse(POSTGRES_URL)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 5432), timeout=1):
            return True
    except OSError:
        return False


POSTGRES_AVAILABLE = postgres_answers()


def postgres_url_for(database: str) -> str:
    return POSTGRES_URL.rstrip("/").rsplit("/", 1)[0] + f"/{database}"


async def run_on_postgres_server(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def drop_postgres_database(name: str) -> None:
    await run_on_postgres_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def throwaway_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (for a server process); dropped afterwards."""
    name = f"kalito_live_{uuid.uuid4().hex}"
    asyncio.run(run_on_postgres_server(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url_for(name)
    finally:
        asyncio.run(drop_postgres_database(name))


@contextlib.contextmanager
def migrated_postgres_database() -> Iterator[str]:
    """A throwaway database with the schema up to date, as a deployment migrates it before it
    starts servers on PostgreSQL (they refuse a schema that is behind). Migrated in a process of
    its own, so that no Tortoise state of the migration stays in the test process."""
    script = "import asyncio, sys, models.database as d; asyncio.run(d.migrate_database(sys.argv[1]))"
    with throwaway_postgres_database() as database_url:
        subprocess.run([sys.executable, "-c", script, database_url], cwd=Path(__file__).parent.parent, check=True)
        yield database_url
