"""What a session remembers beside its messages — its pins and its summaries (api.md §8) —
written and read alike, whichever of the two:

- a write names its session: one that does not exist is BAD_USER_INPUT naming `sessionId` (a
  reference in an input, as a `personaId` that names no persona is; no session is created);
- the messages it names (a pin's source, a summary's span) must be messages of that session;
- it publishes UPDATED for the session, with the session as it is: `updated_at` does not move
  (Kalito's does not: pinning a fact or summing up is not activity in the conversation);
- the reads answer the rows of a whole page of sessions in one statement, each session's in the
  order of its kind, ids compared by code point on both databases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from tortoise.models import Model

from models import clock, events, pagination, rules, sql
from models.columns import Row
from models.errors import InvalidInput, NotFound
from models.events import SessionEventKind
from models.message import Message
from models.owners import Owner
from models.session_columns import SessionRow, session_by_id

R = TypeVar("R", bound=Row)


def _by_code_point(column: str) -> str:
    """A text column ordered by code point: SQLite's default (BINARY); PostgreSQL's collation
    is the database's locale unless told (which may order `_`, `-` and `.` otherwise)."""
    return f'"{column}"' if sql.on_sqlite() else f'"{column}" COLLATE "C"'


def _message_references(row: type[Row]) -> list[str]:
    """The columns that hold a message's id (declared `key=True`, with no foreign key)."""
    return [column.name for column in row.columns if column.api.key]


async def _locked_session(owner: Owner, session_id: str) -> SessionRow | None:
    """The owner's session the write is about (None when there is none), on PostgreSQL locked against
    deletion until the write commits (FOR KEY SHARE: other writes to the session go on). Taken
    before the row is written, so that a concurrent deleteSession waits for this write or this
    write for it (in the other order, the two would wait for each other)."""
    statement, params = session_by_id(owner, session_id)
    rows = await sql.fetch(statement if sql.on_sqlite() else f"{statement} FOR KEY SHARE", params)
    return SessionRow.from_db(rows[0]) if rows else None


async def create(owner: Owner, model: type[Model], row: type[R], kind: str, values: Mapping[str, Any]) -> R:
    """A new row of `model` (its create input's columns in `values`) in one of the owner's
    sessions (another user's is no session), with a generated id shaped as Kalito's
    (`<kind>_<ms>_<9 base36>`)."""
    columns = row.check(row.created(values))
    moment = clock.now()
    async with events.write_transaction():
        session = await _locked_session(owner, columns["session_id"])
        if session is None:
            raise InvalidInput("sessionId", f"sessionId names no session: {columns['session_id']!r}")
        for name in _message_references(row):
            message_id = columns.get(name)
            if message_id is not None and not await Message.exists(id=message_id, session_id=session.id):
                field = row.by_name[name].graphql_name
                raise InvalidInput(field, f"{field} names no message of session {session.id!r}: {message_id}")
        created = await model.create(id=rules.kalito_style_id(kind, moment), **columns, created_at=moment)
        events.record(SessionEventKind.UPDATED, session)
    return row.from_model(created)


async def delete(owner: Owner, model: type[Model], kind: str, row_id: str) -> str:
    """Delete the row of `model` with this id; an unknown id, or one of another user's
    session, is NotFound."""
    rules.check_id("id", row_id)
    async with events.write_transaction():
        found = await model.filter(id=row_id).values("session_id")
        session = await _locked_session(owner, found[0]["session_id"]) if found else None
        # Counted: of two concurrent deletes of one row (or of it and its session's), the second
        # deletes nothing.
        if session is None or not await model.filter(id=row_id).delete():
            raise NotFound(f"no {kind} with id {row_id!r}")
        events.record(SessionEventKind.UPDATED, session)
    return row_id


async def rows_per_session(
    row: type[R], table: str, order: str, session_ids: Sequence[str], limit: int | None = None
) -> list[list[R]]:
    """The rows of each session, in `order` (an ORDER BY list, to which the id, by code point,
    is added as the last tie-break), the first `limit` of each when given; in one statement."""
    return await pagination.rows_per_session(
        row, table, f"{order},{_by_code_point('id')} DESC", session_ids, limit=limit
    )
