"""Input types. Omitted fields stay UNSET, so "leave alone" and "set to null" differ."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

import models
from schema.types import MessageRole


def given_fields(source: object, *names: str) -> dict[str, Any]:
    """The named fields the client actually sent (null included, omitted left out)."""
    return {name: value for name in names if (value := getattr(source, name)) is not strawberry.UNSET}


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
class CreateSessionInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="A client-made id (Kalito's frontend makes UUIDs); generated when omitted."
    )
    name: str | None = strawberry.field(default=None, description='Defaults to "New Chat".')
    model: str | None = None
    persona_id: strawberry.ID | None = None
    saved: bool | None = strawberry.field(default=False, description="Sessions are ephemeral unless saved.")


@strawberry.input(description="Changes exactly the fields given; null clears model, recap and personaId.")
class UpdateSessionInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    model: str | None = strawberry.UNSET
    persona_id: strawberry.ID | None = strawberry.UNSET
    recap: str | None = strawberry.UNSET
    saved: bool | None = strawberry.UNSET
    expected_updated_at: datetime | None = strawberry.field(
        default=None,
        description="Update only if the session still has this updatedAt; otherwise CONFLICT.",
    )

    def changes(self) -> dict[str, Any]:
        return given_fields(self, "name", "model", "persona_id", "recap", "saved")


@strawberry.input
class CreatePersonaInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="Generated when omitted.")
    name: str
    prompt: str
    description: str | None = None
    icon: str | None = None
    category: str | None = None
    default_model: str | None = None

    def values(self) -> dict[str, Any]:
        return given_fields(self, "name", "prompt", "description", "icon", "category", "default_model")


@strawberry.input(description="Changes exactly the fields given; null clears the optional ones.")
class UpdatePersonaInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    prompt: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    icon: str | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    default_model: str | None = strawberry.UNSET

    def changes(self) -> dict[str, Any]:
        return given_fields(self, "name", "prompt", "description", "icon", "category", "default_model")


@strawberry.input(description="A message to add; an unknown sessionId starts a transient session.")
class AppendMessageInput:
    session_id: strawberry.ID
    role: MessageRole
    text: str
    model: str | None = None
    token_usage: int | None = None
