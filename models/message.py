"""Messages: the conversation history of a session, oldest first.

Appending the first message of an unknown session id creates the transient session (Kalito's
frontend makes the id; the first message makes the row); every message bumps the session's
`updated_at`, in the same transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models import events, memory, message_tree, rules, sql
from models.columns import WRITABLE, Row, Writable, column
from models.errors import InvalidInput, NotFound
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
from models.session_columns import SessionRow

# A page walks the active branch, root first: by depth, which is unique along a branch (a
# message's time need not be: an import keeps the times its file gives).
MESSAGE_ORDER = "ACTIVE_BRANCH"
ROOT_FIRST = Ordering("depth", descending=False)
_SESSION_OF_MESSAGE = (
    'SELECT m."session_id",s."owner_id" FROM "messages" m JOIN "sessions" s ON s."id"=m."session_id" WHERE m."id"=?'
)
# The messages that share a parent: (session id, parent id, None for a first message).
Branch = tuple[str, int | None]
_MESSAGE_COUNTS = 'SELECT "session_id",COUNT(*) FROM "messages" WHERE "session_id" IN ({}){} GROUP BY "session_id"'


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

    parent_id = column(
        fields.BigIntField(null=True),
        rule=rules.check_message_id,
        create=Writable(
            omittable=True,
            description="The message this one follows, of the same session. Omitted: the active leaf; "
            "null: none (a new first message). A parent that has a child already starts a new branch.",
        ),
        key=True,
        description="The message this one follows; null for a first message.",
    )
    # Its place in the tree, kept by models/message_tree.py: the distance from its root, and
    # whether it is on the active branch.
    depth = column(fields.IntField(default=0, db_default=0), exposed=False)
    active = column(fields.BooleanField(default=True, db_default=True), exposed=False)

    class Meta:
        table = "messages"
        indexes = (
            Index(fields=("session_id", "created_at", "id")),
            # The active branch's pages and its leaf; a message's children and siblings.
            Index(fields=("session_id", "active", "depth", "id")),
            Index(fields=("session_id", "parent_id", "created_at", "id")),
        )

    @classmethod
    async def append(cls, owner: Owner, session_id: str, role: MessageRole, text: str, **values: Any) -> MessageRow:
        """Add a message (the other columns of the append input in `values`) to the owner's
        session, creating the session when its id is unknown."""
        parent_given = "parent_id" in values
        columns = MessageRow.check(MessageRow.created({"session_id": session_id, "role": role, "text": text, **values}))
        parent_id = columns.pop("parent_id", None)
        async with events.write_transaction():
            session, created = await Session.upsert(owner, session_id, {})
            if parent_given:
                parent = None if parent_id is None else await _parent(session.id, parent_id)
                await message_tree.make_active(session.id, parent)
            else:
                parent = await message_tree.active_leaf(session.id)
            message = MessageRow.from_model(
                await cls.create(
                    **columns,
                    parent_id=parent.id if parent else None,
                    depth=parent.depth + 1 if parent else 0,
                    active=True,
                    created_at=session.updated_at,
                )
            )
            events.record(SessionEventKind.CREATED if created else SessionEventKind.UPDATED, session)
        return message

    @classmethod
    async def counts_for_sessions(cls, session_ids: Sequence[str], *, active_branch: bool = False) -> list[int]:
        """How many messages each session has (on its active branch only, when asked), in one query."""
        distinct = list(dict.fromkeys(session_ids))
        if not distinct:
            return []
        only = ' AND "active"' if active_branch else ""
        rows = await sql.fetch(_MESSAGE_COUNTS.format(sql.placeholders(len(distinct)), only), distinct)
        counts = {row[0]: int(row[1]) for row in rows}
        return [counts.get(session_id, 0) for session_id in session_ids]

    @classmethod
    async def switch_branch(cls, owner: Owner, message_id: str) -> SessionRow:
        """Make the branch through the owner's message active, down to its newest leaf; the
        session's updatedAt moves (its conversation changed)."""
        wanted = rules.check_message_id("messageId", message_id)
        rows = await sql.fetch(_SESSION_OF_MESSAGE, [wanted])
        if not rows or not owner.owns(rows[0][1]):
            raise NotFound(f"no message with id {message_id!r}")
        session_id = rows[0][0]
        async with events.write_transaction():
            session = await Session.switched(owner, session_id)
            leaf = await message_tree.newest_leaf_below(session_id, wanted)
            await message_tree.make_active(session_id, await message_tree.place_of(session_id, leaf))
            events.record(SessionEventKind.UPDATED, session)
        return session

    @classmethod
    async def active_leaves(cls, session_ids: Sequence[str]) -> list[int | None]:
        """Each session's active leaf (None: no messages), in one statement."""
        return await message_tree.active_leaves(session_ids)

    @classmethod
    async def siblings_for(cls, branches: Sequence[Branch]) -> list[list[MessageRow]]:
        """The messages that share each (session, parent) — a first message's: the session's
        first messages — oldest first, in one statement whatever their number."""
        distinct = list(dict.fromkeys(branches))
        if not distinct:
            return []
        parents = [parent for _, parent in distinct if parent is not None]
        root_sessions = list(dict.fromkeys(session for session, parent in distinct if parent is None))
        parts, params = [], []
        if parents:
            sessions = list(dict.fromkeys(session for session, parent in distinct if parent is not None))
            parts.append(
                f'"session_id" IN ({sql.placeholders(len(sessions))}) '
                f'AND "parent_id" IN ({sql.placeholders(len(parents))})'
            )
            params += [*sessions, *parents]
        if root_sessions:
            parts.append(f'"session_id" IN ({sql.placeholders(len(root_sessions))}) AND "parent_id" IS NULL')
            params += root_sessions
        statement = " UNION ALL ".join(
            f'SELECT {MessageRow.select_list} FROM "messages" WHERE {part}' for part in parts
        )
        grouped: dict[Branch, list[MessageRow]] = {}
        for raw in await sql.fetch(f'{statement} ORDER BY "created_at","id"', params):
            row = MessageRow.from_db(raw)
            grouped.setdefault((row.session_id, row.parent_id), []).append(row)
        return [grouped.get(branch, []) for branch in branches]

    @classmethod
    def listing(cls, session_id: str) -> Listing[MessageRow]:
        """The session's active branch."""
        return Listing(cls, MessageRow, '"session_id"=? AND "active"', (session_id,))

    @classmethod
    async def page_for_session(cls, session_id: str, request: PageRequest) -> Page[MessageRow]:
        return await keyset_page(cls.listing(session_id), MESSAGE_ORDER, ROOT_FIRST, int, request)

    @classmethod
    async def pages_for_sessions(cls, session_ids: Sequence[str], request: PageRequest) -> list[Page[MessageRow]]:
        """The first (or last) N messages of each session's active branch, in one query whatever
        their number.

        A cursor belongs to one session, so a request with a cursor is answered per session;
        the batched case is the common one — "the last 3 messages of every session on a page".
        """
        if request.after is not None or request.before is not None:
            return [await cls.page_for_session(session_id, request) for session_id in session_ids]
        size = page_size(request)
        newest_first = request.last is not None
        direction = "DESC" if newest_first else "ASC"
        rows = await rows_per_session(
            MessageRow,
            "messages",
            f'"depth" {direction},"id" {direction}',
            session_ids,
            limit=size + 1,
            also='"active"',
        )
        pages = []
        for session_id, mine in zip(session_ids, rows, strict=True):
            more = len(mine) > size
            mine = mine[:size]
            if newest_first:
                mine.reverse()
            cursors = [encode_cursor(MESSAGE_ORDER, row.depth, row.id) for row in mine]
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


async def _parent(session_id: str, parent_id: int) -> message_tree.Place:
    parent = await message_tree.place_of(session_id, parent_id)
    if parent is None:
        raise InvalidInput("parentId", f"parentId names no message of session {session_id!r}")
    return parent


class MessageRow(Row, model=Message):
    """A message as read or written, without a model instance."""

    __slots__ = ()
