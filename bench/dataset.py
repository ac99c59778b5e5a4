"""The benchmark's dataset: 100,000 sessions and 1,000,000 messages, built once and cached.

    python -m bench.dataset [--quick] [--database sqlite|postgres|both]

The schema is made the way a deployment makes it (`python -m cli migrate`); the rows go in by bulk
SQL (executemany on SQLite, COPY on PostgreSQL), not through the API. The rows are a function of
the parameters alone (fixed seed, fixed dates), so a cached copy is reused when the parameters,
this module's DATASET_VERSION and the list of migrations are the same:

- SQLite: a file in the cache directory (~/.cache/kalito-bench by default);
- PostgreSQL: a database `kalito_bench_<sessions>_<messages>_<key>`, which each run copies as a
  TEMPLATE.

Each benchmark run works on a copy, so its writes never change the cached data.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.workloads import session_id
from models.default_personas import DEFAULT_PERSONAS
from models.message_tree import CHAIN_EVERY_SESSION
from support import REPOSITORY_ROOT
from support.databases import run_migrate_command

DATASET_VERSION = 2  # bump when the rows below change
DEFAULT_CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kalito-bench"
# The server's maintenance database: new databases are created (and dropped) from it.
DEFAULT_POSTGRES_URL = os.environ.get("KALITO_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")

BASE_MOMENT = datetime(2025, 1, 1, tzinfo=UTC)
SESSION_SPACING_SECONDS = 300  # a new conversation every five minutes, on average
SAVED_SHARE = 0.8  # ephemeral sessions are purged after a day: a long-lived database is mostly saved ones
MODELS = ("gpt-4.1-nano", "gpt-4.1-mini", "claude-sonnet-4", "llama3.2:3b", "mistral-small")
MESSAGE_COUNTS = (0, 1, 2, 4, 6, 8, 10, 12, 14, 18, 24, 30)  # per session, before the total is matched
WORDS = (
    "poe",
    "raven",
    "cats",
    "gothic",
    "poetry",
    "baltimore",
    "library",
    "garden",
    "recipe",
    "bread",
    "sourdough",
    "travel",
    "lisbon",
    "train",
    "budget",
    "tax",
    "python",
    "async",
    "database",
    "index",
    "query",
    "cursor",
    "graph",
    "server",
    "memory",
    "kernel",
    "linux",
    "piano",
    "chords",
    "jazz",
    "harmony",
    "running",
    "marathon",
    "knee",
    "stretch",
    "tomato",
    "soil",
    "compost",
    "bees",
    "winter",
    "telescope",
    "saturn",
    "rings",
    "comet",
    "essay",
    "draft",
    "thesis",
    "chapter",
    "review",
    "letter",
    "invoice",
    "contract",
)

BENCH_PERSONAS = (
    ("research-helper", "Research helper", "research"),
    ("code-reviewer", "Code reviewer", "code"),
    ("travel-planner", "Travel planner", "travel"),
    ("writing-coach", "Writing coach", "writing"),
    ("chef", "Kitchen companion", "food"),
    ("tutor", "Patient tutor", "learning"),
)
PERSONA_CHOICES = (
    *(["default-cloud"] * 10),
    *(["default-local"] * 4),
    *(persona_id for persona_id, _, _ in BENCH_PERSONAS),
    None,
    None,
)

PERSONA_COLUMNS = (
    "id",
    "name",
    "prompt",
    "description",
    "icon",
    "category",
    "default_model",
    "is_default",
    "created_at",
    "updated_at",
)
SESSION_COLUMNS = ("id", "name", "model", "recap", "saved", "created_at", "updated_at", "persona_id")
MESSAGE_COLUMNS = ("id", "session_id", "role", "text", "model", "token_usage", "created_at")


@dataclass(frozen=True)
class DatasetSpec:
    sessions: int
    messages: int
    seed: int = 6

    def key(self) -> str:
        """Changes with the parameters, this module's rows and the schema's migrations."""
        migrations = sorted(path.stem for path in (REPOSITORY_ROOT / "models" / "migrations").glob("0*.py"))
        raw = f"{DATASET_VERSION}:{self.sessions}:{self.messages}:{self.seed}:{','.join(migrations)}"
        return hashlib.sha256(raw.encode()).hexdigest()[:12]

    def describe(self) -> str:
        return f"{self.sessions:,} sessions, {self.messages:,} messages"


FULL = DatasetSpec(sessions=100_000, messages=1_000_000)
QUICK = DatasetSpec(sessions=2_000, messages=20_000)


def to_millisecond(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# --- the rows ------------------------------------------------------------------------------


def persona_rows() -> list[tuple[object, ...]]:
    moment = BASE_MOMENT - timedelta(days=30)
    rows: list[tuple[object, ...]] = [
        (
            persona["id"],
            persona["name"],
            persona["prompt"],
            persona["description"],
            persona["icon"],
            persona["category"],
            None,
            True,
            moment,
            moment,
        )
        for persona in DEFAULT_PERSONAS
    ]
    for persona_id, name, category in BENCH_PERSONAS:
        prompt = f"You are a {name.lower()}. Be concise and kind."
        rows.append((persona_id, name, prompt, f"A {name.lower()}", None, category, MODELS[0], False, moment, moment))
    return rows


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def message_counts(spec: DatasetSpec, rng: random.Random) -> list[int]:
    """How many messages each session has: varied (some none), summing to spec.messages."""
    counts = [rng.choice(MESSAGE_COUNTS) for _ in range(spec.sessions)]
    difference = spec.messages - sum(counts)
    step = 1 if difference > 0 else -1
    while difference:
        index = rng.randrange(spec.sessions)
        if step > 0 or counts[index] > 0:
            counts[index] += step
            difference -= step
    return counts


def session_and_message_rows(
    spec: DatasetSpec,
) -> tuple[list[tuple[object, ...]], Iterator[tuple[object, ...]]]:
    """The sessions (a list) and their messages (generated lazily, ids 1..N in session order).

    Session n starts about n * 5 minutes after BASE_MOMENT and stays active up to 3 hours, so
    the newest activity is roughly the highest n; its last message is its `updated_at`.
    Timestamps have millisecond precision, as the API stores them (some fall on a whole second).
    """
    rng = random.Random(spec.seed)
    texts = [_sentence(rng, rng.randint(3, 90)) for _ in range(997)]
    recaps = [_sentence(rng, rng.randint(15, 90)) for _ in range(101)]
    counts = message_counts(spec, rng)
    whole_seconds = {0, 1, spec.sessions - 2, spec.sessions - 1}
    sessions: list[tuple[object, ...]] = []
    spans: list[tuple[datetime, datetime]] = []
    for number in range(spec.sessions):
        created = BASE_MOMENT + timedelta(
            seconds=number * SESSION_SPACING_SECONDS, milliseconds=rng.randrange(SESSION_SPACING_SECONDS * 1000)
        )
        updated = created + timedelta(milliseconds=rng.randrange(3 * 3600 * 1000)) if counts[number] else created
        saved = rng.random() < SAVED_SHARE
        if number in whole_seconds:
            # Stored without a fraction ("... 10:00:00+00:00"): on the first and the last pages.
            created, updated, saved = created.replace(microsecond=0), updated.replace(microsecond=0), True
        name = f"{_sentence(rng, rng.randint(2, 5))[:-1]} #{number}" if saved else "New Chat"
        model = rng.choice(MODELS) if rng.random() < 0.9 else None
        recap = rng.choice(recaps) if saved and rng.random() < 0.25 else None
        persona = rng.choice(PERSONA_CHOICES)
        sessions.append((session_id(number), name, model, recap, saved, created, updated, persona))
        spans.append((created, updated))

    def messages() -> Iterator[tuple[object, ...]]:
        message_id = 0
        for number, count in enumerate(counts):
            created, updated = spans[number]
            step = (updated - created) / count if count else timedelta(0)
            model = sessions[number][2]
            for index in range(count):
                message_id += 1
                moment = to_millisecond(updated - step * (count - 1 - index))
                if index == 0 and message_id % 10 == 0:
                    role, tokens = "system", None
                elif index % 2 == 0:
                    role, tokens = "user", None
                else:
                    role, tokens = "assistant", 20 + message_id % 900
                text = texts[(message_id * 7919) % len(texts)]
                yield (
                    message_id,
                    session_id(number),
                    role,
                    text,
                    model if role == "assistant" else None,
                    tokens,
                    moment,
                )

    return sessions, messages()


# --- SQLite ----------------------------------------------------------------------------------


def sqlite_moment(moment: datetime) -> str:
    """What Tortoise stores for a datetime on SQLite (its sqlite3 adapter: isoformat(" "))."""
    return moment.isoformat(" ")


def migrate(database_url: str) -> None:
    """The schema, made as a deployment makes it."""
    result = run_migrate_command(database_url)
    if result.returncode != 0:
        raise RuntimeError(f"`python -m cli migrate` failed:\n{result.stdout}{result.stderr}")


def _sqlite_row(row: tuple[object, ...]) -> tuple[object, ...]:
    return tuple(sqlite_moment(value) if isinstance(value, datetime) else value for value in row)


def _insert_sql(table: str, columns: tuple[str, ...], placeholder: str = "?") -> str:
    names = ",".join(f'"{column}"' for column in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({",".join(placeholder for _ in columns)})'


def build_sqlite(path: Path, spec: DatasetSpec) -> None:
    """A new SQLite file at `path` holding the dataset (an existing file is replaced)."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    migrate(f"sqlite://{path}")
    sessions, messages = session_and_message_rows(spec)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous = OFF")  # a crash here only means building again
        connection.execute("BEGIN")
        connection.executemany(_insert_sql("personas", PERSONA_COLUMNS), map(_sqlite_row, persona_rows()))
        connection.executemany(_insert_sql("sessions", SESSION_COLUMNS), map(_sqlite_row, sessions))
        connection.executemany(_insert_sql("messages", MESSAGE_COLUMNS), map(_sqlite_row, messages))
        connection.execute(CHAIN_EVERY_SESSION)  # each session's messages a chain, as the migration makes them
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def ensure_sqlite(spec: DatasetSpec, cache_dir: Path = DEFAULT_CACHE_DIR, *, log: bool = True) -> Path:
    """The cached SQLite dataset for `spec`, built first when it is not there."""
    path = cache_dir / f"kalito-bench-{spec.sessions}-{spec.messages}-{spec.key()}.db"
    if path.exists():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob(f"kalito-bench-{spec.sessions}-{spec.messages}-*"):
        stale.unlink()  # the same size, from an older schema or DATASET_VERSION (and its -wal, -shm)
    building = path.with_name(path.name + ".building")
    started = time.monotonic()
    if log:
        print(f"building the SQLite dataset ({spec.describe()}) in {path} ...", flush=True)
    build_sqlite(building, spec)
    building.rename(path)
    if log:
        print(f"  built in {time.monotonic() - started:.0f}s", flush=True)
    return path


