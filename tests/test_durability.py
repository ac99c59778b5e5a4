"""An answered mutation survives the server being killed (SIGKILL) in the middle of writes.

Several writers create sessions, append messages and rename sessions over their own
connections, each remembering what the server acknowledged. The server is killed without
warning at a random moment while the others' requests are in flight, then started again on
the same database: every acknowledged write is there, and the database is intact. A server
that answered before its commit (or committed only part of a write) fails this.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.databases import server_database
from support.live_server import live_server, live_server_process
from tests.databases import EACH_DATABASE

WRITERS = 6
# Each writer makes sessions one after another: create, message, rename, message, rename.
SESSIONS_PER_WRITER = 60

CREATE = "mutation ($input: CreateSessionInput!) { createSession(input: $input) { id updatedAt } }"
APPEND = """
mutation ($input: AppendMessageInput!) { appendMessage(input: $input) { id sessionId text createdAt } }
"""
RENAME = "mutation ($input: UpdateSessionInput!) { updateSession(input: $input) { id name updatedAt } }"
READ_BACK = """
query ($id: ID!) {
  session(id: $id) {
    id name saved updatedAt messageCount
    messages(first: 100) { edges { node { id role text } } }
  }
}
"""


@dataclass
class Acknowledged:
    """What the server answered for one session, and what was in flight when it died."""

    created: bool = False
    messages: dict[str, str] = field(default_factory=dict)  # id -> text
    name: str | None = None  # the last acknowledged rename...
    updated_at: str | None = None  # ...and the updatedAt it answered
    in_flight_name: str | None = None  # a rename sent but never answered


@dataclass
class Run:
    kill_after: int  # acknowledgements before the kill
    sessions: dict[str, Acknowledged] = field(default_factory=dict)
    acknowledged: int = 0
    in_flight_at_kill: int = 0
    in_flight: int = 0
    killed: bool = False


@pytest.fixture(params=EACH_DATABASE)
def database_for_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with server_database(request.param, tmp_path) as url:
        yield url


async def send(client: httpx.AsyncClient, run: Run, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Post one mutation; answer its data, or raise ConnectionError once the server is gone."""
    run.in_flight += 1
    try:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    except httpx.TransportError as error:
        raise ConnectionError from error
    finally:
        run.in_flight -= 1
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def writer(url: str, number: int, run: Run, kill: Callable[[], None]) -> None:
    def acknowledge() -> None:
        run.acknowledged += 1
        if run.acknowledged == run.kill_after and not run.killed:
            run.in_flight_at_kill = run.in_flight
            run.killed = True
            kill()

    # One connection per writer, as separate clients would have.
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=1)) as client:
        with contextlib.suppress(ConnectionError):
            for index in range(SESSIONS_PER_WRITER):
                session_id = f"w{number}-{index}"
                record = run.sessions[session_id] = Acknowledged()
                await send(client, run, CREATE, {"input": {"id": session_id, "saved": True}})
                record.created = True
                acknowledge()
                for step in range(2):
                    text = f"message {step} of {session_id} " + "x" * random.randrange(2000)
                    message = (
                        await send(
                            client, run, APPEND, {"input": {"sessionId": session_id, "role": "USER", "text": text}}
                        )
                    )["appendMessage"]
                    record.messages[message["id"]] = text
                    acknowledge()
                    record.in_flight_name = f"{session_id} renamed {step}"
                    renamed = (
                        await send(client, run, RENAME, {"input": {"id": session_id, "name": record.in_flight_name}})
                    )["updateSession"]
                    record.name, record.updated_at, record.in_flight_name = renamed["name"], renamed["updatedAt"], None
                    acknowledge()


async def write_until_killed(url: str, run: Run, kill: Callable[[], None]) -> None:
    await asyncio.gather(*(writer(url, number, run, kill) for number in range(WRITERS)))


def read_back(url: str, session_id: str) -> dict[str, Any] | None:
    response = httpx.post(f"{url}/graphql", json={"query": READ_BACK, "variables": {"id": session_id}}, timeout=30)
    body = response.json()
    assert "errors" not in body, body
    session: dict[str, Any] | None = body["data"]["session"]
    return session


def sqlite_integrity(database_url: str) -> str:
    with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite://"))) as connection:
        verdict: str = connection.execute("PRAGMA integrity_check").fetchone()[0]
        return verdict


def test_every_acknowledged_write_survives_a_sigkill_in_the_middle_of_writes(
    database_for_server: str, tmp_path: Path
) -> None:
    env = {"KALITO_DATABASE_URL": database_for_server}
    run = Run(kill_after=random.randrange(40, 160))

    with live_server_process(env, tmp_path) as server:
        asyncio.run(write_until_killed(server.url, run, server.process.kill))
        server.process.wait(timeout=10)

    context = f"killed after {run.acknowledged} acknowledgements (planned {run.kill_after})"
    assert run.killed, f"the writers finished before the kill: {context}"
    assert run.in_flight_at_kill > 0, f"no write was in flight at the kill: {context}"
    if database_for_server.startswith("sqlite"):
        assert sqlite_integrity(database_for_server) == "ok", context

    with live_server(env, tmp_path) as url:
        for session_id, acknowledged in run.sessions.items():
            stored = read_back(url, session_id)
            if not acknowledged.created:
                continue  # its create was in flight: it may or may not be there
            assert stored is not None, f"{session_id} was acknowledged but is gone; {context}"
            messages = {edge["node"]["id"]: edge["node"]["text"] for edge in stored["messages"]["edges"]}
            for message_id, text in acknowledged.messages.items():
                assert messages.get(message_id) == text, f"message {message_id} of {session_id}; {context}"
            assert stored["messageCount"] >= len(acknowledged.messages)
            if acknowledged.name is not None:
                assert stored["updatedAt"] >= acknowledged.updated_at, f"{session_id}; {context}"
                assert stored["name"] in {acknowledged.name, acknowledged.in_flight_name}, f"{session_id}; {context}"

    if database_for_server.startswith("sqlite"):
        assert sqlite_integrity(database_for_server) == "ok"
