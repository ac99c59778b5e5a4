"""The Query root: sessions and personas (the caller's: `info.context.owner`), and who is asking."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

import models
from schema.context import Context
from schema.inputs import SessionFilter
from schema.personas import Persona
from schema.types import Session, SessionConnection, SessionOrder, Viewer


@strawberry.type
class Query:
    @strawberry.field(description="The session with this id, or null when there is none.")
    async def session(self, info: Info[Context, None], id: strawberry.ID) -> Session | None:
        row = await models.Session.by_id(info.context.owner, id)
        return Session.from_model(row) if row else None

    @strawberry.field(
        description="Sessions, newest activity first by default; saved ones only unless the filter says otherwise. "
        "first/last take 1 to 100 (default 20)."
    )
    async def sessions(
        self,
        info: Info[Context, None],
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
            await models.Session.page(
                info.context.owner, where, order_by or models.SessionOrder.UPDATED_AT_DESC, request
            )
        )

    @strawberry.field(description="The persona with this id, or null when there is none.")
    async def persona(self, info: Info[Context, None], id: strawberry.ID) -> Persona | None:
        row = await models.Persona.by_id(info.context.owner, id)
        return Persona.from_model(row) if row else None

    @strawberry.field(description="All personas, by name: Kalito's defaults and the caller's own.")
    async def personas(self, info: Info[Context, None]) -> list[Persona]:
        return [Persona.from_model(row) for row in await models.Persona.all_in_order(info.context.owner)]

    @strawberry.field(description="Who the request's token says is asking; null without accounts.")
    def viewer(self, info: Info[Context, None]) -> Viewer | None:
        return Viewer.from_model(info.context.viewer) if info.context.viewer is not None else None