def copy_sqlite(source: Path, target: Path) -> None:
    """A working copy of a cached file (the cached one holds no WAL: it was checkpointed)."""
    shutil.copyfile(source, target)


# --- PostgreSQL ------------------------------------------------------------------------------


def postgres_url_for(server_url: str, database: str) -> str:
    return server_url.rstrip("/").rsplit("/", 1)[0] + f"/{database}"


async def _admin(server_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _database_exists(server_url: str, name: str) -> bool:
    connection = await asyncpg.connect(server_url)
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await connection.close()


async def _databases_like(server_url: str, prefix: str) -> list[str]:
    connection = await asyncpg.connect(server_url)
    try:
        rows = await connection.fetch("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix)
        return [row["datname"] for row in rows]
    finally:
        await connection.close()


async def _load_postgres(database_url: str, spec: DatasetSpec) -> None:
    sessions, messages = session_and_message_rows(spec)
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            await connection.copy_records_to_table("personas", records=persona_rows(), columns=PERSONA_COLUMNS)
            await connection.copy_records_to_table("sessions", records=sessions, columns=SESSION_COLUMNS)
            batch: list[tuple[object, ...]] = []
            for row in messages:
                batch.append(row)
                if len(batch) == 100_000:
                    await connection.copy_records_to_table("messages", records=batch, columns=MESSAGE_COLUMNS)
                    batch = []
            if batch:
                await connection.copy_records_to_table("messages", records=batch, columns=MESSAGE_COLUMNS)
            await connection.execute(CHAIN_EVERY_SESSION)  # each session's messages a chain
            # The rows came with their ids: the next generated one follows them.
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence('messages', 'id'), (SELECT max(id) FROM messages))"
            )
        # As autovacuum leaves a long-lived database: statistics, and a visibility map.
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def build_postgres(database_url: str, spec: DatasetSpec) -> None:
    """The dataset in an empty PostgreSQL database."""
    migrate(database_url)
    asyncio.run(_load_postgres(database_url, spec))


