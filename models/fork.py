"""forkSession (api.md §9): a new ephemeral session of the caller's holding copies of one path of
another of theirs — root..atMessageId, by default the active branch — and of the pins and
summaries that fall inside it: a pin pinned from a message of the path, a summary whose first and
last messages are on it (one that names no message goes along too). The source is untouched.
"""

from __future__ import annotations

from typing import Any

from models import clock, events, message_tree, rules, sql
from models.columns import Row
from models.errors import InvalidInput, NotFound
from models.message import Message, MessageRow
from models.owners import Owner
from models.pin import Pin, PinRow
from models.session import Session
from models.session_columns import SessionRow
from models.summary import Summary, SummaryRow

# A fork takes the conversation's settings, not its state: no recap (it sums up the whole source).
_COPIED = ("model", "persona_id", "metadata")
_MESSAGES_BY_ID = f'SELECT {MessageRow.select_list} FROM "messages" WHERE "id" IN ({{}}) ORDER BY "depth"'


async def fork_session(
    owner: Owner, session_id: str, at_message_id: str | None, fork_id: str | None, name: str | None
) -> SessionRow:
    rules.check_id("sessionId", session_id)
    at = None if at_message_id is None else rules.check_message_id("atMessageId", at_message_id)
    source = await Session.by_id(owner, session_id)
    if source is None:
        raise NotFound(f"no session with id {session_id!r}")
    copied: dict[str, Any] = {column: getattr(source, column) for column in _COPIED}
    async with events.write_transaction():
        path = await _path(session_id, at)
        fork = await Session.create_session(owner, fork_id, name=source.name if name is None else name, **copied)
        new_ids = await _copy_messages(fork.id, await _messages(path))
        pins, summaries = (await Pin.for_sessions([session_id]))[0], (await Summary.for_sessions([session_id]))[0]
        await _copy_rows(Pin, PinRow, "pin", fork.id, pins, new_ids)
        await _copy_rows(Summary, SummaryRow, "summary", fork.id, summaries, new_ids)
    return fork


async def _path(session_id: str, at: int | None) -> list[int]:
    if at is None:
        leaf = await message_tree.active_leaf(session_id)
        return [] if leaf is None else await message_tree.path_to(session_id, leaf.id)
    path = await message_tree.path_to(session_id, at)
    if not path:
        raise InvalidInput("atMessageId", f"atMessageId names no message of session {session_id!r}: {at}")
    return path


async def _messages(path: list[int]) -> list[MessageRow]:
    rows: list[MessageRow] = []
    for start in range(0, len(path), message_tree.CHUNK):
        chunk = path[start : start + message_tree.CHUNK]
        rows += [
            MessageRow.from_db(raw)
            for raw in await sql.fetch(_MESSAGES_BY_ID.format(sql.placeholders(len(chunk))), chunk)
        ]
    return rows


async def _copy_messages(fork_id: str, path: list[MessageRow]) -> dict[int, int]:
    """Copies of the path's messages, each below the copy of its parent, all active; answers
    each source message's id -> its copy's."""
    copies: dict[int, int] = {}
    parent: int | None = None
    for row in path:
        values = {
            name: getattr(row, name) for name in MessageRow.names if name not in ("id", "session_id", "parent_id")
        }
        copy = await Message.create(**{**values, "active": True}, session_id=fork_id, parent_id=parent)
        copies[row.id] = parent = copy.id
    return copies


async def _copy_rows(
    model: type[Pin] | type[Summary],
    row_type: type[Row],
    kind: str,
    fork_id: str,
    rows: list[Any],
    copies: dict[int, int],
) -> None:
    """Copies of the pins (or summaries) whose messages are all on the path, each reference the
    copy of its message."""
    references = [column.name for column in row_type.columns if column.api.key]
    for row in rows:
        named = [getattr(row, reference) for reference in references]
        if any(message is not None and message not in copies for message in named):
            continue
        values = {name: getattr(row, name) for name in row_type.names if name not in ("id", "session_id")}
        values.update({reference: copies.get(getattr(row, reference)) for reference in references})
        await model.create(id=rules.kalito_style_id(kind, clock.now()), session_id=fork_id, **values)
