"""Summaries: Kalito's rolling summaries of spans of a session's messages
(`conversation_summaries`), newest first.

Written and read as models/session_memory.py says for pins and summaries alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models import memory, rules, session_memory
from models.columns import WRITABLE, Row, Writable, column
from models.owners import Owner
from models.session import Session

DEFAULT_IMPORTANCE = 0.7  # Kalito's
NEWEST_FIRST = '"created_at" DESC'


def _message_span_end(description: str) -> Any:
    return column(
        fields.BigIntField(null=True), rule=rules.check_message_id, create=WRITABLE, key=True, description=description
    )


class Summary(Model):
    id = fields.CharField(max_length=64, primary_key=True)  # summary_<ms>_<9 base36>, as Kalito's
    session: fields.ForeignKeyRelation[Session] = column(
        fields.ForeignKeyField("models.Session", related_name="summaries", on_delete=fields.CASCADE),
        rule=rules.check_id,
        create=WRITABLE,
    )
    session_id: str
    text = column(
        fields.TextField(), rule=partial(rules.check_text, minimum=1, maximum=rules.MEMORY_TEXT_MAX), create=WRITABLE
    )
    message_count = column(
        fields.IntField(),
        rule=rules.check_non_negative,
        create=WRITABLE,
        description="How many messages the summary sums up.",
    )
    start_message_id = _message_span_end("The first message summed up, a message of the same session.")
    end_message_id = _message_span_end("The last message summed up, a message of the same session.")
    importance = column(
        fields.FloatField(default=DEFAULT_IMPORTANCE),
        rule=rules.check_importance,
        create=Writable(default=DEFAULT_IMPORTANCE),
        description="0 to 1, as Kalito scores it.",
    )
    created_at = fields.DatetimeField()

    class Meta:
        table = "summaries"
        indexes = (Index(fields=("session_id", "created_at")),)  # a session's newest, as Kalito's

    @classmethod
    async def create_summary(cls, owner: Owner, values: Mapping[str, Any]) -> SummaryRow:
        return await session_memory.create(owner, cls, SummaryRow, "summary", values)

    @classmethod
    async def delete_summary(cls, owner: Owner, summary_id: str) -> str:
        return await session_memory.delete(owner, cls, "summary", summary_id)

    @classmethod
    async def for_sessions(cls, session_ids: Sequence[str]) -> list[list[SummaryRow]]:
        """Every summary of each session, newest first."""
        return await session_memory.rows_per_session(SummaryRow, "summaries", NEWEST_FIRST, session_ids)

    @classmethod
    async def candidates_for_sessions(cls, session_ids: Sequence[str]) -> list[list[SummaryRow]]:
        """The memory context's candidates: the 3 newest summaries of each session, in the order
        of models.memory.summary_candidates."""
        return await session_memory.rows_per_session(
            SummaryRow, "summaries", NEWEST_FIRST, session_ids, limit=memory.SUMMARY_COUNT
        )


class SummaryRow(Row, model=Summary):
    """A summary as read or written, without a model instance."""

    __slots__ = ()
