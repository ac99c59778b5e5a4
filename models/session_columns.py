"""The columns of a session, each declared once (models/columns.py), and the session row type.

Apart from models/session.py, which writes sessions and so records their events: the events
(models/events.py) read the row type, and importing the writes from there would be a circle.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models import rules
from models.columns import WRITABLE, Row, Writable, column
from models.owners import OWNER_MAX, UNOWNED, Owner
from models.persona import Persona

DEFAULT_NAME = "New Chat"


class SessionColumns(Model):
    id = column(
        fields.CharField(max_length=64, primary_key=True),
        rule=rules.check_id,
        create=Writable(description="A client-made id (Kalito's frontend makes UUIDs); generated when omitted."),
    )
    name = column(
        fields.CharField(max_length=rules.NAME_MAX, default=DEFAULT_NAME),
        rule=rules.check_name,
        create=Writable(description=f'Defaults to "{DEFAULT_NAME}".'),
        update=WRITABLE,
    )
    model = column(
        fields.CharField(max_length=rules.MODEL_MAX, null=True),
        rule=rules.check_model,
        create=WRITABLE,
        update=WRITABLE,
    )
    # The contract's UpdateSessionInput lists recap after personaId.
    recap = column(fields.TextField(null=True), rule=rules.check_recap, update=Writable(after="persona_id"))
    persona: fields.ForeignKeyNullableRelation[Persona] = column(
        fields.ForeignKeyField("models.Persona", related_name="sessions", null=True, on_delete=fields.SET_NULL),
        rule=rules.check_id,
        create=WRITABLE,
        update=WRITABLE,
    )
    persona_id: str | None
    saved = column(
        fields.BooleanField(default=False),
        create=Writable(default=False, description="Sessions are ephemeral unless saved."),
        update=WRITABLE,
        description="False while the session is ephemeral (it expires when idle).",
    )
    metadata = column(
        fields.JSONField[dict[str, str]](default=dict, db_default="{}"),  # SQLite: JSON text; PostgreSQL: jsonb
        rule=rules.check_metadata,
        create=WRITABLE,
        update=Writable(null_resets=True),
        description="String keys to string values; {} when none. An update replaces the whole map.",
    )
    created_at = fields.DatetimeField()
    updated_at = column(
        fields.DatetimeField(), description="Last activity; pass it back as expectedUpdatedAt for a safe update."
    )
    # Whose session it is (models/owners.py); the messages, pins and summaries follow it.
    owner_id = column(fields.CharField(max_length=OWNER_MAX, default=UNOWNED, db_default=UNOWNED), exposed=False)

    class Meta:
        abstract = True


class SessionRow(Row, model=SessionColumns):
    """A session as read or written, without a model instance: what the API answers."""

    __slots__ = ()


_SESSION_BY_ID = f'SELECT {SessionRow.select_list} FROM "sessions" WHERE "id"=?'
_OWN_SESSION_BY_ID = f'{_SESSION_BY_ID} AND "owner_id"=?'


def session_by_id(owner: Owner, session_id: str) -> tuple[str, list[str]]:
    """The statement (and its parameters) that reads the owner's session with this id: for
    everyone, by its id alone."""
    return (_SESSION_BY_ID, [session_id]) if owner.everyone else (_OWN_SESSION_BY_ID, [session_id, owner.id])