def ensure_postgres(spec: DatasetSpec, server_url: str = DEFAULT_POSTGRES_URL, *, log: bool = True) -> str:
    """The name of the cached PostgreSQL template database for `spec`, built first when missing.

    Built under another name and renamed at the end: a database with the final name is complete.
    """
    prefix = f"kalito_bench_{spec.sessions}_{spec.messages}_"
    name = prefix + spec.key()
    if asyncio.run(_database_exists(server_url, name)):
        return name
    # The same size, from an older schema or DATASET_VERSION: not worth its disk space.
    for stale in asyncio.run(_databases_like(server_url, prefix)):
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)'))
    building = f"{name}_building"
    started = time.monotonic()
    if log:
        print(f"building the PostgreSQL dataset ({spec.describe()}) as database {name} ...", flush=True)
    asyncio.run(
        _admin(server_url, f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)', f'CREATE DATABASE "{building}"')
    )
    try:
        build_postgres(postgres_url_for(server_url, building), spec)
        asyncio.run(_admin(server_url, f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
    except BaseException:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
        raise
    if log:
        print(f"  built in {time.monotonic() - started:.0f}s", flush=True)
    return name


async def copy_postgres(server_url: str, template: str, name: str) -> None:
    # FILE_COPY: a copy of the files, instead of writing the whole database into the WAL.
    await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY = FILE_COPY')


async def drop_postgres(server_url: str, name: str) -> None:
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description="Build (or find) the benchmark's cached dataset.")
    parser.add_argument("--quick", action="store_true", help=f"the small dataset ({QUICK.describe()})")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args()
    spec = QUICK if args.quick else FULL
    if args.database in ("sqlite", "both"):
        print(ensure_sqlite(spec, args.cache_dir))
    if args.database in ("postgres", "both"):
        print(postgres_url_for(args.postgres_url, ensure_postgres(spec, args.postgres_url)))


if __name__ == "__main__":
    main()
