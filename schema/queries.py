"""The Query root: sessions and personas."""

from __future__ import annotations

import strawberry

import models
from schema.inputs import SessionFilter
from schema.personas import Persona
from schema.types import Session, SessionConnection, SessionOrder


@strawberry.type
class Query:
    @strawberry.field(description="The session with this id, or null when there is none.")
    async def session(self, id: strawberry.ID) -> Session | None:
        row = await models.Session.by_id(id)
        return Session.from_model(row) if row else None

    @strawberry.field(
        description="Sessions, newest activity first by default; saved ones only unless the filter says otherwise. "
        "first/last take 1 to 100 (default 20)."
    )
    async def sessions(
        self,
        filter: SessionFilter | None = None,
        order_by: SessionOrder | None = models.SessionOrder.UPDATED_AT_DESC,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> SessionConnection:
        where = (filter or SessionFilter()).to_model()
        request = models.PageRequest(first=first, after=after, last=last, before=before)
        return SessionConnection.from_page(
            await models.Session.page(where, order_by or models.SessionOrder.UPDATED_AT_DESC, request)
        )

    @strawberry.field(description="The persona with this id, or null when there is none.")
    async def persona(self, id: strawberry.ID) -> Persona | None:
        row = await models.Persona.by_id(id)
        return Persona.from_model(row) if row else None

    @strawberry.field(description="All personas, by name.")
    async def personas(self) -> list[Persona]:
        return [Persona.from_model(row) for row in await models.Persona.all_in_order()]
