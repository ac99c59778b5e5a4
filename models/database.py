"""How the models reach a database: the Tortoise configuration, the migrations that build and
evolve the schema, and first-start preparation.

The schema is Tortoise's migrations in `models/migrations/` (`tortoise makemigrations` writes a
new one after a model changes). On SQLite the server applies the pending ones when it starts; on
PostgreSQL a deployment runs `kalito-graphql migrate` and the server refuses a schema behind it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext
from tortoise.migrations.recorder import MigrationRecorder
from tortoise.transactions import in_transaction

from models.owners import UNOWNED
from models.persona import Persona
from models.session import Session
from models.tortoise_adapter import Executor, Recorder

MODEL_MODULES = [
    "models.persona",
    "models.session",
    "models.session_import",
    "models.message",
    "models.pin",
    "models.summary",
]
MIGRATIONS_MODULE = "models.migrations"
APP = "models"
# What the releases before migrations made with `generate_schemas`: exactly the first migration.
FIRST_MIGRATION = "0001_initial"
PRE_MIGRATION_TABLES = ("personas", "sessions", "messages")
# One migrator at a time per PostgreSQL database (a transaction-scoped advisory lock).
_POSTGRES_LOCK_KEY = 0x6B616C69746F  # "kalito"

logger = logging.getLogger("kalito.migrations")


def tortoise_config(database_url: str) -> dict[str, Any]:
    connection = expand_db_url(database_url)
    if connection["engine"] == "tortoise.backends.sqlite":
        # Transactions that take the write lock up front: several processes can share the file.
        connection["engine"] = "models.sqlite_backend"
        # WAL lets readers run beside the writer; FULL makes each commit survive power loss,
        # not only a crash of the process (an answered mutation is never lost).
        connection["credentials"].setdefault("synchronous", "FULL")
        connection["credentials"].setdefault("busy_timeout", 10_000)
    return {
        "connections": {"default": connection},
        "apps": apps_config(MIGRATIONS_MODULE),
        "use_tz": True,
        "timezone": "UTC",
    }


class SchemaError(RuntimeError):
    """The database's schema is not one this version can run on (yet)."""


class SchemaBehind(SchemaError):
    """The database lacks migrations this version needs, and this process may not apply them."""

    def __init__(self, pending: list[str]) -> None:
        self.pending = pending
        super().__init__(
            f"the database schema is behind this version: {len(pending)} migration(s) pending "
            f"({', '.join(pending)}). Run `kalito-graphql migrate` with the same KALITO_DATABASE_URL, "
            "then start the server again."
        )


class UnknownSchema(SchemaError):
    """The database holds some of the tables but no migration history: not one this project made."""


@dataclass(frozen=True)
class MigrationReport:
    applied: list[str] = field(default_factory=list)
    # A database made by `generate_schemas` before migrations existed: its first migration was
    # recorded as applied (its tables are already there), not run.
    adopted: bool = False

    def lines(self) -> list[str]:
        lines = []
        if self.adopted:
            lines.append(
                f"adopted a database created before migrations: recorded {FIRST_MIGRATION} as applied "
                "(its tables were already there)"
            )
        lines += [f"applied {name}" for name in self.applied]
        return lines or ["the schema is up to date: nothing to apply"]


def apps_config(migrations: str = MIGRATIONS_MODULE) -> dict[str, dict[str, Any]]:
    """Tortoise's `apps`: the models, and the migrations that build their tables."""
    return {APP: {"models": MODEL_MODULES, "default_connection": "default", "migrations": migrations}}


# For Tortoise's own CLI (`tortoise makemigrations`, see pyproject.toml): the models and where their
# migrations live. In memory: writing a migration needs no database; `kalito-graphql migrate` applies them.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")


async def pending_migrations(migrations: str = MIGRATIONS_MODULE) -> list[str]:
    """The migrations of this version that the database has not recorded, in the order they run."""
    executor = Executor(connections.get("default"), apps_config(migrations))
    return [step.migration.name for step in await executor.plan() if not step.backward]


async def migrate(migrations: str = MIGRATIONS_MODULE) -> MigrationReport:
    """Bring the schema to the latest migration; adopt a database made before migrations.

    Everything happens in one transaction that holds a lock first, so a second process migrating
    at the same moment waits, then finds nothing left to do; a failed migration leaves the
    database as it was. (A migration that cannot run in a transaction is therefore not possible.)
    """
    connection = connections.get("default")
    sqlite = connection.capabilities.dialect == "sqlite"
    if sqlite:
        # The lock below is a write to this table. SQLite ignores the foreign_keys pragma inside a
        # transaction: off before it, because Tortoise alters a SQLite table by copying it and
        # dropping the original, and that drop would cascade (every message of every session).
        await Recorder(connection).ensure_schema()
        await connection.execute_query("PRAGMA foreign_keys = OFF")
    try:
        async with in_transaction(connection.connection_name) as transaction:
            return await _migrate_locked(Executor(transaction, apps_config(migrations)))
    finally:
        if sqlite:
            await connection.execute_query("PRAGMA foreign_keys = ON")


