"""A `graphql-transport-ws` client for tests (the protocol of the `graphql-ws` npm library that
Apollo Client uses), on the `websockets` library, talking to a real server process.

The timeouts here only stop a broken server from hanging the suite: no test asserts a timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

PROTOCOL = "graphql-transport-ws"
WAIT_SECONDS = 15

SESSION_EVENTS = """
subscription Events($id: ID) {
  sessionEvents(id: $id) {
    kind
    sessionId
    session { id name model recap saved personaId createdAt updatedAt messageCount persona { id name } }
  }
}
"""


def ws_url(http_url: str) -> str:
    """ws://host:port/graphql for a server's http://host:port base URL."""
    return "ws" + http_url.removeprefix("http") + "/graphql"


class ProtocolError(AssertionError):
    """The server sent something the test did not expect."""


class GraphQLWebSocket:
    """One connection. Messages for other operation ids than the one awaited are kept for later,
    so several subscriptions can share a connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.pending: defaultdict[str | None, deque[dict[str, Any]]] = defaultdict(deque)

    async def send(self, message: Mapping[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """The next message off the wire, whatever it is (ConnectionClosed when the server closed)."""
        async with asyncio.timeout(timeout):
            raw = await self.connection.recv()
        # graphql-transport-ws messages are text frames: graphql-ws (Apollo's link) drops binary ones
        assert isinstance(raw, str), f"a binary frame: {raw!r}"
        message = json.loads(raw)
        assert isinstance(message, dict), message
        return message

    async def next_message(self, id: str | None = None, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """The next message for operation `id` (None: a message without id, e.g. pong)."""
        if self.pending[id]:
            return self.pending[id].popleft()
        async with asyncio.timeout(timeout):
            while True:
                message = await self.receive(timeout=timeout)
                if message.get("id") == id:
                    return message
                self.pending[message.get("id")].append(message)

    async def init(self, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """connection_init, then the connection_ack it must get."""
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = dict(payload)
        await self.send(message)
        ack = await self.next_message()
        if ack["type"] != "connection_ack":
            raise ProtocolError(f"expected connection_ack, got {ack}")
        return ack

    async def ping(self) -> None:
        """ping, then the pong it must get. The server reads a connection's messages in order, so
        after the pong every earlier `subscribe` has been taken in (a barrier before mutating)."""
        await self.send({"type": "ping"})
        pong = await self.next_message()
        if pong["type"] != "pong":
            raise ProtocolError(f"expected pong, got {pong}")

    async def subscribe(
        self, id: str, query: str = SESSION_EVENTS, variables: Mapping[str, Any] | None = None, *, sync: bool = True
    ) -> None:
        await self.send(
            {"id": id, "type": "subscribe", "payload": {"query": query, "variables": dict(variables or {})}}
        )
        if sync:
            await self.ping()

    async def session_events(self, id: str, session_id: str | None = None, *, sync: bool = True) -> None:
        """Subscribe `id` to sessionEvents of one session, or of all when session_id is None."""
        await self.subscribe(id, SESSION_EVENTS, {"id": session_id} if session_id is not None else {}, sync=sync)

    async def complete(self, id: str) -> None:
        await self.send({"id": id, "type": "complete"})

    async def next_data(self, id: str, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """The data of the next `next` message of operation `id`; anything else fails the test."""
        message = await self.next_message(id, timeout)
        if message["type"] != "next" or message["payload"].get("errors"):
            raise ProtocolError(f"expected a next message without errors for {id}, got {message}")
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def next_event(self, id: str, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """The next SessionEvent of subscription `id`."""
        event: dict[str, Any] = (await self.next_data(id, timeout))["sessionEvents"]
        return event

    async def events_until(
        self,
        id: str,
        last: Callable[[dict[str, Any]], bool],
        keep: Callable[[dict[str, Any]], bool] = lambda event: True,
        timeout: float = WAIT_SECONDS,
    ) -> list[dict[str, Any]]:
        """The events of subscription `id` that `keep` accepts, up to and including the first one
        `last` accepts (which must be kept too)."""
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while True:
                event = await self.next_event(id, timeout)
                if keep(event):
                    events.append(event)
                    if last(event):
                        return events

    async def close_code(self, timeout: float = WAIT_SECONDS) -> int | None:
        """Wait for the server to close the connection; its close code. Fails on any message."""
        try:
            message = await self.receive(timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        raise ProtocolError(f"expected the server to close the connection, got {message}")

    def abort(self) -> None:
        """Drop the TCP connection without a close frame, as a crashed client or a lost network does."""
        self.connection.transport.abort()


@contextlib.asynccontextmanager
async def open_socket(
    http_url: str,
    *,
    origin: str | None = None,
    headers: Mapping[str, str] | None = None,
    subprotocols: list[str] | None = None,
) -> AsyncIterator[GraphQLWebSocket]:
    """A WebSocket to the server's /graphql offering `graphql-transport-ws` (or `subprotocols`)."""
    connection = await connect(
        ws_url(http_url),
        subprotocols=[Subprotocol(name) for name in subprotocols or [PROTOCOL]],
        origin=None if origin is None else Origin(origin),
        additional_headers=headers,
        proxy=None,
        open_timeout=WAIT_SECONDS,
        close_timeout=2,
        # keepalive pings would be noise in tests that count on the server's own behaviour
        ping_interval=None,
    )
    try:
        yield GraphQLWebSocket(connection)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def connected(
    http_url: str, init_payload: Mapping[str, Any] | None = None, **options: Any
) -> AsyncIterator[GraphQLWebSocket]:
    """An open, acknowledged connection."""
    async with open_socket(http_url, **options) as socket:
        await socket.init(init_payload)
        yield socket


class HTTPGraphQL:
    """Mutations and queries over HTTP against the live server."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query, "variables": dict(variables or {})})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = await self(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def error_code(self, query: str, variables: Mapping[str, Any] | None = None) -> str:
        body = await self(query, variables)
        assert len(body.get("errors", [])) == 1, body
        code: str = body["errors"][0]["extensions"]["code"]
        return code


@contextlib.asynccontextmanager
async def http_graphql(http_url: str, headers: Mapping[str, str] | None = None) -> AsyncIterator[HTTPGraphQL]:
    async with httpx.AsyncClient(base_url=http_url, headers=dict(headers or {}), timeout=WAIT_SECONDS) as client:
        yield HTTPGraphQL(client)
