"""The floor: the least a server on this stack can do to answer the benchmark's requests.

A bare Starlette app, one endpoint per workload (`POST /floor/<key>`, bench/workloads.py), that
reads the same JSON body the project gets, runs the same SQL statements the project runs, with
the same driver and connections the project uses (on SQLite, aiosqlite: reads on a connection of
their own, write transactions on another behind a lock, as models/sqlite_backend.py does; on
PostgreSQL, an asyncpg pool of 1 to 5), and writes with orjson byte for byte the JSON the
project answers: no GraphQL, no ORM, no validation, no middleware. The project's speed is
reported as a fraction of this one's.

    uvicorn --factory bench.floor:app_from_env   # BENCH_FLOOR_DATABASE_URL=sqlite://... or postgres://...

The statements are those the project sends (the `tortoise.db_client` logger at DEBUG while each
operation runs once), their column lists and the objects of the answers taken from the models'
column declarations (models/columns.py), as the project takes them: a new column needs nothing
here. `python -m bench.run --check` proves the answers and the statements identical. When the
project changes its SQL otherwise, change this file the same way.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import enum
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import aiosqlite
import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.workloads import APPENDED_FIELDS, CREATED_FIELDS, LISTED_FIELDS, LISTED_PERSONA_FIELDS, SESSION_FIELDS
from models import sql
from models.columns import Column, Row, json_value
from models.message import MessageRow
from models.message_tree import ACTIVE_LEAF
from models.persona import PersonaRow
from models.session_columns import SessionRow

ORDER = "UPDATED_AT_DESC"
ONE_TICK = timedelta(milliseconds=1)
CHANNEL = "kalito_session_events"
HEADERS = {"content-type": "application/json; charset=utf-8"}

# Where a session row's columns are, in the statements' column lists (the declaration order).
_ID, _UPDATED_AT = SessionRow.names.index("id"), SessionRow.names.index("updated_at")
_PERSONA_ID = SessionRow.names.index("persona_id")
# A message's columns but the id the database makes, as Tortoise inserts them.
_MESSAGE_ID = MessageRow.names.index("id")
_PARENT_ID = MessageRow.names.index("parent_id")
_DEPTH = MessageRow.names.index("depth")
_INSERTED_MESSAGE = [index for index, column in enumerate(MessageRow.columns) if not column.field.generated]

# The statements the project runs (placeholders in SQLite's style; $n for PostgreSQL).
_SESSION_COLUMNS = SessionRow.select_list
SQL_SESSION = f'SELECT {_SESSION_COLUMNS} FROM "sessions" WHERE "id"=?'
# What a write reads (through Tortoise's get_or_none) before it changes the row.
SQL_SESSION_TO_WRITE = f'SELECT {_SESSION_COLUMNS} FROM "sessions" WHERE "id"=? LIMIT ?'
SQL_SAVED_PAGE = (
    f'SELECT {_SESSION_COLUMNS} FROM "sessions" WHERE "saved"=? ORDER BY "updated_at" DESC,"id" DESC LIMIT ?'
)
SQL_ALL_FIRST_PAGE = f'SELECT {_SESSION_COLUMNS} FROM "sessions" ORDER BY "updated_at" DESC,"id" DESC LIMIT ?'
SQL_ALL_BEFORE_EXISTS = 'SELECT 1 FROM "sessions" WHERE ("updated_at","id")>=(?,?) LIMIT 1'
# As the project asks it: whether anything comes before the cursor is a last column of the page.
SQL_ALL_PAGE_AFTER = (
    f'SELECT {_SESSION_COLUMNS},({SQL_ALL_BEFORE_EXISTS}) FROM "sessions" WHERE ("updated_at","id")<(?,?) '
    'ORDER BY "updated_at" DESC,"id" DESC LIMIT ?'
)
SQL_MESSAGE_COUNTS = 'SELECT "session_id",COUNT(*) FROM "messages" WHERE "session_id" IN ({}) GROUP BY "session_id"'
SQL_PERSONAS = f'SELECT {PersonaRow.select_list} FROM "personas" WHERE "id" IN ({{}}) ORDER BY "name" ASC,"id" ASC'
SQL_PERSONA_EXISTS = 'SELECT 1 FROM "personas" WHERE "id"=? LIMIT ?'
SQL_SESSION_EXISTS = 'SELECT 1 FROM "sessions" WHERE "id"=? LIMIT ?'
SQL_INSERT_SESSION = f'INSERT INTO "sessions" ({_SESSION_COLUMNS}) VALUES ({sql.placeholders(len(SessionRow.names))})'
SQL_BUMP_SESSION = 'UPDATE "sessions" SET "updated_at"=? WHERE "id"=? AND "updated_at"=?'
SQL_INSERT_MESSAGE = (
    f'INSERT INTO "messages" ({sql.column_list([MessageRow.columns[index].sql_name for index in _INSERTED_MESSAGE])}) '
    f"VALUES ({sql.placeholders(len(_INSERTED_MESSAGE))})"
)
SQL_NOTIFY = (
    "SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS t(payload, position) ORDER BY position"
)


def dollar_placeholders(sql: str) -> str:
    """SQLite's `?` placeholders as PostgreSQL's `$1, $2, ...` (the statements hold no literal `?`)."""
    parts = sql.split("?")
    return "".join(part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, 1))


def in_list(sql: str, count: int) -> str:
    return sql.format(",".join("?" * count))


def encode_cursor(value: str, row_id: str) -> str:
    """models/pagination.py's encoding: base64url, unpadded, of [order, value, id] as compact JSON."""
    return base64.urlsafe_b64encode(orjson.dumps([ORDER, value, row_id])).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    _, value, row_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return datetime.fromisoformat(value).astimezone(UTC), row_id