async def _migrate_locked(executor: Executor) -> MigrationReport:
    transaction, recorder = executor.connection, executor.recorder
    if transaction.capabilities.dialect == "sqlite":
        # The first statement writes, so it waits for (busy_timeout) any other writer and holds
        # the write lock from here to the commit.
        await transaction.execute_query(f'UPDATE "{recorder.table_name}" SET "id" = "id" WHERE 0')
    else:
        await transaction.execute_query(f"SELECT pg_advisory_xact_lock({_POSTGRES_LOCK_KEY})")
    await recorder.ensure_schema()

    adopted = False
    if not any(key.app_label == APP for key in await recorder.applied_migrations()):
        adopted = await _adopt_pre_migration_database(transaction, recorder)

    applied: list[str] = []

    def note(event: str, _app: str, name: str) -> None:
        if event == "apply_done":
            applied.append(name)

    await executor.migrate(progress=note)
    if transaction.capabilities.dialect == "sqlite":
        _, broken = await transaction.execute_query("PRAGMA foreign_key_check")
        if broken:
            raise RuntimeError(f"the migrations would leave {len(broken)} row(s) referring to missing rows")
    return MigrationReport(applied=applied, adopted=adopted)


async def _adopt_pre_migration_database(transaction: BaseDBAsyncClient, recorder: MigrationRecorder) -> bool:
    """A database from before migrations has the first migration's tables and no history: record
    that migration as applied instead of running it (its CREATE TABLEs would fail)."""
    present = await _existing_tables(transaction, PRE_MIGRATION_TABLES)
    if not present:
        return False
    missing = sorted(set(PRE_MIGRATION_TABLES) - set(present))
    if missing:
        raise UnknownSchema(
            f"the database has the tables {', '.join(sorted(present))} but not {', '.join(missing)}, and no "
            "migration history: it was not made by kalito-graphql; refusing to change it"
        )
    await recorder.record_applied(APP, FIRST_MIGRATION)
    return True


async def _existing_tables(connection: BaseDBAsyncClient, names: tuple[str, ...]) -> list[str]:
    if connection.capabilities.dialect == "sqlite":
        placeholders = ", ".join("?" for _ in names)
        query = f"SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({placeholders})"
        _, rows = await connection.execute_query(query, list(names))
    else:
        query = "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1)"
        _, rows = await connection.execute_query(query, [list(names)])
    return [row["name"] for row in rows]


async def migrate_database(database_url: str) -> MigrationReport:
    """`kalito-graphql migrate`: connect, migrate, disconnect (in a context of its own)."""
    async with TortoiseContext() as context:
        await context.init(config=tortoise_config(database_url))
        return await migrate()


class UnownedRows(SchemaError):
    """Accounts are on, rows written without them are there, and no one is named to own them."""

    def __init__(self, sessions: int, personas: int) -> None:
        super().__init__(
            f"accounts are on (KALITO_AUTH=jwt) and {sessions} session(s) and {personas} persona(s) were "
            "written without them: set KALITO_DEFAULT_OWNER to the user (the token's sub) who owns them"
        )


async def give_unowned_rows(default_owner: str | None) -> None:
    """With accounts, the sessions and personas written without them go to `default_owner`
    (api.md §11); Kalito's default personas stay everyone's. Several workers starting at once
    give them alike: the second finds none left."""
    unowned_sessions = Session.filter(owner_id=UNOWNED)
    unowned_personas = Persona.filter(owner_id=UNOWNED, is_default=False)
    if default_owner is None:
        sessions, personas = await unowned_sessions.count(), await unowned_personas.count()
        if sessions or personas:
            raise UnownedRows(sessions, personas)
        return
    async with in_transaction():
        sessions = await unowned_sessions.update(owner_id=default_owner)
        personas = await unowned_personas.update(owner_id=default_owner)
    if sessions or personas:
        logger.warning(
            "accounts: %d session(s) and %d persona(s) written without accounts now belong to %r",
            sessions,
            personas,
            default_owner,
        )


async def prepare_database(*, accounts: bool = False, default_owner: str | None = None) -> None:
    """Make the schema current, create the rows every installation starts with, and, with
    accounts, give the rows written without them to their owner.

    SQLite applies the pending migrations here (the server owns its file). PostgreSQL is migrated
    by the deployment (`kalito-graphql migrate`); a schema behind this version stops the start.
    """
    if connections.get("default").capabilities.dialect == "sqlite":
        if await pending_migrations():
            report = await migrate()  # nothing, when another worker got there first
            if report.applied or report.adopted:
                # Warnings, so that they reach the server's log: the schema of the data changed.
                for line in report.lines():
                    logger.warning(line)
    elif pending := await pending_migrations():
        raise SchemaBehind(pending)
    await Persona.ensure_defaults()
    if accounts:
        await give_unowned_rows(default_owner)
