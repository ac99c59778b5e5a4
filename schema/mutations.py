"""The Mutation root. Each resolver makes one call into `models`, as the caller
(`info.context.owner`); errors are mapped elsewhere."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

import models
from schema.context import Context
from schema.inputs import (
    AppendMessageInput,
    CreatePersonaInput,
    CreatePinInput,
    CreateSessionInput,
    CreateSummaryInput,
    ForkSessionInput,
    UpdatePersonaInput,
    UpdateSessionInput,
)
from schema.memory import Pin, Summary
from schema.messages import Message
from schema.personas import Persona
from schema.types import Session


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Start a session: ephemeral unless saved. An existing id is a CONFLICT.")
    async def create_session(self, info: Info[Context, None], input: CreateSessionInput) -> Session:
        return Session.from_model(await models.Session.create_session(info.context.owner, input.id, **input.columns()))

    @strawberry.mutation(description="Change exactly the fields given and bump updatedAt.")
    async def update_session(self, info: Info[Context, None], input: UpdateSessionInput) -> Session:
        row = await models.Session.update_session(
            info.context.owner, input.id, input.changes(), input.expected_updated_at
        )
        return Session.from_model(row)

    @strawberry.mutation(description="Mark a session saved, creating it when the id is unknown.")
    async def save_session(
        self, info: Info[Context, None], id: strawberry.ID, name: str | None = None, recap: str | None = None
    ) -> Session:
        return Session.from_model(await models.Session.save_by_id(info.context.owner, id, name=name, recap=recap))

    @strawberry.mutation(
        description="The agent's entry point: make sure the session exists (generating an id when omitted) "
        "and bump its updatedAt."
    )
    async def touch_session(
        self,
        info: Info[Context, None],
        id: strawberry.ID | None = None,
        model: str | None = None,
        persona_id: strawberry.ID | None = None,
    ) -> Session:
        return Session.from_model(
            await models.Session.touch(info.context.owner, id, model=model, persona_id=persona_id)
        )

    @strawberry.mutation(
        description="Delete a session with its messages, pins and summaries. An unknown id is NOT_FOUND."
    )
    async def delete_session(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        return strawberry.ID(await models.Session.delete_by_id(info.context.owner, id))

    @strawberry.mutation(description="Delete the sessions that exist among these ids; answers their ids.")
    async def delete_sessions(self, info: Info[Context, None], ids: list[strawberry.ID]) -> list[strawberry.ID]:
        return [strawberry.ID(deleted) for deleted in await models.Session.delete_many(info.context.owner, ids)]

    @strawberry.mutation(
        description="Delete ephemeral sessions idle longer than idleSeconds (default: the server's TTL); "
        "answers how many went. Saved sessions never expire."
    )
    async def purge_ephemeral_sessions(self, info: Info[Context, None], idle_seconds: int | None = None) -> int:
        return await models.Session.purge_expired(
            info.context.owner, idle_seconds, default_ttl=info.context.settings.ephemeral_ttl_seconds
        )

    @strawberry.mutation(
        description="Add a message to a conversation and bump the session's updatedAt; the first message "
        "of an unknown session id creates the (transient) session."
    )
    async def append_message(self, info: Info[Context, None], input: AppendMessageInput) -> Message:
        return Message.from_model(await models.Message.append(info.context.owner, **input.columns()))

    @strawberry.mutation(
        description="Make the branch through this message active, down to its newest leaf, and bump the "
        "session's updatedAt. An unknown id is NOT_FOUND."
    )
    async def switch_branch(self, info: Info[Context, None], message_id: strawberry.ID) -> Session:
        return Session.from_model(await models.Message.switch_branch(info.context.owner, message_id))

    @strawberry.mutation(
        description="A new ephemeral session holding copies of the path root..atMessageId (default: the "
        "active leaf), with the pins and summaries that fall inside it; the source is untouched."
    )
    async def fork_session(self, info: Info[Context, None], input: ForkSessionInput) -> Session:
        row = await models.fork_session(info.context.owner, input.session_id, input.at_message_id, input.id, input.name)
        return Session.from_model(row)

    @strawberry.mutation(description="Create a persona. An existing id is a CONFLICT.")
    async def create_persona(self, info: Info[Context, None], input: CreatePersonaInput) -> Persona:
        return Persona.from_model(await models.Persona.create_persona(info.context.owner, input.id, input.columns()))

    @strawberry.mutation(description="Change exactly the fields given.")
    async def update_persona(self, info: Info[Context, None], input: UpdatePersonaInput) -> Persona:
        return Persona.from_model(await models.Persona.update_persona(info.context.owner, input.id, input.changes()))

    @strawberry.mutation(
        description="Delete a persona; its sessions keep going without one. Default personas cannot be deleted."
    )
    async def delete_persona(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        return strawberry.ID(await models.Persona.delete_persona(info.context.owner, id))

    @strawberry.mutation(
        description="Pin a fact in a session. Publishes UPDATED for the session; its updatedAt does not move."
    )
    async def create_pin(self, info: Info[Context, None], input: CreatePinInput) -> Pin:
        return Pin.from_model(await models.Pin.create_pin(info.context.owner, input.columns()))

    @strawberry.mutation(
        description="Delete a pin; answers its id. An unknown id is NOT_FOUND. Publishes UPDATED for its session."
    )
    async def delete_pin(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        return strawberry.ID(await models.Pin.delete_pin(info.context.owner, id))

    @strawberry.mutation(
        description="Add a summary to a session. Publishes UPDATED for the session; its updatedAt does not move."
    )
    async def create_summary(self, info: Info[Context, None], input: CreateSummaryInput) -> Summary:
        return Summary.from_model(await models.Summary.create_summary(info.context.owner, input.columns()))

    @strawberry.mutation(
        description="Delete a summary; answers its id. An unknown id is NOT_FOUND. Publishes UPDATED for its session."
    )
    async def delete_summary(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        return strawberry.ID(await models.Summary.delete_summary(info.context.owner, id))
