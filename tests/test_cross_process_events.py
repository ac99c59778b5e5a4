"""With PostgreSQL, an event published by one server process reaches the subscribers of every
other process (LISTEN/NOTIFY), and a process whose LISTEN connection dies listens again."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlparse

import asyncpg
import pytest

from support.databases import POSTGRES_URL, migrated_postgres_database
from support.live_server import live_server
from tests.databases import ON_POSTGRES
from tests.operations import CREATE_SESSION, TOUCH_SESSION
from tests.ws_client import connected, http_graphql

pytestmark = ON_POSTGRES

LISTENERS = """
SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'kalito-events'
"""
RECOVERY_SECONDS = 20


class Servers:
    def __init__(self, a: str, b: str, database: str) -> None:
        self.a, self.b, self.database = a, b, database


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Two server processes on one PostgreSQL database."""
    directory = tmp_path_factory.mktemp("two-processes")
    with migrated_postgres_database() as database_url:
        env = {"KALITO_DATABASE_URL": database_url}
        with live_server(env, directory) as a, live_server(env, directory) as b:
            yield Servers(a, b, urlparse(database_url).path.lstrip("/"))


def prefix() -> str:
    return f"x{uuid.uuid4().hex[:12]}-"


async def listener_pids(database: str) -> list[int]:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        return [row["pid"] for row in await connection.fetch(LISTENERS, database)]
    finally:
        await connection.close()


async def test_a_write_on_one_process_reaches_subscribers_on_both_once(servers: Servers) -> None:
    ids = prefix()
    session_id, sentinel_id = ids + "one", ids + "sentinel"
    async with connected(servers.a) as on_a, connected(servers.b) as on_b, http_graphql(servers.b) as api_b:
        await on_a.session_events("one", session_id)
        await on_a.session_events("all")
        await on_b.session_events("all")

        answer = (await api_b.data(CREATE_SESSION, {"input": {"id": session_id}}))["createSession"]
        assert await on_a.next_event("one") == {"kind": "CREATED", "sessionId": session_id, "session": answer}

        await api_b.data(TOUCH_SESSION, {"id": sentinel_id})
        for socket in (on_a, on_b):
            events = await socket.events_until(
                "all", lambda event: event["sessionId"] == sentinel_id, keep=lambda e: e["sessionId"].startswith(ids)
            )
            # exactly once each, on the writing process too, and in commit order
            assert [(event["kind"], event["sessionId"]) for event in events] == [
                ("CREATED", session_id),
                ("CREATED", sentinel_id),
            ]
            assert events[0]["session"] == answer


async def test_a_process_whose_listen_connection_is_killed_delivers_events_again(servers: Servers) -> None:
    ids = prefix()
    async with connected(servers.a) as on_a, http_graphql(servers.b) as api_b:
        await on_a.session_events("all")
        listeners = await listener_pids(servers.database)
        assert len(listeners) == 2, f"expected one kalito-events connection per process, found {listeners}"

        # Both processes lose their LISTEN connection (pg_stat_activity cannot tell which is A's);
        # B's writes NOTIFY from their own transactions, so only A's listening matters here.
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            for pid in listeners:
                assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await connection.close()

        deadline = time.monotonic() + RECOVERY_SECONDS
        delivered = None
        attempt = 0
        while delivered is None:
            assert time.monotonic() < deadline, f"A delivered no event within {RECOVERY_SECONDS}s of losing LISTEN"
            attempt += 1
            await api_b.data(TOUCH_SESSION, {"id": f"{ids}{attempt}"})
            with contextlib.suppress(TimeoutError):
                delivered = await on_a.next_event("all", timeout=0.2)
        assert delivered["sessionId"].startswith(ids)

        # and from then on every write arrives, in order
        await api_b.data(TOUCH_SESSION, {"id": f"{ids}after"})
        events = await on_a.events_until(
            "all", lambda event: event["sessionId"] == f"{ids}after", keep=lambda e: e["sessionId"].startswith(ids)
        )
        assert events[-1]["kind"] == "CREATED"

        # each process has a new LISTEN connection
        while len(new_listeners := await listener_pids(servers.database)) != 2 or set(new_listeners) & set(listeners):
            assert time.monotonic() < deadline + 10, f"kalito-events connections: {new_listeners}"
            await asyncio.sleep(0.2)
