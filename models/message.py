"""Messages: the conversation history of a session, oldest first.

Appending the first message of an unknown session id creates the transient session (Kalito's
frontend makes the id; the first message makes the row); every message bumps the session's
`updated_at`, in the same transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models import events, memory, rules, sql
from models.columns import WRITABLE, Row, Writable, column
from models.events import SessionEventKind
from models.owners import Owner
from models.pagination import (
    Listing,
    Ordering,
    Page,
    PageRequest,
    encode_cursor,
    keyset_page,
    page_size,
    rows_per_session,
)
from models.session import Session

MESSAGE_ORDER = "OLDEST_FIRST"
OLDEST_FIRST = Ordering("created_at", descending=False)
_MESSAGE_COUNTS = 'SELECT "session_id",COUNT(*) FROM "messages" WHERE "session_id" IN ({}) GROUP BY "session_id"'


class MessageRole(enum.Enum):
    """Who wrote a message."""  # also the GraphQL enum's description

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


def _check_text(field: str, text: str, *, role: MessageRole | None) -> str:
    """§8 amends §4: an assistant's reply may be empty (a model that answered nothing)."""
    return rules.check_message_text(field, text, may_be_empty=role is MessageRole.ASSISTANT)


def _importance(values: Mapping[str, Any]) -> float:
    """Kalito's heuristic, for a message whose client gave no importance."""
    return memory.message_importance(values["text"], from_assistant=values["role"] is MessageRole.ASSISTANT)


class Message(Model):
    id = fields.BigIntField(primary_key=True)  # Kalito's message ids are integers; imports keep them
    session: fields.ForeignKeyRelation[Session] = column(
        fields.ForeignKeyField("models.Session", related_name="messages", on_delete=fields.CASCADE),
        rule=rules.check_id,
        create=WRITABLE,
    )
    session_id: str
    role = column(fields.CharEnumField(MessageRole, max_length=16), create=WRITABLE)
    text = column(fields.TextField(), rule=_check_text, reads=("role",), create=WRITABLE)
    model = column(fields.CharField(max_length=rules.MODEL_MAX, null=True), rule=rules.check_model, create=WRITABLE)
    token_usage = column(fields.IntField(null=True), rule=rules.check_non_negative, create=WRITABLE)
    created_at = fields.DatetimeField()
    # Kalito's column default, which the rows already there get; the API computes it when omitted.
    importance = column(
        fields.FloatField(default=0.5, db_default=0.5),
        rule=rules.check_importance,
        create=Writable(description="0 to 1; computed with Kalito's heuristic when omitted or null."),
        computed=_importance,
        description="How much the message matters, 0 to 1.",
    )

    class Meta:
        table = "messages"
        indexes = (Index(fields=("session_id", "created_at", "id")),)

    @classmethod
    async def append(cls, owner: Owner, session_id: str, role: MessageRole, text: str, **values: Any) -> MessageRow:
        """Add a message (the other columns of the append input in `values`) to the owner's
        session, creating the session when its id is unknown."""
        columns = MessageRow.check(MessageRow.created({"session_id": session_id, "role": role, "text": text, **values}))
        async with events.write_transaction():
            session, created = await Session.upsert(owner, session_id, {})
            message = MessageRow.from_model(await cls.create(**columns, created_at=session.updated_at))
            events.record(SessionEventKind.CREATED if created else SessionEventKind.UPDATED, session)
        return message

    @classmethod
    async def counts_for_sessions(cls, session_ids: Sequence[str]) -> list[int]:
        """How many messages each session has, in one query."""
        distinct = list(dict.fromkeys(session_ids))
        if not distinct:
            return []
        rows = await sql.fetch(_MESSAGE_COUNTS.format(sql.placeholders(len(distinct))), distinct)
        counts = {row[0]: int(row[1]) for row in rows}
        return [counts.get(session_id, 0) for session_id in session_ids]

    @classmethod
    def listing(cls, session_id: str) -> Listing[MessageRow]:
        return Listing(cls, MessageRow, '"session_id"=?', (session_id,))

    @classmethod
    async def page_for_session(cls, session_id: str, request: PageRequest) -> Page[MessageRow]:
        return await keyset_page(cls.listing(session_id), MESSAGE_ORDER, OLDEST_FIRST, datetime, request)

    @classmethod
    async def pages_for_sessions(cls, session_ids: Sequence[str], request: PageRequest) -> list[Page[MessageRow]]:
        """The first (or last) N messages of each session, in one query whatever their number.

        A cursor belongs to one session, so a request with a cursor is answered per session;
        the batched case is the common one — "the last 3 messages of every session on a page".
        """
        if request.after is not None or request.before is not None:
            return [await cls.page_for_session(session_id, request) for session_id in session_ids]
        size = page_size(request)
        newest_first = request.last is not None
        direction = "DESC" if newest_first else "ASC"
        rows = await rows_per_session(
            MessageRow, "messages", f'"created_at" {direction},"id" {direction}', session_ids, limit=size + 1
        )
        pages = []
        for session_id, mine in zip(session_ids, rows, strict=True):
            more = len(mine) > size
            mine = mine[:size]
            if newest_first:
                mine.reverse()
            cursors = [encode_cursor(MESSAGE_ORDER, row.created_at, row.id) for row in mine]
            pages.append(
                Page(
                    mine,
                    cursors,
                    has_next_page=more and not newest_first,
                    has_previous_page=more and newest_first,
                    count_all=cls.listing(session_id).count_all,
                )
            )
        return pages


class MessageRow(Row, model=Message):
    """A message as read or written, without a model instance."""

    __slots__ = ()
