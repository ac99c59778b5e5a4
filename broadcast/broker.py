"""This process's subscribers, and the fan-out of committed session events to them: each
receives the events of its owner's sessions only (an admin's, of every session)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from models.events import SessionEvent
from models.owners import Owner

logger = logging.getLogger("kalito.events")

# Events a subscriber may fall behind by before it is dropped: a client that stopped reading
# must not grow the server's memory without bound.
QUEUE_SIZE = 256


class Subscription:
    """One subscriber's events, in commit order; registered from creation until closed."""

    def __init__(self, broker: Broker, session_id: str | None, owner: Owner) -> None:
        self._broker = broker
        self.session_id = session_id
        self.owner = owner
        self._queue: asyncio.Queue[SessionEvent] = asyncio.Queue(QUEUE_SIZE)
        self._overflowed = False
        broker._register(self)

    def offer(self, event: SessionEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._overflowed = True

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> SessionEvent:
        if self._overflowed:
            # The client stopped reading: end its subscription (it receives `complete` and
            # may subscribe again) rather than buffer without bound.
            logger.warning("a subscriber fell %d events behind and was ended", QUEUE_SIZE)
            await self.aclose()
            raise StopAsyncIteration
        return await self._queue.get()

    async def aclose(self) -> None:
        self._broker._unregister(self)


class Broker:
    def __init__(self) -> None:
        # Subscribers by the session they follow; None follows every session.
        self._subscribers: dict[str | None, set[Subscription]] = {}

    @property
    def active_subscriptions(self) -> int:
        return sum(len(subscribers) for subscribers in self._subscribers.values())

    def subscribe(self, session_id: str | None, owner: Owner) -> Subscription:
        """The events of one of the owner's sessions (or of every one when None), from now on."""
        return Subscription(self, session_id, owner)

    def deliver(self, events: Sequence[SessionEvent]) -> None:
        every_session = self._subscribers.get(None, ())
        for event in events:
            for subscriber in (*self._subscribers.get(event.session_id, ()), *every_session):
                if subscriber.owner.owns(event.owner_id):
                    subscriber.offer(event)

    def _register(self, subscription: Subscription) -> None:
        self._subscribers.setdefault(subscription.session_id, set()).add(subscription)

    def _unregister(self, subscription: Subscription) -> None:
        followers = self._subscribers.get(subscription.session_id)
        if followers is not None:
            followers.discard(subscription)
            if not followers:
                del self._subscribers[subscription.session_id]
