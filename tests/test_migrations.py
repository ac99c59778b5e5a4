"""Migrations: the committed history builds exactly the schema the models describe, moves a
database forward without losing a row, adopts the databases made before it existed, and runs
where it should — at start on SQLite, by `kalito-graphql migrate` (never the server) on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import pkgutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext
from tortoise.fields.base import Field
from tortoise.fields.relational import ManyToManyFieldInstance
from tortoise.migrations import operations as ops
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget
from tortoise.utils import get_schema_sql

import models.migrations
from models import sql
from models.columns import Row
from models.database import (
    APP,
    FIRST_MIGRATION,
    MigrationReport,
    SchemaBehind,
    UnknownSchema,
    apps_config,
    migrate,
    pending_migrations,
    prepare_database,
    tortoise_config,
)
from models.default_personas import DEFAULT_PERSONAS
from models.message import MessageRow
from models.owners import ONE_USER
from models.pagination import Listing
from models.persona import PersonaRow
from models.session import Session, SessionOrder
from models.session_columns import SessionRow
from models.tortoise_adapter import forget_compiled_statements
from support.databases import (
    drop_postgres_database,
    postgres_url_for,
    run_migrate_command,
    run_on_postgres_server,
    throwaway_postgres_database,
)
from support.live_server import live_server
from tests import pre_migration_schema
from tests.databases import ON_POSTGRES

# The committed history, in order (the migration files are numbered).
HISTORY = sorted(name for _, name, is_package in pkgutil.iter_modules(models.migrations.__path__) if not is_package)
AFTER_FIRST = HISTORY[1:]
TABLES = ("personas", "sessions", "messages")
HISTORY_TABLE = "tortoise_migrations"


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=ON_POSTGRES)])
async def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Makes empty databases of one kind (each call a new one); PostgreSQL's are dropped after."""
    made: list[str] = []

    async def make() -> str:
        name = f"kalito_migrations_{uuid.uuid4().hex}"
        if request.param == "sqlite":
            return f"sqlite://{tmp_path / name}.db"
        await run_on_postgres_server(f'CREATE DATABASE "{name}"')
        made.append(name)
        return postgres_url_for(name)

    yield make
    for name in made:
        await drop_postgres_database(name)


@contextlib.asynccontextmanager
async def connected(database_url: str) -> AsyncIterator[BaseDBAsyncClient]:
    """The models on `database_url` as the server configures them, in a Tortoise context of their own."""
    forget_compiled_statements()
    async with TortoiseContext() as context:
        await context.init(config=tortoise_config(database_url))
        yield connections.get("default")


