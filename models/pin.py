"""Pins: facts pinned from a conversation (Kalito's `semantic_pins`), most important first.

Written and read as models/session_memory.py says for pins and summaries alike.
"""

from __future__ import annotations

import enum
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

DEFAULT_IMPORTANCE = 0.8  # Kalito's
# Most important first, then newest (the order of the memory context's pins, api.md §8).
MOST_IMPORTANT_FIRST = '"importance" DESC,"created_at" DESC'


class PinType(enum.Enum):
    """What kind of fact a pin holds."""  # also the GraphQL enum's description

    MANUAL = "manual"
    AUTO = "auto"
    CODE = "code"
    CONCEPT = "concept"
    SYSTEM = "system"


class Pin(Model):
    id = fields.CharField(max_length=64, primary_key=True)  # pin_<ms>_<9 base36>, as Kalito's
    session: fields.ForeignKeyRelation[Session] = column(
        fields.ForeignKeyField("models.Session", related_name="pins", on_delete=fields.CASCADE),
        rule=rules.check_id,
        create=WRITABLE,
    )
    session_id: str
    content = column(
        fields.TextField(), rule=partial(rules.check_text, minimum=1, maximum=rules.MEMORY_TEXT_MAX), create=WRITABLE
    )
    source_message_id = column(
        fields.BigIntField(null=True),
        rule=rules.check_message_id,
        create=WRITABLE,
        key=True,
        description="The message the fact was pinned from, a message of the same session.",
    )
    importance = column(
        fields.FloatField(default=DEFAULT_IMPORTANCE),
        rule=rules.check_importance,
        create=Writable(default=DEFAULT_IMPORTANCE),
        description="0 to 1: the memory context keeps the most important pins.",
    )
    type = column(
        fields.CharEnumField(PinType, max_length=16, default=PinType.MANUAL), create=Writable(default=PinType.MANUAL)
    )
    created_at = fields.DatetimeField()

    class Meta:
        table = "pins"
        # As Kalito indexes them: the most important of a session, a session's by time.
        indexes = (Index(fields=("session_id", "importance", "created_at")), Index(fields=("session_id", "created_at")))

    @classmethod
    async def create_pin(cls, owner: Owner, values: Mapping[str, Any]) -> PinRow:
        return await session_memory.create(owner, cls, PinRow, "pin", values)

    @classmethod
    async def delete_pin(cls, owner: Owner, pin_id: str) -> str:
        return await session_memory.delete(owner, cls, "pin", pin_id)

    @classmethod
    async def for_sessions(cls, session_ids: Sequence[str]) -> list[list[PinRow]]:
        """Every pin of each session, most important first, then newest."""
        return await session_memory.rows_per_session(PinRow, "pins", MOST_IMPORTANT_FIRST, session_ids)

    @classmethod
    async def candidates_for_sessions(cls, session_ids: Sequence[str]) -> list[list[PinRow]]:
        """The memory context's candidates: the 5 most important pins of each session, in the
        order of models.memory.pin_candidates."""
        return await session_memory.rows_per_session(
            PinRow, "pins", MOST_IMPORTANT_FIRST, session_ids, limit=memory.PIN_COUNT
        )


class PinRow(Row, model=Pin):
    """A pin as read or written, without a model instance."""

    __slots__ = ()
