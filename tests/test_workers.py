"""`kalito-graphql serve --workers 2`: several server processes writing one database at once
(one SQLite file, or PostgreSQL) lose no write and refuse none."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.databases import server_database
from support.live_server import live_server
from tests.databases import EACH_DATABASE
from tests.operations import APPEND_MESSAGE, CREATE_SESSION, UPDATE_SESSION

WRITERS = 8
WRITES_PER_WRITER = 40
KEPT = ["kept-0", "kept-1"]  # created first; appended to and renamed
FRESH = ["fresh-0", "fresh-1"]  # created by whichever first message commits first
SERVE = [sys.executable, "-m", "cli", "serve", "--workers", "2", "--host", "127.0.0.1", "--port", "{port}"]
MESSAGES = """
query Messages($id: ID!, $after: String) {
  session(id: $id) {
    id name messageCount updatedAt
    messages(first: 100, after: $after) { edges { node { id text } } pageInfo { hasNextPage endCursor } }
  }
}
"""


@pytest.fixture(params=EACH_DATABASE)
def two_workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with (
        server_database(request.param, tmp_path) as database_url,
        live_server({"KALITO_DATABASE_URL": database_url}, tmp_path, SERVE) as url,
    ):
        yield url


def fresh_connections() -> httpx.AsyncClient:
    """A client that opens a new connection for every request (no keep-alive), so the kernel
    spreads the requests over both workers."""
    return httpx.AsyncClient(
        timeout=30, limits=httpx.Limits(max_keepalive_connections=0), headers={"Connection": "close"}
    )


async def post(
    client: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any]
) -> tuple[int, dict[str, Any] | str]:
    response = await client.post(f"{url}/graphql", json={"query": query, "variables": variables})
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


async def writer(url: str, number: int, acked: dict[str, set[str]], failures: list[Any]) -> None:
    async with fresh_connections() as client:
        for step in range(WRITES_PER_WRITER):
            target = (number + step) % len(KEPT)
            if step % 4 == 3:
                name = f"writer {number} step {step}"
                variables: dict[str, Any] = {"input": {"id": KEPT[target], "name": name}}
                status, body = await post(client, url, UPDATE_SESSION, variables)
            else:
                session_id = (KEPT + FRESH)[(number + step) % (len(KEPT) + len(FRESH))]
                text = f"writer {number} step {step}"
                variables = {"input": {"sessionId": session_id, "role": "USER", "text": text}}
                status, body = await post(client, url, APPEND_MESSAGE, variables)
                if status == 200 and isinstance(body, dict) and not body.get("errors"):
                    message = body["data"]["appendMessage"]
                    assert message["sessionId"] == session_id
                    acked[session_id].add(message["id"])
            if status != 200 or not isinstance(body, dict) or body.get("errors"):
                failures.append((variables, status, body))


async def stored_messages(client: httpx.AsyncClient, url: str, session_id: str) -> tuple[dict[str, Any], set[str]]:
    ids: set[str] = set()
    after = None
    while True:
        status, body = await post(client, url, MESSAGES, {"id": session_id, "after": after})
        assert status == 200 and isinstance(body, dict) and "errors" not in body, body
        session = body["data"]["session"]
        assert session is not None, f"{session_id} is gone"
        connection = session["messages"]
        ids.update(edge["node"]["id"] for edge in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return session, ids
        after = connection["pageInfo"]["endCursor"]


async def test_two_workers_on_one_database_lose_and_refuse_no_write(two_workers: str) -> None:
    url = two_workers
    async with fresh_connections() as client:
        for session_id in KEPT:
            status, body = await post(client, url, CREATE_SESSION, {"input": {"id": session_id, "saved": True}})
            assert status == 200 and isinstance(body, dict) and "errors" not in body, body

        acked: dict[str, set[str]] = {session_id: set() for session_id in KEPT + FRESH}
        failures: list[Any] = []
        await asyncio.gather(*(writer(url, number, acked, failures) for number in range(WRITERS)))
        assert failures == [], f"{len(failures)} failed writes, e.g. {failures[:3]}"

        renames = {f"writer {n} step {step}" for n in range(WRITERS) for step in range(3, WRITES_PER_WRITER, 4)}
        for session_id in KEPT + FRESH:
            session, stored = await stored_messages(client, url, session_id)
            assert stored == acked[session_id], session_id
            assert session["messageCount"] == len(acked[session_id])
            if session_id in KEPT:
                assert session["name"] in renames
    assert sum(len(ids) for ids in acked.values()) == WRITERS * (WRITES_PER_WRITER - WRITES_PER_WRITER // 4)
