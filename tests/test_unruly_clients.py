"""Clients that misbehave on the wire, against a real server process: WebSocket messages of the
wrong shape, a body cut off by a disconnect, a body that trickles in. Each gets its protocol's
answer, and the server's log stays free of tracebacks.

About the transport, not the database: these run on SQLite only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.live_server import live_server
from tests.ws_client import connected, open_socket

BODY_READ_TIMEOUT_SECONDS = 1
SESSION = "query ($id: ID!) { session(id: $id) { id } }"


@dataclass(frozen=True)
class Server:
    url: str
    log_dir: Path

    def log(self) -> str:
        return "".join(path.read_text() for path in self.log_dir.glob("server-*.log"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("unruly")
    env = {
        "KALITO_DATABASE_URL": f"sqlite://{directory / 'kalito.db'}",
        "KALITO_BODY_READ_TIMEOUT_SECONDS": str(BODY_READ_TIMEOUT_SECONDS),
        "KALITO_LOG_LEVEL": "info",
    }
    with live_server(env, directory) as url:
        yield Server(url, directory)


def assert_no_traceback(log: str) -> None:
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log


# --- WebSocket messages of the wrong shape -----------------------------------------------------

QUERY = "subscription { sessionEvents { kind } }"
MALFORMED_MESSAGES: list[Any] = [
    [1, 2, 3],
    "subscribe",
    5,
    None,
    {"type": "subscribe", "id": {"an": "object"}, "payload": {"query": QUERY}},
    {"type": "subscribe", "id": "1", "payload": [QUERY]},
    {"type": "subscribe", "id": "1", "payload": {"query": 5}},
    {"type": "subscribe", "id": "1", "payload": {"query": QUERY, "variables": [1]}},
    {"type": "subscribe", "id": "1", "payload": {"query": QUERY, "operationName": 1}},
    {"type": "complete", "id": ["1"]},
]


@pytest.mark.parametrize("message", MALFORMED_MESSAGES, ids=[json.dumps(message) for message in MALFORMED_MESSAGES])
async def test_a_message_of_the_wrong_shape_after_the_ack_is_closed_with_4400(server: Server, message: Any) -> None:
    async with connected(server.url) as socket:
        await socket.connection.send(json.dumps(message))
        assert await socket.close_code() == 4400
    assert_no_traceback(server.log())


async def test_a_json_frame_that_is_not_an_object_before_connection_init_is_closed_with_4400(server: Server) -> None:
    async with open_socket(server.url) as socket:
        await socket.connection.send("[1, 2, 3]")
        assert await socket.close_code() == 4400
    assert_no_traceback(server.log())


# --- bodies cut off and bodies that trickle ------------------------------------------------------


async def raw_request(server: Server, head: str, body_part: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head.encode() + body_part)
    await writer.drain()
    return reader, writer


def post_head(content_length: int, content_type: str = "application/json") -> str:
    return (
        "POST /graphql HTTP/1.1\r\nHost: kalito.test\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {content_length}\r\n\r\n"
    )


async def until_logged(server: Server, text: str) -> str:
    """The log once it holds `text` (the server writes it as it notices the disconnect)."""
    async with asyncio.timeout(10):
        while text not in (log := server.log()):
            await asyncio.sleep(0.05)
    return log


@pytest.mark.parametrize("content_type", ["application/json", "application/graphql-response+json"])
async def test_a_client_that_disconnects_halfway_through_its_body_is_one_line_of_the_log(
    server: Server, content_type: str
) -> None:
    before = server.log()
    _, writer = await raw_request(server, post_head(1000, content_type), b'{"query": ')
    writer.close()
    await writer.wait_closed()
    await until_logged(server, "disconnected before its body arrived")
    await asyncio.sleep(0.2)  # anything else the server would write about it
    log = server.log().removeprefix(before)
    assert_no_traceback(log)
    (line,) = [line for line in log.splitlines() if line.strip()]
    assert json.loads(line)["outcome"] == "disconnected"


@pytest.mark.parametrize("content_type", ["application/json", "application/graphql-response+json"])
async def test_a_body_that_does_not_arrive_in_time_is_refused_with_408(server: Server, content_type: str) -> None:
    reader, writer = await raw_request(server, post_head(1000, content_type), b'{"query": ')
    try:
        async with asyncio.timeout(BODY_READ_TIMEOUT_SECONDS + 10):
            answer = await reader.read()  # until the server closes the connection
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    assert status_line == "HTTP/1.1 408 Request Timeout"
    assert headers["connection"] == "close"
    assert json.loads(body) == {
        "errors": [
            {
                "message": f"The request body did not arrive within {BODY_READ_TIMEOUT_SECONDS} seconds",
                "extensions": {"code": "REQUEST_TIMEOUT"},
            }
        ]
    }
    assert_no_traceback(server.log())


async def test_a_body_that_arrives_in_pieces_within_the_limit_is_answered(server: Server) -> None:
    body = json.dumps({"query": SESSION, "variables": {"id": "nobody"}}).encode()
    for _ in range(2):  # the second send is answered by the compiled plan
        reader, writer = await raw_request(server, post_head(len(body)), body[:10])
        await asyncio.sleep(BODY_READ_TIMEOUT_SECONDS / 4)
        writer.write(body[10:])
        await writer.drain()
        async with asyncio.timeout(10):
            status_line = await reader.readline()
        writer.close()
        assert status_line == b"HTTP/1.1 200 OK\r\n"