def now() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def api_moment(moment: datetime) -> str:
    """The DateTime scalar: UTC, milliseconds, Z."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def answer(data: dict[str, Any]) -> Response:
    return Response(orjson.dumps({"data": data}), headers=HEADERS)


class Rows:
    """How one driver's values become the API's: SQLite holds timestamps as text (Tortoise
    stores `isoformat(" ")`, always in UTC here), PostgreSQL hands back datetimes."""

    @staticmethod
    def moment_param(moment: datetime) -> Any:
        return moment

    @staticmethod
    def api_time(value: Any) -> str:
        return api_moment(value)

    @staticmethod
    def cursor_time(value: Any) -> str:
        return str(value.isoformat())


class SqliteRows(Rows):
    @staticmethod
    def moment_param(moment: datetime) -> Any:
        return moment.isoformat(" ")

    @staticmethod
    def api_time(value: Any) -> str:
        # "2025-01-01 00:01:07.501000+00:00", or without the fraction on a whole second
        fraction = value[20:23] if value[19] == "." else "000"
        return f"{value[:10]}T{value[11:19]}.{fraction}Z"

    @staticmethod
    def cursor_time(value: Any) -> str:
        return f"{value[:10]}T{value[11:]}"


class Database:
    """The statements, on one driver. `fetch` runs one; `transaction` runs a block of them."""

    rows: type[Rows] = Rows
    notifies = False  # session events go out as NOTIFY inside the write's transaction

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        raise NotImplementedError


class Transaction:
    async def fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    async def execute(self, sql: str, params: Sequence[Any]) -> None:
        raise NotImplementedError

    async def insert_message(self, params: Sequence[Any]) -> int:
        raise NotImplementedError

    async def create_session_savepoint(self, params: Sequence[Any]) -> None:
        raise NotImplementedError

    async def notify(self, payloads: list[str]) -> None:
        raise NotImplementedError


class SqliteDatabase(Database):
    """What models/sqlite_backend.py does: one aiosqlite connection for write transactions,
    which begin IMMEDIATE, behind a lock; reads outside them on a second, `query_only`
    connection without one."""

    rows = SqliteRows

    def __init__(self, path: str, pragmas: dict[str, Any]) -> None:
        self.path = path
        self.pragmas = pragmas
        self.lock = asyncio.Lock()
        self.connection: aiosqlite.Connection | None = None
        self.reader: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self.connection = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma, value in self.pragmas.items():
            await self.connection.execute(f"PRAGMA {pragma}={value}")
        self.reader = await aiosqlite.connect(self.path, isolation_level=None)
        await self.reader.execute("PRAGMA query_only=ON")
        await self.reader.execute(f"PRAGMA busy_timeout={self.pragmas['busy_timeout']}")

    async def close(self) -> None:
        for connection in (self.reader, self.connection):
            if connection is not None:
                await connection.close()

    async def fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        assert self.reader is not None
        return cast(Sequence[Sequence[Any]], await self.reader.execute_fetchall(sql, params))

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        assert self.connection is not None
        async with self.lock:
            await self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTransaction(self.connection)
            except BaseException:
                await self.connection.rollback()
                raise
            await self.connection.commit()


class SqliteTransaction(Transaction):
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    async def fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        return cast(Sequence[Sequence[Any]], await self.connection.execute_fetchall(sql, params))

    async def execute(self, sql: str, params: Sequence[Any]) -> None:
        await self.connection.execute(sql, params)

    async def insert_message(self, params: Sequence[Any]) -> int:
        row = await self.connection.execute_insert(SQL_INSERT_MESSAGE, params)
        assert row is not None
        return int(row[0])

    async def create_session_savepoint(self, params: Sequence[Any]) -> None:
        await self.connection.execute("SAVEPOINT floor_create")
        await self.connection.execute(SQL_INSERT_SESSION, params)
        await self.connection.execute("RELEASE floor_create")


# The PostgreSQL statements, converted once.
PG = {sql: dollar_placeholders(sql) for sql in (
    SQL_SESSION, SQL_SESSION_TO_WRITE, SQL_SAVED_PAGE, SQL_ALL_FIRST_PAGE, SQL_ALL_PAGE_AFTER, SQL_ALL_BEFORE_EXISTS,
    SQL_PERSONA_EXISTS,
    SQL_SESSION_EXISTS, SQL_INSERT_SESSION, SQL_BUMP_SESSION, ACTIVE_LEAF,
)}  # fmt: skip
PG_INSERT_MESSAGE = dollar_placeholders(SQL_INSERT_MESSAGE) + ' RETURNING "id"'


def _pg(sql: str) -> str:
    converted = PG.get(sql)
    if converted is None:  # the IN (...) lists, one per length
        converted = PG[sql] = dollar_placeholders(sql)
    return converted


class PostgresDatabase(Database):
    """An asyncpg pool of 1 to 5 connections, Tortoise's default."""

    notifies = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(self.url, min_size=1, max_size=5)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        assert self.pool is not None
        return cast(Sequence[Sequence[Any]], await self.pool.fetch(_pg(sql), *params))

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        assert self.pool is not None
        async with self.pool.acquire() as connection, connection.transaction():
            yield PostgresTransaction(connection)


