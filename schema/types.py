"""Output types: strawberry classes mapped from model rows with `from_model()`; their columns'
fields follow from the declarations (schema/columns.py), the fields with resolvers are here."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types import Info

import models
from models import memory
from schema.columns import ColumnFields
from schema.context import ACTIVE_LEAVES, MEMORY_CONTEXTS, MESSAGE_COUNTS, PERSONAS, PINS, SUMMARIES, Context
from schema.memory import MemoryContext, Pin, Summary
from schema.messages import Message
from schema.personas import Persona

NodeT = TypeVar("NodeT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def from_page(cls, page: models.Page[Any]) -> PageInfo:
        return cls(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )


@strawberry.type(description="A row of a connection, with the cursor that points at it.")
class Edge(Generic[NodeT]):  # strawberry names Edge[Session] "SessionEdge"
    cursor: str
    node: NodeT


@strawberry.type(description="A page of a session's messages, oldest first, Relay style.")
class MessageConnection:
    edges: list[Edge[Message]]
    page_info: PageInfo
    _session_id: strawberry.Private[str]

    @strawberry.field(description="How many messages the active branch holds (messageCount: every branch).")
    async def total_count(self, info: Info[Context, None]) -> int:
        return await info.context.active_branch_lengths.load(self._session_id)

    @classmethod
    def from_page(cls, session_id: str, page: models.Page[models.MessageRow]) -> MessageConnection:
        edges = [
            Edge(cursor=cursor, node=Message.from_model(row))
            for row, cursor in zip(page.rows, page.cursors, strict=True)
        ]
        return cls(edges=edges, page_info=PageInfo.from_page(page), _session_id=session_id)


@strawberry.type(description="One conversation with the assistant.")
class Session(ColumnFields[models.SessionRow]):
    @strawberry.field(description="The session's persona, or null when it has none.", metadata=PERSONAS.metadata)
    async def persona(self, info: Info[Context, None]) -> Persona | None:
        return await info.context.load_batched(PERSONAS, self)

    @strawberry.field(
        description="The leaf the conversation continues from; null without messages.", metadata=ACTIVE_LEAVES.metadata
    )
    async def active_message_id(self, info: Info[Context, None]) -> strawberry.ID | None:
        return await info.context.load_batched(ACTIVE_LEAVES, self)

    @strawberry.field(
        description="How many messages the session has, on every branch.", metadata=MESSAGE_COUNTS.metadata
    )
    async def message_count(self, info: Info[Context, None]) -> int:
        count = await info.context.load_batched(MESSAGE_COUNTS, self)
        assert count is not None  # a session's id is never null
        return count

    @strawberry.field(
        description="The session's active branch, root to activeMessageId: first/after from the start, "
        "last/before from the end (the last N messages are the agent's memory context). 1 to 100, default 20."
    )
    async def messages(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> MessageConnection:
        request = models.PageRequest(first=first, after=after, last=last, before=before)
        return MessageConnection.from_page(self.id, await info.context.message_pages.load((self.id, request)))

    @strawberry.field(description="The session's pins, most important first, then newest.", metadata=PINS.metadata)
    async def pins(self, info: Info[Context, None]) -> list[Pin]:
        pins = await info.context.load_batched(PINS, self)
        assert pins is not None  # a session's id is never null
        return pins

    @strawberry.field(description="The session's summaries, newest first.", metadata=SUMMARIES.metadata)
    async def summaries(self, info: Info[Context, None]) -> list[Summary]:
        summaries = await info.context.load_batched(SUMMARIES, self)
        assert summaries is not None
        return summaries

    @strawberry.field(
        description="What the session's agent remembers, for its model's prompt, within maxTokens.",
        metadata=MEMORY_CONTEXTS.metadata,
    )
    async def memory_context(
        self,
        info: Info[Context, None],
        max_tokens: Annotated[
            int | None, strawberry.argument(description="The token budget, 1 to 1,000,000 (null: the default).")
        ] = memory.DEFAULT_MAX_TOKENS,
    ) -> MemoryContext:
        context = await info.context.load_batched(MEMORY_CONTEXTS, self, max_tokens=max_tokens)
        assert context is not None
        return context


@strawberry.type(description="A page of sessions, Relay style, with the size of the whole list.")
class SessionConnection:
    edges: list[Edge[Session]]
    page_info: PageInfo
    _page: strawberry.Private[models.Page[models.SessionRow]]

    @strawberry.field(description="How many sessions the whole filtered list holds.")
    async def total_count(self) -> int:
        return await self._page.count_all()

    @classmethod
    def from_page(cls, page: models.Page[models.SessionRow]) -> SessionConnection:
        edges = [
            Edge(cursor=cursor, node=Session.from_model(row))
            for row, cursor in zip(page.rows, page.cursors, strict=True)
        ]
        return cls(edges=edges, page_info=PageInfo.from_page(page), _page=page)


@strawberry.type(description="Who the request's token says is asking (accounts: api.md §11).")
class Viewer:
    id: strawberry.ID = strawberry.field(description="The token's sub: the user whose sessions these are.")
    is_admin: bool = strawberry.field(description="The token's roles hold admin: every user's sessions are open.")

    @classmethod
    def from_model(cls, viewer: models.Viewer) -> Viewer:
        return cls(id=strawberry.ID(viewer.id), is_admin=viewer.is_admin)


strawberry.enum(models.SessionOrder, description="The order of a sessions list.")
SessionOrder = models.SessionOrder


strawberry.enum(models.SessionEventKind, description="What a write did to a session.")
SessionEventKind = models.SessionEventKind


@strawberry.type(description="A committed change to a session, as subscribers receive it.")
class SessionEvent:
    kind: SessionEventKind
    session_id: strawberry.ID
    session: Session | None = strawberry.field(description="The session as committed; null when DELETED.")

    @classmethod
    def from_model(cls, event: models.SessionEvent) -> SessionEvent:
        return cls(
            kind=event.kind,
            session_id=strawberry.ID(event.session_id),
            session=Session.from_model(event.session) if event.session is not None else None,
        )
