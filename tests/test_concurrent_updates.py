"""Compare-and-set under contention: of 20 concurrent updateSessions with the same
expectedUpdatedAt, exactly one wins, the other 19 are CONFLICT, and the row holds the winner's value.

Twice: in process (the coroutines interleave on the app's own connection handling), and against
real server processes over 20 separate HTTP connections, where the database's own locking
decides — two processes sharing the one database, so that not even a lock inside one process
could serialise them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import models
from support.databases import server_database
from support.live_server import live_server
from tests.conftest import GraphQLClient
from tests.databases import EACH_DATABASE

WRITERS = 20

CREATE = "mutation ($input: CreateSessionInput!) { createSession(input: $input) { id updatedAt } }"
UPDATE = "mutation ($input: UpdateSessionInput!) { updateSession(input: $input) { id name updatedAt } }"
SESSION = "query ($id: ID!) { session(id: $id) { id name updatedAt } }"


def rename(number: int, expected_updated_at: str) -> dict[str, Any]:
    return {"input": {"id": "contested", "name": f"writer {number}", "expectedUpdatedAt": expected_updated_at}}


def the_one_winner(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """The single successful update among the answers; every other one must be a CONFLICT."""
    winners = [body["data"]["updateSession"] for body in bodies if "errors" not in body]
    losers = [body["errors"] for body in bodies if "errors" in body]
    assert len(winners) == 1, bodies
    assert [[error["extensions"]["code"] for error in errors] for errors in losers] == [["CONFLICT"]] * (WRITERS - 1), (
        losers
    )
    assert all(body["data"] is None for body in bodies if "errors" in body)
    winner: dict[str, Any] = winners[0]
    return winner


# --- in process ------------------------------------------------------------------------------


async def test_concurrent_updates_with_the_same_expected_updated_at_have_exactly_one_winner(
    gql: GraphQLClient,
) -> None:
    moment = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
    await models.Session.create(id="contested", name="Original", saved=True, created_at=moment, updated_at=moment)

    bodies = await asyncio.gather(
        *(gql(UPDATE, rename(number, "2025-09-16T10:08:36.188Z")) for number in range(WRITERS))
    )

    winner = the_one_winner(list(bodies))
    stored = await models.Session.get(id="contested")
    assert (stored.name, stored.updated_at) == (winner["name"], datetime.fromisoformat(winner["updatedAt"]))
    assert stored.updated_at > moment


# --- real server processes, one connection per writer ----------------------------------------


@pytest.fixture(params=EACH_DATABASE)
def two_servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """Two server processes on one database (the first makes the tables before the second starts)."""
    with ExitStack() as stack:
        env = {"KALITO_DATABASE_URL": stack.enter_context(server_database(request.param, tmp_path))}
        yield [stack.enter_context(live_server(env, tmp_path)) for _ in range(2)]


async def test_concurrent_updates_over_separate_connections_to_two_servers_have_exactly_one_winner(
    two_servers: list[str],
) -> None:
    clients = [
        httpx.AsyncClient(base_url=two_servers[number % 2], timeout=30, limits=httpx.Limits(max_connections=1))
        for number in range(WRITERS)
    ]
    try:
        created = await clients[0].post("/graphql", json={"query": CREATE, "variables": {"input": {"id": "contested"}}})
        expected = created.json()["data"]["createSession"]["updatedAt"]
        # Every connection open before the race, so the updates leave together.
        await asyncio.gather(*(client.get("/healthz") for client in clients))

        responses = await asyncio.gather(
            *(
                client.post("/graphql", json={"query": UPDATE, "variables": rename(number, expected)})
                for number, client in enumerate(clients)
            )
        )

        winner = the_one_winner([response.json() for response in responses])
        for url in two_servers:  # both processes read the winner's row
            stored = httpx.post(f"{url}/graphql", json={"query": SESSION, "variables": {"id": "contested"}}).json()
            assert stored == {"data": {"session": winner}}
        assert winner["updatedAt"] > expected
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