class PostgresTransaction(Transaction):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        return cast(Sequence[Sequence[Any]], await self.connection.fetch(_pg(sql), *params))

    async def execute(self, sql: str, params: Sequence[Any]) -> None:
        await self.connection.execute(_pg(sql), *params)

    async def insert_message(self, params: Sequence[Any]) -> int:
        return int(await self.connection.fetchval(PG_INSERT_MESSAGE, *params))

    async def create_session_savepoint(self, params: Sequence[Any]) -> None:
        async with self.connection.transaction():
            await self.connection.execute(_pg(SQL_INSERT_SESSION), *params)

    async def notify(self, payloads: list[str]) -> None:
        await self.connection.execute(SQL_NOTIFY, CHANNEL, payloads)


def open_database(url: str) -> Database:
    """The project's connection settings for this URL (models/database.py's tortoise_config)."""
    if url.startswith("sqlite://"):
        pragmas = {"journal_mode": "WAL", "journal_size_limit": 16384, "foreign_keys": "ON"}
        pragmas.update(synchronous="FULL", busy_timeout=10_000)
        return SqliteDatabase(url.removeprefix("sqlite://"), pragmas)
    return PostgresDatabase(url.replace("postgres://", "postgresql://", 1))


def node_of(row: type[Row], fields: str, rows: type[Rows]) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """How the API writes the object of a row (its values in declaration order, as this driver
    gives them) for the fields a workload asks: a function made once, as fast as the dictionary
    written out by hand would be, for a floor that does the least."""
    by_name = {column.graphql_name: (index, column) for index, column in enumerate(row.columns)}
    namespace: dict[str, Any] = {}
    entries = []
    for name in fields.split():
        index, column = by_name[name]
        convert = api_value(column, rows)
        value = f"row[{index}]"
        if convert is not None:
            namespace[f"convert_{index}"] = convert
            converted = f"convert_{index}({value})"
            value = f"(None if {value} is None else {converted})" if column.nullable else converted
        entries.append(f"{name!r}: {value}")
    node: Callable[[Sequence[Any]], dict[str, Any]] = eval(f"lambda row: {{{', '.join(entries)}}}", namespace)
    return node


def api_value(column: Column, rows: type[Rows]) -> Callable[[Any], Any] | None:
    """How the API writes a stored value of the column (None: as it is)."""
    value_type = column.value_type
    if value_type is datetime:
        return rows.api_time
    if value_type is bool:
        return bool  # SQLite holds 0 and 1
    if isinstance(value_type, enum.EnumMeta):
        return lambda value: value_type(value).name
    if column.is_key and value_type is not str:
        return str  # an ID is text
    if column.is_json:
        return orjson.loads  # stored as text (jsonb: asyncpg hands it over as text)
    return None


