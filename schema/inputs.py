"""Input types: the filter of a list, and the create and update inputs, whose fields follow from
the column declarations (schema/columns.py). Omitted update fields stay UNSET, so "leave alone"
and "set to null" differ."""

from __future__ import annotations

from datetime import datetime

import strawberry

import models
from schema.columns import CreateFields, UpdateFields, cleared_by_null


@strawberry.input(description="Which sessions a list shows. With no filter: saved sessions only.")
class SessionFilter:
    saved: bool | None = strawberry.field(
        default=True, description="true: saved only (the default); false: ephemeral only; null: both."
    )
    persona_id: strawberry.ID | None = None
    model: str | None = None
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the name or the recap."
    )
    updated_after: datetime | None = None
    updated_before: datetime | None = None

    def to_model(self) -> models.SessionFilter:
        return models.SessionFilter(
            saved=self.saved,
            persona_id=self.persona_id,
            model=self.model,
            search=self.search,
            updated_after=self.updated_after,
            updated_before=self.updated_before,
        )


@strawberry.input
class CreateSessionInput(CreateFields[models.SessionRow]):
    pass


@strawberry.input(description=f"Changes exactly the fields given; null clears {cleared_by_null(models.SessionRow)}.")
class UpdateSessionInput(UpdateFields[models.SessionRow]):
    expected_updated_at: datetime | None = strawberry.field(
        default=None,
        description="Update only if the session still has this updatedAt; otherwise CONFLICT.",
    )


@strawberry.input
class CreatePersonaInput(CreateFields[models.PersonaRow]):
    pass


@strawberry.input(description="Changes exactly the fields given; null clears the optional ones.")
class UpdatePersonaInput(UpdateFields[models.PersonaRow]):
    pass


@strawberry.input(description="A message to add; an unknown sessionId starts a transient session.")
class AppendMessageInput(CreateFields[models.MessageRow]):
    pass


@strawberry.input(description="A fact to pin in a session (which must exist).")
class CreatePinInput(CreateFields[models.PinRow]):
    pass


@strawberry.input(description="A summary of a span of a session's messages (the session must exist).")
class CreateSummaryInput(CreateFields[models.SummaryRow]):
    pass


@strawberry.input(description="Which path of a session to copy into a new ephemeral session.")
class ForkSessionInput:
    session_id: strawberry.ID
    at_message_id: strawberry.ID | None = strawberry.field(
        default=None, description="The path's last message; null: the active leaf."
    )
    id: strawberry.ID | None = strawberry.field(default=None, description="The fork's id; generated when omitted.")
    name: str | None = strawberry.field(default=None, description="The fork's name; null: the source's.")
