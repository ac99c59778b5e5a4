"""The Message output type: apart from schema/types.py, because the request context's memory
context loader makes Messages, and types.py reads the context."""

from __future__ import annotations

import strawberry

import models
from schema.columns import ColumnFields


@strawberry.type(description="One message of a conversation.")
class Message(ColumnFields[models.MessageRow]):
    pass
