"""The real databases the tests and the benchmark run on: where PostgreSQL is, whether it
answers, and throwaway databases on it."""

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

from support import REPOSITORY_ROOT

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


def run_migrate_command(database_url: str) -> subprocess.CompletedProcess[str]:
    """`kalito-graphql migrate` on `database_url`, in a process of its own, as a deployment runs it."""
    return subprocess.run(
        [sys.executable, "-m", "cli", "migrate"],
        cwd=REPOSITORY_ROOT,
        env={**os.environ, "KALITO_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextlib.contextmanager
def migrated_postgres_database() -> Iterator[str]:
    """A throwaway database with the schema up to date, as a deployment migrates it before it
    starts servers on PostgreSQL (they refuse a schema that is behind). Migrated in a process of
    its own, so that no Tortoise state of the migration stays in the test process."""
    with throwaway_postgres_database() as database_url:
        migrated = run_migrate_command(database_url)
        if migrated.returncode != 0:
            raise RuntimeError(f"`kalito-graphql migrate` failed:\n{migrated.stdout}{migrated.stderr}")
        yield database_url


@contextlib.contextmanager
def server_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of a fresh database a server process can start on: a SQLite file in `folder`
    (the server migrates it), or a throwaway PostgreSQL database migrated beforehand."""
    if kind == "sqlite":
        yield f"sqlite://{folder / 'kalito.db'}"
    else:
        with migrated_postgres_database() as database_url:
            yield database_url
