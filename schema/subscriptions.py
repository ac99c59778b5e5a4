"""The Subscription root: committed session events, over graphql-transport-ws."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry
from strawberry.types import Info

import broadcast
from models import rules
from schema.context import Context
from schema.types import SessionEvent


class _EventStream:
    """A subscription's events as GraphQL objects; closing the stream unsubscribes.

    A class rather than a generator: a generator closed before its first step would never
    run its cleanup, and the subscriber would stay registered.
    """

    def __init__(self, subscription: broadcast.Subscription) -> None:
        self._subscription = subscription

    def __aiter__(self) -> _EventStream:
        return self

    async def __anext__(self) -> SessionEvent:
        return SessionEvent.from_model(await anext(self._subscription))

    async def aclose(self) -> None:
        await self._subscription.aclose()


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every committed create, update, save, touch, message and delete of one of the caller's "
        "sessions, or of every one when id is omitted."
    )
    async def session_events(
        self, info: Info[Context, None], id: strawberry.ID | None = None
    ) -> AsyncIterator[SessionEvent]:
        # Not a generator itself: a bad id is refused, and the subscriber registered, before
        # the subscription starts, not at its first event.
        session_id = rules.check_id("id", id) if id is not None else None
        return _EventStream(info.context.broker.subscribe(session_id, info.context.owner))
