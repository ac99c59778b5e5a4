"""The output types of what a session remembers (Pin, Summary, MemoryContext): apart from
schema/types.py, because the request context's loaders make them, and types.py reads the context."""

from __future__ import annotations

import strawberry

import models
from models.memory_reads import MemoryContextRow
from schema.columns import ColumnFields
from schema.messages import Message


@strawberry.type(description="A fact pinned from a conversation, for its agent to remember.")
class Pin(ColumnFields[models.PinRow]):
    pass


@strawberry.type(description="A summary of a span of a session's messages.")
class Summary(ColumnFields[models.SummaryRow]):
    pass


@strawberry.type(
    description="What an agent puts in its model's prompt: recent messages, pins and summaries, held to a "
    "token budget (each item costs ceil(characters / 4) tokens)."
)
class MemoryContext:
    recent_messages: list[Message] = strawberry.field(
        description="The newest messages that fit (at most 8), oldest first, with no gap."
    )
    pins: list[Pin] = strawberry.field(
        description="Of the 5 most important pins, those that fit; most important first."
    )
    summaries: list[Summary] = strawberry.field(description="Of the 3 newest summaries, those that fit; newest first.")
    total_tokens: int = strawberry.field(
        description="The estimate the budget was held to: the sum of the items' costs."
    )

    @classmethod
    def from_model(cls, context: MemoryContextRow) -> MemoryContext:
        return cls(
            recent_messages=[Message.from_model(row) for row in context.recent_messages],
            pins=[Pin.from_model(row) for row in context.pins],
            summaries=[Summary.from_model(row) for row in context.summaries],
            total_tokens=context.total_tokens,
        )
