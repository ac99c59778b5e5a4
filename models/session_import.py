"""When an import brought an ephemeral session in (`import-kalito`).

An ephemeral session expires when idle (models/session.py), and idleness is measured from its
`updated_at`. An imported one keeps the `updated_at` it had in Kalito, often long past, so the
next sweep would purge it with its messages minutes after the import that acknowledged it. Its
idle clock starts at the import instead: the sweep spares it until it has been idle a whole TTL
since then. Its `updated_at` stays Kalito's, as the import promises, and the row goes with the
session.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.session_columns import SessionColumns  # models.session reads this model: no import from there


class SessionImport(Model):
    session: fields.OneToOneRelation[SessionColumns] = fields.OneToOneField(
        "models.Session", related_name="imported", on_delete=fields.CASCADE
    )
    session_id: str
    imported_at = fields.DatetimeField()

    class Meta:
        table = "session_imports"