def is_sqlite(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "sqlite"


async def migrate_to_first(connection: BaseDBAsyncClient) -> None:
    """The database as the first migration left it (Tortoise's own executor, up to a target)."""
    await MigrationExecutor(connection, apps_config()).migrate([MigrationTarget(APP, FIRST_MIGRATION)])


async def recorded(connection: BaseDBAsyncClient) -> list[str]:
    if HISTORY_TABLE not in await existing_tables(connection):
        return []
    _, rows = await connection.execute_query('SELECT "name" FROM "tortoise_migrations" ORDER BY "name"')
    return [row["name"] for row in rows]


async def existing_tables(connection: BaseDBAsyncClient) -> set[str]:
    if is_sqlite(connection):
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
    _, rows = await connection.execute_query(query)
    return {row["name"] for row in rows}


# --- rows: written with the columns of the first migration, in SQL (the models move on) -------

MOMENT = datetime(2025, 3, 1, 9, 30, 15, 123000, tzinfo=UTC)
PERSONAS: list[dict[str, Any]] = [
    *({**persona, "is_default": True, "created_at": MOMENT, "updated_at": MOMENT} for persona in DEFAULT_PERSONAS),
    {
        "id": "poe-scholar",
        "name": "Poe scholar",
        "prompt": "You know Poe's letters.\nQuote them.",
        "description": None,
        "icon": "🐦‍⬛",
        "category": "custom",
        "default_model": "gpt-4.1-nano",
        "is_default": False,
        "created_at": MOMENT,
        "updated_at": MOMENT + timedelta(seconds=1),
    },
]
SESSIONS: list[dict[str, Any]] = [
    {
        "id": "saved-with-persona",
        "name": "Poe, explained ☃",
        "model": "gpt-4.1-nano",
        "recap": "cats\nand ravens",
        "persona_id": "poe-scholar",
        "saved": True,
        "created_at": MOMENT,
        "updated_at": MOMENT + timedelta(minutes=5),
    },
    {
        "id": "ephemeral-without-persona",
        "name": "New Chat",
        "model": None,
        "recap": None,
        "persona_id": None,
        "saved": False,
        "created_at": MOMENT + timedelta(hours=1),
        "updated_at": MOMENT + timedelta(hours=1),
    },
]
MESSAGES: list[dict[str, Any]] = [
    {"id": number, "session_id": session, "role": role, "text": text, "model": model, "token_usage": tokens}
    | {"created_at": MOMENT + timedelta(seconds=number % 1000)}
    for number, session, role, text, model, tokens in (
        (1, "saved-with-persona", "system", "Be brief.", None, None),
        (2, "saved-with-persona", "user", "Tell me about Poe", None, None),
        (3, "saved-with-persona", "assistant", "Edgar…\n“Nevermore”", "gpt-4.1-nano", 42),
        (2**40, "ephemeral-without-persona", "user", "🦉", None, None),
    )
]


async def insert(connection: BaseDBAsyncClient, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(f'"{column}"' for column in row)
    if is_sqlite(connection):
        marks = ", ".join("?" for _ in row)
        # as Tortoise stores them on SQLite: text, "YYYY-MM-DD HH:MM:SS.ffffff+00:00"
        values = [str(value) if isinstance(value, datetime) else value for value in row.values()]
    else:
        marks = ", ".join(f"${number}" for number in range(1, len(row) + 1))
        values = list(row.values())
    await connection.execute_query(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', values)


async def fill(connection: BaseDBAsyncClient) -> dict[str, list[dict[str, Any]]]:
    """Sessions, messages and personas, every column used; answers the rows as stored."""
    for table, rows in (("personas", PERSONAS), ("sessions", SESSIONS), ("messages", MESSAGES)):
        for row in rows:
            await insert(connection, table, row)
    return await snapshot(connection)


async def snapshot(connection: BaseDBAsyncClient) -> dict[str, list[dict[str, Any]]]:
    result = {}
    for table in TABLES:
        _, rows = await connection.execute_query(f'SELECT * FROM "{table}" ORDER BY "id"')
        result[table] = [dict(row) for row in rows]
    return result


def as_before(after: dict[str, list[dict[str, Any]]], before: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The rows after, in the columns there were before (a later migration may add columns)."""
    return {
        table: [{column: row[column] for column in before[table][0]} for row in rows] for table, rows in after.items()
    }


# --- schema shape: what a database holds, not how its DDL happens to be spelt ----------------


async def schema_of(connection: BaseDBAsyncClient) -> dict[str, list[tuple[Any, ...]]]:
    """Columns, indexes and constraints of the project's tables (not the migration history)."""
    if is_sqlite(connection):
        return await _sqlite_schema(connection)
    queries = {
        "columns": """SELECT table_name, column_name, data_type, character_maximum_length, is_nullable,
                             column_default
                      FROM information_schema.columns WHERE table_schema = current_schema()""",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
        "constraints": """SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid)
                          FROM pg_constraint WHERE connamespace = current_schema()::regnamespace""",
    }
    shape = {}
    for part, query in queries.items():
        _, rows = await connection.execute_query(query)
        every = (tuple(dict(row).values()) for row in rows)
        shape[part] = sorted(values for values in every if values[0] != HISTORY_TABLE)  # [0]: the table
    return shape


async def _sqlite_schema(connection: BaseDBAsyncClient) -> dict[str, list[tuple[Any, ...]]]:
    async def pragma(statement: str) -> list[dict[str, Any]]:
        return [dict(row) for row in (await connection.execute_query(statement))[1]]

    shape: dict[str, list[tuple[Any, ...]]] = {"columns": [], "indexes": [], "foreign_keys": []}
    for table in sorted((await existing_tables(connection)) - {HISTORY_TABLE}):
        for column in await pragma(f'PRAGMA table_info("{table}")'):
            shape["columns"].append((table, column["name"], column["type"], column["notnull"], column["dflt_value"]))
            if column["pk"]:
                shape["columns"].append((table, column["name"], "primary key"))
        for index in await pragma(f'PRAGMA index_list("{table}")'):
            columns = tuple(c["name"] for c in await pragma(f'PRAGMA index_info("{index["name"]}")'))
            shape["indexes"].append((table, index["name"], index["unique"], columns))
        for key in await pragma(f'PRAGMA foreign_key_list("{table}")'):
            shape["foreign_keys"].append((table, key["from"], key["table"], key["to"], key["on_delete"]))
    return {part: sorted(rows) for part, rows in shape.items()}


# --- (1) the migrations and the models agree ---------------------------------------------------


async def test_the_models_have_no_change_the_committed_migrations_lack() -> None:
    async with TortoiseContext() as context:
        await context.init(config=tortoise_config("sqlite://:memory:"), init_connections=False)
        assert context.apps is not None
        missing = await MigrationAutodetector(context.apps, apps_config()).changes()
    assert not missing, "run `tortoise makemigrations` and commit the file:\n" + missing[0].as_string()


async def test_the_migrations_build_exactly_the_tables_the_models_describe(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    async with connected(await new_database()) as connection:
        await migrate()
        migrated = await schema_of(connection)
    async with connected(await new_database()) as connection:
        await connection.execute_script(get_schema_sql(connection, safe=False))
        described = await schema_of(connection)
    assert migrated == described


# --- (2) a database moved forward keeps every row -----------------------------------------------


async def test_a_database_at_the_first_migration_keeps_every_row_when_migrated_to_the_latest(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    assert AFTER_FIRST, "the history needs a migration after the first for this test to move anything"
    async with connected(await new_database()) as connection:
        await migrate_to_first(connection)
        before = await fill(connection)
        assert await pending_migrations() == AFTER_FIRST

        report = await migrate()

        assert report == MigrationReport(applied=AFTER_FIRST)
        assert await pending_migrations() == []
        assert as_before(await snapshot(connection), before) == before
        # and the models read them: the cascade and the persona relation still hold
        assert await models.Message.filter(session_id="saved-with-persona").count() == 3
        session = await models.Session.get(id="saved-with-persona").prefetch_related("persona")
        assert session.persona is not None and session.persona.name == "Poe scholar"


async def test_a_migration_that_rebuilds_the_sessions_table_keeps_every_row_that_refers_to_it(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    """Tortoise changes a SQLite column by copying the table and dropping the original; with
    foreign keys enforced, that drop deletes every message (ON DELETE CASCADE)."""
    async with connected(await new_database()) as connection:
        await migrate_to_first(connection)
        before = await fill(connection)

        report = await migrate("tests.rebuild_migrations")

        assert report.applied == ["0002_longer_session_names"]
        assert as_before(await snapshot(connection), before) == before
        if is_sqlite(connection):
            _, enforced = await connection.execute_query("PRAGMA foreign_keys")
            assert dict(enforced[0]) == {"foreign_keys": 1}, "foreign keys must be enforced again after"


async def rows_of(row: type[Row], table: str) -> list[Any]:
    return [row.from_db(values) for values in await sql.fetch(f'SELECT {row.select_list} FROM "{table}"', [])]


async def test_rows_already_there_get_the_memory_columns_with_kalito_s_defaults(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    """0003_memory_columns on a populated database: every message 0.5 (Kalito's column default),
    every persona without settings, every session with empty metadata, read through the rows."""
    async with connected(await new_database()) as connection:
        await migrate_to_first(connection)
        await fill(connection)

        await migrate()

        messages = await rows_of(MessageRow, "messages")
        assert [message.importance for message in messages] == [0.5] * len(MESSAGES)
        personas = await rows_of(PersonaRow, "personas")
        settings = {(p.temperature, p.max_tokens, p.top_p, p.repeat_penalty) for p in personas}
        assert settings == {(None, None, None, None)}
        assert [(p.stop_sequences, p.suggested_models) for p in personas] == [([], [])] * len(PERSONAS)
        sessions = await rows_of(SessionRow, "sessions")
        assert [session.metadata for session in sessions] == [{}] * len(SESSIONS)
        # and the new column takes writes
        await Session.update_session(ONE_USER, "saved-with-persona", {"metadata": {"topic": "Poe"}})
        assert (await Session.by_id(ONE_USER, "saved-with-persona")).metadata == {"topic": "Poe"}  # type: ignore[union-attr]


# --- (3) a NOT NULL column added to a table that holds rows ---------------------------------------


async def test_a_not_null_column_with_its_db_default_is_added_to_a_database_that_holds_rows(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    async with connected(await new_database()) as connection:
        await migrate_to_first(connection)
        before = await fill(connection)

        report = await migrate("tests.column_migrations")

        assert report.applied == ["0002_session_pinned"]
        after = await snapshot(connection)
        assert as_before(after, before) == before
        assert [bool(session["pinned"]) for session in after["sessions"]] == [False] * len(SESSIONS)


async def test_a_not_null_column_without_a_db_default_cannot_be_added_to_a_database_that_holds_rows(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    """Why the migration of such a column needs the value existing rows get (the trap)."""
    async with connected(await new_database()) as connection:
        await migrate_to_first(connection)
        before = await fill(connection)

        with pytest.raises(Exception, match=r"(?i)not null|null value"):
            await migrate("tests.column_migrations_without_default")

        assert await snapshot(connection) == before  # all or nothing: nothing


def test_every_not_null_column_a_migration_adds_says_what_existing_rows_get() -> None:
    """A table may hold rows when a migration adds a column to it: a NOT NULL one must have its
    `db_default=` (tests.column_migrations shows it works; its twin without, that it fails)."""
    missing = [
        f"{name}: {operation.model_name}.{operation.name}"
        for name in HISTORY
        for operation in importlib.import_module(f"models.migrations.{name}").Migration.operations
        if isinstance(operation, ops.AddField)
        and isinstance(operation.field, Field)
        and not isinstance(operation.field, ManyToManyFieldInstance)
        and not operation.field.null
        and not operation.field.has_db_default()
    ]
    assert not missing, f"give each field `db_default=` (the value existing rows get): {missing}"


async def test_every_session_newest_first_is_read_from_an_index_not_sorted_whole(tmp_path: Path) -> None:
    """Why 0002 exists: `sessions(filter: {saved: null})` in the default order, each page."""
    async with connected(f"sqlite://{tmp_path / 'kalito.db'}") as connection:
        await migrate()
        order = SessionOrder.UPDATED_AT_DESC.value
        every = Listing(Session, SessionRow)
        for conditions, params in (([], [21]), ([order.past()], [MOMENT.isoformat(" "), "a-session-id", 21])):
            statement = every.select(conditions, order.order_by)
            _, plan = await connection.execute_query(f"EXPLAIN QUERY PLAN {statement}", params)
            steps = [row["detail"] for row in plan]
            assert any("USING INDEX" in step for step in steps), steps
            assert not any("TEMP B-TREE" in step for step in steps), steps


# --- (6) databases made before migrations --------------------------------------------------------


async def test_a_database_made_before_migrations_is_adopted_with_every_row_and_the_latest_schema(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    async with connected(await new_database()) as connection:
        await migrate()
        fresh = await schema_of(connection)
    async with connected(await new_database()) as connection:
        ddl = pre_migration_schema.SQLITE if is_sqlite(connection) else pre_migration_schema.POSTGRES
        await connection.execute_script(ddl)
        before = await fill(connection)
        assert await pending_migrations() == HISTORY

        report = await migrate()

        assert report == MigrationReport(applied=AFTER_FIRST, adopted=True)
        assert any("adopted" in line and FIRST_MIGRATION in line for line in report.lines())
        assert await recorded(connection) == HISTORY
        assert as_before(await snapshot(connection), before) == before
        assert await schema_of(connection) == fresh


async def test_a_database_with_some_of_the_tables_and_no_history_is_refused_untouched(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    async with connected(await new_database()) as connection:
        await connection.execute_query('CREATE TABLE "personas" ("id" VARCHAR(64) NOT NULL PRIMARY KEY)')

        with pytest.raises(UnknownSchema, match="sessions"):
            await migrate()

        assert await existing_tables(connection) - {HISTORY_TABLE} == {"personas"}
        assert await recorded(connection) == []


# --- two migrators at once --------------------------------------------------------------------------


async def test_two_processes_migrating_at_once_apply_each_migration_once(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    """Two connections of their own (as two server workers starting together): the second waits
    for the first's lock, then finds nothing to do, instead of creating the tables again."""
    database_url = await new_database()

    async def one_process() -> MigrationReport:
        async with connected(database_url):
            return await migrate()

    reports = await asyncio.gather(one_process(), one_process())

    assert sorted(report.applied for report in reports) == [[], HISTORY]
    async with connected(database_url) as connection:
        assert await recorded(connection) == HISTORY


# --- where migrations run: the command, the server's start ---------------------------------------


@ON_POSTGRES
async def test_on_postgresql_preparing_the_database_refuses_a_schema_behind_and_changes_nothing() -> None:
    name = f"kalito_migrations_{uuid.uuid4().hex}"
    await run_on_postgres_server(f'CREATE DATABASE "{name}"')
    try:
        await _refuses_a_schema_behind(postgres_url_for(name))
    finally:
        await drop_postgres_database(name)


async def _refuses_a_schema_behind(database_url: str) -> None:
    async with connected(database_url) as connection:
        with pytest.raises(SchemaBehind, match="`kalito-graphql migrate`") as empty:
            await prepare_database()
        assert empty.value.pending == HISTORY
        assert await existing_tables(connection) <= {HISTORY_TABLE}

        await migrate_to_first(connection)
        with pytest.raises(SchemaBehind, match=AFTER_FIRST[-1]):
            await prepare_database()
        assert await pending_migrations() == AFTER_FIRST


def migrate_command_lines(database_url: str) -> list[str]:
    done = run_migrate_command(database_url)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=ON_POSTGRES)])
def test_the_migrate_command_builds_a_fresh_database_then_finds_nothing_to_do(kind: str, tmp_path: Path) -> None:
    database = (
        throwaway_postgres_database()
        if kind == "postgres"
        else contextlib.nullcontext(f"sqlite://{tmp_path / 'kalito.db'}")
    )
    with database as database_url:
        assert migrate_command_lines(database_url) == [f"applied {name}" for name in HISTORY]
        assert migrate_command_lines(database_url) == ["the schema is up to date: nothing to apply"]


async def at_first_migration_with_rows(database_url: str) -> dict[str, list[dict[str, Any]]]:
    async with connected(database_url) as connection:
        await migrate_to_first(connection)
        return await fill(connection)


async def state_of(database_url: str) -> tuple[list[str], dict[str, list[dict[str, Any]]]]:
    async with connected(database_url) as connection:
        return await pending_migrations(), await snapshot(connection)


@ON_POSTGRES
def test_the_server_on_postgresql_refuses_to_start_behind_and_says_to_run_migrate(tmp_path: Path) -> None:
    with throwaway_postgres_database() as database_url:
        before = asyncio.run(at_first_migration_with_rows(database_url))
        env = {"KALITO_DATABASE_URL": database_url}

        with pytest.raises(RuntimeError, match=r"the server exited with [1-9]") as refused, live_server(env, tmp_path):
            pass

        log = str(refused.value)
        assert "kalito-graphql migrate" in log
        assert all(name in log for name in AFTER_FIRST), log
        assert asyncio.run(state_of(database_url)) == (AFTER_FIRST, before), "the server must not migrate"

        migrate_command_lines(database_url)
        with live_server(env, tmp_path) as url:
            assert httpx.get(f"{url}/healthz").status_code == 200


def test_the_server_on_sqlite_applies_the_pending_migrations_at_start(tmp_path: Path) -> None:
    database_url = f"sqlite://{tmp_path / 'kalito.db'}"
    before = asyncio.run(at_first_migration_with_rows(database_url))

    with live_server({"KALITO_DATABASE_URL": database_url}, tmp_path) as url:
        query = '{ sessions(filter: {saved: null}) { totalCount } session(id: "saved-with-persona") { messageCount } }'
        body = httpx.post(f"{url}/graphql", json={"query": query}).json()
        assert body == {"data": {"sessions": {"totalCount": 2}, "session": {"messageCount": 3}}}

    pending, after = asyncio.run(state_of(database_url))
    assert pending == []
    assert as_before(after, before) == before
    with contextlib.closing(sqlite3.connect(tmp_path / "kalito.db")) as database:
        assert [name for (name,) in database.execute("SELECT name FROM tortoise_migrations ORDER BY name")] == HISTORY
    log = "".join(path.read_text() for path in tmp_path.glob("server-*.log"))
    assert all(f"applied {name}" in log for name in AFTER_FIRST), log
