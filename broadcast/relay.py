"""How committed session events reach this process's broker.

SQLite: the writes of this process, handed over right after they commit (a second process on the
same file has subscribers of its own, which see its own writes only).

PostgreSQL: every process's writes, through `LISTEN` on a connection of its own (the writers
`NOTIFY` inside their transactions; see models/events.py). A lost connection is reopened, after
a pause that grows to a few seconds while the database stays away; events committed while no
connection was listening are not replayed (subscribers refetch what they show when they need
certainty, as after any reconnect).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

import models
from broadcast.broker import Broker
from models.events import CHANNEL, SessionEvent, deliver_committed_to

logger = logging.getLogger("kalito.events")

APPLICATION_NAME = "kalito-events"  # how the listening connection shows in pg_stat_activity
STARTUP_SECONDS = 10.0
# An idle connection whose peer vanished (a dropped network, not a closed socket) is noticed by
# asking the server something this often.
PROBE_SECONDS = 5.0
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)


class _ConnectionLost(Exception):
    pass


class PostgresRelay:
    def __init__(self, database_url: str, broker: Broker) -> None:
        credentials = expand_db_url(database_url)["credentials"]
        self._connect_args = {
            key: credentials[key] for key in ("host", "port", "user", "password", "database") if key in credentials
        }
        self._broker = broker
        self.listening = asyncio.Event()

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, _ConnectionLost) as error:
                failures = 0 if self.listening.is_set() else failures + 1
                self.listening.clear()
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                logger.warning("session events: listening connection lost (%r); reconnecting in %.1fs", error, delay)
                await asyncio.sleep(delay)

    async def _listen(self) -> None:
        connection = await asyncpg.connect(
            **self._connect_args, timeout=STARTUP_SECONDS, server_settings={"application_name": APPLICATION_NAME}
        )
        try:
            payloads: asyncio.Queue[str | None] = asyncio.Queue()
            connection.add_termination_listener(lambda _connection: payloads.put_nowait(None))
            await connection.add_listener(CHANNEL, lambda *notification: payloads.put_nowait(notification[3]))
            self.listening.set()
            logger.info("session events: listening on PostgreSQL channel %s", CHANNEL)
            while True:
                try:
                    payload = await asyncio.wait_for(payloads.get(), PROBE_SECONDS)
                except TimeoutError:
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), PROBE_SECONDS)
                    continue
                if payload is None:
                    raise _ConnectionLost("the server closed the connection")
                await self._deliver(payload)
        finally:
            connection.terminate()

    async def _deliver(self, payload: str) -> None:
        try:
            event = SessionEvent.from_payload(payload)
        except (ValueError, KeyError, TypeError):
            logger.exception("session events: ignoring a malformed notification %r", payload[:200])
            return
        if event.needs_reading_back:  # too big for a notification: read it once for all subscribers
            session = await models.Session.by_id(models.EVERYONE, event.session_id)
            if session is None:
                return  # deleted meanwhile: its DELETED event follows
            event = SessionEvent(event.kind, event.session_id, event.owner_id, session)
        self._broker.deliver([event])


@contextlib.asynccontextmanager
async def relaying(database_url: str, broker: Broker) -> AsyncIterator[None]:
    """Bring committed events to `broker` while the block runs (the app's lifespan)."""
    if database_url.startswith("sqlite"):
        deliver_committed_to(broker.deliver)
        try:
            yield
        finally:
            deliver_committed_to(None)
        return
    relay = PostgresRelay(database_url, broker)
    task: asyncio.Task[Any] = asyncio.create_task(relay.run(), name="kalito-events-relay")
    try:
        # Serve only once listening, so that no event committed after start-up is missed.
        await asyncio.wait_for(relay.listening.wait(), STARTUP_SECONDS)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
