"""Session events in one process: published only when their transaction commits, whichever
database relays them, and fanned out to the right subscribers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from tortoise import connections

import models
from broadcast import Broker, relaying
from broadcast.broker import QUEUE_SIZE
from models import clock
from models.events import SessionEvent, SessionEventKind, record, record_deleted, write_transaction
from support.databases import postgres_url_for

WAIT = 5.0


@pytest.fixture
async def broker(db: str, database_url: str) -> AsyncIterator[Broker]:
    """A broker fed as the server feeds it: after commit on SQLite, by LISTEN on PostgreSQL."""
    broker = Broker()
    url = database_url if db == "sqlite" else postgres_url_for(connections.get("default").database)
    async with relaying(url, broker):
        yield broker


async def next_event(events: AsyncIterator[SessionEvent]) -> SessionEvent:
    return await asyncio.wait_for(anext(events), WAIT)


async def test_a_committed_write_is_published_with_the_committed_row(broker: Broker) -> None:
    events = broker.subscribe("s1", models.ONE_USER)
    session = await models.Session.create_session(models.ONE_USER, "s1", name="First")
    event = await next_event(events)
    assert (event.kind, event.session_id) == (SessionEventKind.CREATED, "s1")
    assert event.session is not None
    assert (event.session.name, event.session.updated_at) == ("First", session.updated_at)


async def test_a_rolled_back_transaction_publishes_nothing(broker: Broker) -> None:
    events = broker.subscribe(None, models.ONE_USER)
    with pytest.raises(RuntimeError, match="changed my mind"):
        async with write_transaction():
            moment = clock.now()
            session = await models.Session.create(id="gone", name="Gone", created_at=moment, updated_at=moment)
            record(SessionEventKind.CREATED, models.SessionRow.from_model(session))
            raise RuntimeError("changed my mind")
    await models.Session.create_session(models.ONE_USER, "sentinel")
    assert (await next_event(events)).session_id == "sentinel"
    assert not await models.Session.exists(id="gone")


async def test_a_rolled_back_savepoint_drops_its_own_events_only(broker: Broker) -> None:
    events = broker.subscribe(None, models.ONE_USER)
    async with write_transaction():
        moment = clock.now()
        kept = await models.Session.create(id="kept", name="Kept", created_at=moment, updated_at=moment)
        record(SessionEventKind.CREATED, models.SessionRow.from_model(kept))
        with pytest.raises(RuntimeError):
            async with write_transaction():
                record_deleted("kept", "")
                raise RuntimeError("undo the inner part")
    assert (await next_event(events)).kind is SessionEventKind.CREATED
    await models.Session.create_session(models.ONE_USER, "sentinel")
    assert (await next_event(events)).session_id == "sentinel"


async def test_a_refused_write_publishes_nothing(broker: Broker) -> None:
    events = broker.subscribe(None, models.ONE_USER)
    await models.Session.create_session(models.ONE_USER, "s1")
    # Seen first: on PostgreSQL its NOTIFY may still be on its way when create_session returns.
    assert (await next_event(events)).session_id == "s1"
    with pytest.raises(models.Conflict):
        await models.Session.create_session(models.ONE_USER, "s1")
    with pytest.raises(models.InvalidInput):
        await models.Session.update_session(models.ONE_USER, "s1", {"name": "   "})
    await models.Session.create_session(models.ONE_USER, "sentinel")
    assert (await next_event(events)).session_id == "sentinel"


async def test_a_session_too_big_for_a_notification_is_read_back(broker: Broker) -> None:
    events = broker.subscribe("big", models.ONE_USER)
    recap = "é" * 20_000  # 40,000 bytes: far past PostgreSQL's 8,000-byte NOTIFY payload
    await models.Session.save_by_id(models.ONE_USER, "big", recap=recap)
    event = await next_event(events)
    assert event.kind is SessionEventKind.SAVED
    assert event.session is not None and event.session.recap == recap


async def test_each_subscriber_sees_its_session_and_all_see_every_session(broker: Broker) -> None:
    mine, other, everything = (
        broker.subscribe("mine", models.ONE_USER),
        broker.subscribe("other", models.ONE_USER),
        broker.subscribe(None, models.ONE_USER),
    )
    await models.Session.create_session(models.ONE_USER, "mine")
    await models.Session.create_session(models.ONE_USER, "other")
    assert (await next_event(mine)).session_id == "mine"
    assert (await next_event(other)).session_id == "other"
    assert [(await next_event(everything)).session_id for _ in range(2)] == ["mine", "other"]


# --- the broker on its own ------------------------------------------------------------------


def deleted(session_id: str) -> SessionEvent:
    return SessionEvent(SessionEventKind.DELETED, session_id, "")


async def test_closing_a_subscription_unregisters_it() -> None:
    broker = Broker()
    first, second = broker.subscribe("s1", models.ONE_USER), broker.subscribe(None, models.ONE_USER)
    assert broker.active_subscriptions == 2
    await first.aclose()
    await second.aclose()
    assert broker.active_subscriptions == 0
    broker.deliver([deleted("s1")])  # nobody left to deliver to


async def test_a_subscriber_that_stops_reading_is_ended_not_buffered_without_bound() -> None:
    broker = Broker()
    slow = broker.subscribe(None, models.ONE_USER)
    broker.deliver([deleted(f"s{index}") for index in range(QUEUE_SIZE + 1)])
    with pytest.raises(StopAsyncIteration):
        await anext(slow)
    assert broker.active_subscriptions == 0