def new_row(row: type[Row], given: dict[str, Any], moment: datetime) -> list[Any]:
    """A new row's values as the project writes it: each column the input gives (GraphQL names),
    the computed ones computed (a message's importance), the others their defaults, and its
    moments `moment`."""
    values = {}
    for column in row.columns:
        value = given.get(column.graphql_name) if column.writable("create") else None
        if value is not None and isinstance(column.value_type, enum.EnumMeta):
            value = column.value_type[value]  # an enum's GraphQL name
        values[column.name] = value
    values = row.created(values)
    new = []
    for column in row.columns:
        value = values.get(column.name)
        if column.name in ("created_at", "updated_at"):
            value = moment
        elif value is None:
            value = column.default
        elif isinstance(value, enum.Enum):
            value = value.value  # stored as its value
        new.append(value)
    return new


class Floor:
    def __init__(self, database: Database) -> None:
        self.db = database
        self.rows = rows = database.rows
        self.session_node = node_of(SessionRow, SESSION_FIELDS, rows)
        self.listed_node = node_of(SessionRow, LISTED_FIELDS, rows)
        self.persona_node = node_of(PersonaRow, LISTED_PERSONA_FIELDS, rows)
        self.created_node = node_of(SessionRow, CREATED_FIELDS, rows)
        self.appended_node = node_of(MessageRow, APPENDED_FIELDS, rows)

    def stored(self, values: Sequence[Any]) -> list[Any]:
        moment_param = self.rows.moment_param
        return [
            moment_param(value)
            if isinstance(value, datetime)
            else orjson.dumps(value).decode()
            if isinstance(value, (list, dict))
            else value
            for value in values
        ]

    # --- reads ---------------------------------------------------------------------------

    async def session(self, variables: dict[str, Any]) -> Response:
        rows = await self.db.fetch(SQL_SESSION, [variables["id"]])
        return answer({"session": self.session_node(rows[0]) if rows else None})

    async def sessions(self, variables: dict[str, Any]) -> Response:
        rows = await self.db.fetch(SQL_SAVED_PAGE, [True, 51])
        cursor_time, node = self.rows.cursor_time, self.session_node
        edges = [
            {"cursor": encode_cursor(cursor_time(row[_UPDATED_AT]), row[_ID]), "node": node(row)} for row in rows[:50]
        ]
        return answer({"sessions": {"edges": edges, "pageInfo": page_info(edges, len(rows) > 50)}})

    async def sessions_rich(self, variables: dict[str, Any]) -> Response:
        fetched = await self.db.fetch(SQL_SAVED_PAGE, [True, 51])
        rows = fetched[:50]
        session_ids = [row[_ID] for row in rows]
        counts: dict[str, int] = {}
        if session_ids:
            distinct = list(dict.fromkeys(session_ids))
            counts = {
                row[0]: row[1] for row in await self.db.fetch(in_list(SQL_MESSAGE_COUNTS, len(distinct)), distinct)
            }
        persona_ids = list(dict.fromkeys(row[_PERSONA_ID] for row in rows if row[_PERSONA_ID] is not None))
        personas: dict[str, dict[str, Any]] = {}
        if persona_ids:
            for persona in await self.db.fetch(in_list(SQL_PERSONAS, len(persona_ids)), persona_ids):
                personas[persona[0]] = self.persona_node(persona)
        cursor_time, node = self.rows.cursor_time, self.listed_node
        edges = [
            {
                "cursor": encode_cursor(cursor_time(row[_UPDATED_AT]), row[_ID]),
                "node": {
                    **node(row),
                    "messageCount": counts.get(row[_ID], 0),
                    "persona": personas.get(row[_PERSONA_ID]) if row[_PERSONA_ID] is not None else None,
                },
            }
            for row in rows
        ]
        return answer({"sessions": {"edges": edges, "pageInfo": page_info(edges, len(fetched) > 50)}})

    async def page(self, variables: dict[str, Any]) -> Response:
        after = variables.get("after")
        size = 20
        if after is None:
            rows = await self.db.fetch(SQL_ALL_FIRST_PAGE, [size + 1])
            has_previous = False
        else:
            moment, row_id = decode_cursor(after)
            value = self.rows.moment_param(moment)
            rows = await self.db.fetch(SQL_ALL_PAGE_AFTER, [value, row_id, value, row_id, size + 1])
            if rows:
                has_previous = rows[0][-1] is not None
            else:
                has_previous = bool(await self.db.fetch(SQL_ALL_BEFORE_EXISTS, [value, row_id]))
        cursor_time, node = self.rows.cursor_time, self.listed_node
        edges = [
            {"cursor": encode_cursor(cursor_time(row[_UPDATED_AT]), row[_ID]), "node": node(row)} for row in rows[:size]
        ]
        info = {
            "hasNextPage": len(rows) > size,
            "hasPreviousPage": has_previous,
            "endCursor": edges[-1]["cursor"] if edges else None,
        }
        return answer({"sessions": {"edges": edges, "pageInfo": info}})

    # --- writes --------------------------------------------------------------------------

    async def create_session(self, variables: dict[str, Any]) -> Response:
        given = variables["input"]
        persona_id = given.get("personaId")
        if persona_id is not None and not await self.db.fetch(SQL_PERSONA_EXISTS, [persona_id, 1]):
            return refusal(f"personaId names no persona: {persona_id!r}", "BAD_USER_INPUT")
        session = new_row(SessionRow, given, now())
        stored = self.stored(session)
        async with self.db.transaction() as transaction:
            await transaction.execute(SQL_INSERT_SESSION, stored)
            if self.db.notifies:
                await transaction.notify([event_payload("CREATED", session)])
        return answer({"createSession": self.created_node(stored)})

    async def append_message(self, variables: dict[str, Any]) -> Response:
        given = variables["input"]
        session_id = given["sessionId"]
        moment_param = self.rows.moment_param
        async with self.db.transaction() as transaction:
            if await transaction.fetch(SQL_SESSION_EXISTS, [session_id, 1]):
                session = list((await transaction.fetch(SQL_SESSION_TO_WRITE, [session_id, 2]))[0])
                previous = session[_UPDATED_AT]
                previous_moment = previous if isinstance(previous, datetime) else datetime.fromisoformat(previous)
                moment = max(now(), previous_moment + ONE_TICK)
                await transaction.execute(SQL_BUMP_SESSION, [moment_param(moment), session_id, previous])
                session[_UPDATED_AT] = moment
                kind = "UPDATED"
            else:
                moment = now()
                session = new_row(SessionRow, {"id": session_id}, moment)
                await transaction.create_session_savepoint(self.stored(session))
                kind = "CREATED"
            message = self.stored(new_row(MessageRow, given, moment))
            leaf = await transaction.fetch(ACTIVE_LEAF, [session_id])  # the parent: the active leaf
            if leaf:
                message[_PARENT_ID], message[_DEPTH] = int(leaf[0][0]), int(leaf[0][1]) + 1
            message[_MESSAGE_ID] = await transaction.insert_message([message[index] for index in _INSERTED_MESSAGE])
            if self.db.notifies:
                await transaction.notify([event_payload(kind, session)])
        return answer({"appendMessage": self.appended_node(message)})


