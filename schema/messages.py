"""The Message output type: apart from schema/types.py, because the request context's memory
context loader makes Messages, and types.py reads the context. Its place in the session's tree
(api.md §9) loads in batches, for a whole page of messages at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.types import Info

import models
from schema.batches import Batch
from schema.columns import ColumnFields

# (session id, parent id) as a Message holds them: ids as GraphQL's text; None for a first message.
Branch = tuple[str, str | None]


async def _sibling_rows(branches: Sequence[Branch]) -> list[list[models.MessageRow]]:
    return await models.Message.siblings_for(
        [(session_id, None if parent is None else int(parent)) for session_id, parent in branches]
    )


async def load_siblings(branches: Sequence[Branch]) -> list[list[Message]]:
    return [[Message.from_model(row) for row in rows] for rows in await _sibling_rows(branches)]


async def load_branch_counts(branches: Sequence[Branch]) -> list[int]:
    return [len(rows) for rows in await _sibling_rows(branches)]


async def load_branch_indexes(places: Sequence[tuple[str, str | None, str]]) -> list[int]:
    groups = await _sibling_rows([(session_id, parent) for session_id, parent, _ in places])
    return [
        [str(row.id) for row in rows].index(message_id) for (_, _, message_id), rows in zip(places, groups, strict=True)
    ]


SIBLINGS: Batch[Branch, list[Message]] = Batch("branch", load_siblings)
BRANCH_COUNTS: Batch[Branch, int] = Batch("branch", load_branch_counts)
BRANCH_INDEXES: Batch[tuple[str, str | None, str], int] = Batch("branch_place", load_branch_indexes)


@strawberry.type(description="One message of a conversation.")
class Message(ColumnFields[models.MessageRow]):
    @property
    def branch(self) -> Branch:
        """The messages that share its parent: what its siblings load by."""
        return (self.session_id, self.parent_id)

    @property
    def branch_place(self) -> tuple[str, str | None, str]:
        return (self.session_id, self.parent_id, self.id)

    @strawberry.field(
        description="Its 0-based place among the messages sharing its parent, oldest first.",
        metadata=BRANCH_INDEXES.metadata,
    )
    async def branch_index(self, info: Info[Any, None]) -> int:
        index: int = await info.context.load_batched(BRANCH_INDEXES, self)
        return index

    @strawberry.field(
        description="How many messages share its parent (1: no alternatives).", metadata=BRANCH_COUNTS.metadata
    )
    async def branch_count(self, info: Info[Any, None]) -> int:
        count: int = await info.context.load_batched(BRANCH_COUNTS, self)
        return count

    @strawberry.field(
        description="The messages sharing its parent, itself included, oldest first.", metadata=SIBLINGS.metadata
    )
    async def siblings(self, info: Info[Any, None]) -> list[Message]:
        siblings: list[Message] = await info.context.load_batched(SIBLINGS, self)
        return siblings