def page_info(edges: list[dict[str, Any]], has_next: bool) -> dict[str, Any]:
    return {"hasNextPage": has_next, "endCursor": edges[-1]["cursor"] if edges else None}


def refusal(message: str, code: str) -> Response:
    return Response(orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}), headers=HEADERS)


def event_payload(kind: str, session: Sequence[Any]) -> str:
    """The NOTIFY payload of models/events.py: the session row's own mapping, as this write
    committed it (its values in declaration order)."""
    row = {
        column.name: json_value(orjson.loads(value) if column.is_json and isinstance(value, str) else value)
        for column, value in zip(SessionRow.columns, session, strict=True)
    }
    return orjson.dumps({"kind": kind, "sessionId": session[_ID], "session": row}).decode()


def create_app(database_url: str) -> Starlette:
    database = open_database(database_url)
    floor = Floor(database)

    def endpoint(handler: Callable[[dict[str, Any]], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            body = orjson.loads(await request.body())
            return await handler(body.get("variables") or {})

        return run

    async def healthz(request: Request) -> Response:
        return Response(b"ok")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await database.open()
        try:
            yield
        finally:
            await database.close()

    handlers = {
        "session": floor.session,
        "sessions": floor.sessions,
        "sessions-rich": floor.sessions_rich,
        "page": floor.page,
        "create-session": floor.create_session,
        "append-message": floor.append_message,
    }
    routes = [Route(f"/floor/{key}", endpoint(handler), methods=["POST"]) for key, handler in handlers.items()]
    routes.append(Route("/healthz", healthz, methods=["GET"]))
    return Starlette(routes=routes, lifespan=lifespan)


def app_from_env() -> Starlette:
    return create_app(os.environ["BENCH_FLOOR_DATABASE_URL"])
