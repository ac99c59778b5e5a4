"""What keeps the WebSocket endpoint safe, against a real server process: browser origins, the API
token in `connection_init`, the cap on subscriptions per connection, the deadline for
`connection_init`, and no leak of subscriptions when clients vanish.

Protections are about the transport, not the database: these run on SQLite only.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from support.live_server import live_server
from tests.operations import CREATE_SESSION
from tests.ws_client import PROTOCOL, GraphQLWebSocket, connected, http_graphql, open_socket

TOKEN = "correct horse battery staple"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
ALLOWED_ORIGIN = "https://app.example"
MAX_SUBSCRIPTIONS = 3
LEAK_CONNECTIONS = 300


def sqlite_env(directory: Path, **env: str) -> dict[str, str]:
    return {"KALITO_DATABASE_URL": f"sqlite://{directory / 'kalito.db'}", **env}


@pytest.fixture(scope="module")
def guarded_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with every WebSocket protection configured tightly."""
    directory = tmp_path_factory.mktemp("guarded")
    env = sqlite_env(
        directory,
        KALITO_API_TOKEN=TOKEN,
        KALITO_CORS_ORIGINS=ALLOWED_ORIGIN,
        KALITO_WS_MAX_SUBSCRIPTIONS=str(MAX_SUBSCRIPTIONS),
        KALITO_WS_INIT_TIMEOUT_SECONDS="1",
    )
    with live_server(env, directory) as url:
        yield url


@pytest.fixture(scope="module")
def plain_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with the default settings."""
    directory = tmp_path_factory.mktemp("plain")
    with live_server(sqlite_env(directory), directory) as url:
        yield url


def session_id() -> str:
    return f"ws-{uuid.uuid4().hex[:12]}"


async def create_session(url: str, identifier: str, headers: dict[str, str] | None = None) -> None:
    async with http_graphql(url, headers) as api:
        await api.data(CREATE_SESSION, {"input": {"id": identifier}})


# --- origins -----------------------------------------------------------------------------------


async def test_a_handshake_from_an_origin_not_allowed_is_refused(guarded_url: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(guarded_url, origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403


async def test_a_handshake_from_an_allowed_origin_opens(guarded_url: str) -> None:
    async with open_socket(guarded_url, origin=ALLOWED_ORIGIN) as socket:
        assert socket.connection.subprotocol == PROTOCOL
        await socket.init(BEARER)


async def test_a_handshake_without_origin_opens_as_scripts_send_it(guarded_url: str) -> None:
    async with open_socket(guarded_url) as socket:
        assert socket.connection.request is not None
        assert "Origin" not in socket.connection.request.headers
        await socket.init(BEARER)


# --- subprotocol -------------------------------------------------------------------------------


async def test_only_graphql_transport_ws_is_spoken(plain_url: str) -> None:
    async with open_socket(plain_url, subprotocols=["graphql-ws", PROTOCOL]) as socket:
        assert socket.connection.subprotocol == PROTOCOL
    # the legacy subscriptions-transport-ws protocol alone: refused, never spoken
    try:
        async with open_socket(plain_url, subprotocols=["graphql-ws"]) as socket:
            assert socket.connection.subprotocol is None
            assert await socket.close_code() == 4406
    except InvalidStatus:
        pass


# --- the API token -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"authorization": "Bearer"},
        {"Authorization": None},
        {"Authorization": ["Bearer", TOKEN]},
    ],
    ids=["no-payload", "empty", "wrong", "longer", "no-scheme", "basic", "no-token", "null", "list"],
)
async def test_connection_init_without_the_right_token_is_closed_with_4403(
    guarded_url: str, payload: dict[str, object] | None
) -> None:
    # the upgrade itself opens without any header: browsers cannot set one on a WebSocket
    async with open_socket(guarded_url) as socket:
        message: dict[str, object] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await socket.send(message)
        assert await socket.close_code() == 4403  # and no connection_ack before it


async def test_a_subscribe_before_connection_init_is_refused(guarded_url: str) -> None:
    async with open_socket(guarded_url) as socket:
        await socket.session_events("1", sync=False)
        assert await socket.close_code() == 4401


@pytest.mark.parametrize("key", ["Authorization", "authorization", "AUTHORIZATION"])
async def test_the_right_token_gets_an_ack_and_events(guarded_url: str, key: str) -> None:
    identifier = session_id()
    async with connected(guarded_url, {key: f"Bearer {TOKEN}"}) as socket:
        await socket.session_events("1", identifier)
        await create_session(guarded_url, identifier, BEARER)
        event = await socket.next_event("1")
        assert (event["kind"], event["sessionId"]) == ("CREATED", identifier)


# --- limits --------------------------------------------------------------------------------------


async def test_subscriptions_above_the_cap_are_refused_and_the_others_keep_working(guarded_url: str) -> None:
    identifier = session_id()
    async with connected(guarded_url, BEARER) as socket:
        for number in range(1, MAX_SUBSCRIPTIONS + 1):
            await socket.session_events(str(number), identifier)
        await socket.session_events("over", identifier)
        await create_session(guarded_url, identifier, BEARER)
        # the refusal came before the pong; a subscription let through would get the event
        refusal = await socket.next_message("over")
        assert refusal["type"] == "error", refusal
        assert refusal["payload"], refusal
        for number in range(1, MAX_SUBSCRIPTIONS + 1):
            assert (await socket.next_event(str(number)))["kind"] == "CREATED"

        # the cap counts live subscriptions: one completed makes room for another
        await socket.complete("1")
        await socket.session_events("again", identifier)
        async with http_graphql(guarded_url, BEARER) as api:
            await api.data("mutation($id: ID!) { deleteSession(id: $id) }", {"id": identifier})
        assert (await socket.next_event("again"))["kind"] == "DELETED"


async def test_a_client_that_never_sends_connection_init_is_closed_with_4408(guarded_url: str) -> None:
    async with open_socket(guarded_url) as socket:
        assert await socket.close_code() == 4408


async def test_ping_gets_pong(guarded_url: str) -> None:
    async with connected(guarded_url, BEARER) as socket:
        await socket.send({"type": "ping", "payload": {"sent": "by the test"}})
        pong = await socket.next_message()
        assert pong["type"] == "pong"


# --- no leaks ------------------------------------------------------------------------------------


async def active_subscriptions(url: str) -> float | None:
    """The kalito_active_subscriptions gauge at /metrics; None when there is no /metrics."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{url}/metrics")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    values = re.findall(r"^kalito_active_subscriptions(?:\{[^}]*\})? (\S+)$", response.text, re.MULTILINE)
    assert values, response.text
    return sum(float(value) for value in values)


async def until_active_subscriptions(url: str, expected: float) -> None:
    """Wait (within a deadline that only stops a broken server) until the gauge shows `expected`."""
    deadline = time.monotonic() + 30
    while (seen := await active_subscriptions(url)) != expected:
        assert time.monotonic() < deadline, f"kalito_active_subscriptions stayed at {seen}, not {expected}"
        await asyncio.sleep(0.2)


async def test_connections_that_vanish_leave_no_subscription_behind(plain_url: str) -> None:
    if await active_subscriptions(plain_url) is None:
        pytest.skip("the server has no GET /metrics with the kalito_active_subscriptions gauge yet")
    await until_active_subscriptions(plain_url, 0)
    identifier = session_id()

    async with contextlib.AsyncExitStack() as stack:
        opening = asyncio.Semaphore(25)

        async def subscribed() -> GraphQLWebSocket:
            async with opening:
                socket = await stack.enter_async_context(connected(plain_url))
                await socket.session_events("1")
                return socket

        sockets = await asyncio.gather(*(subscribed() for _ in range(LEAK_CONNECTIONS)))
        await until_active_subscriptions(plain_url, LEAK_CONNECTIONS)
        await create_session(plain_url, identifier)
        for socket in sockets:
            event = await socket.next_event("1")
            assert event["sessionId"] == identifier

        # half vanish without a close frame (a crash, a lost network), half close properly
        for socket in sockets[::2]:
            socket.abort()
        await asyncio.gather(*(socket.connection.close() for socket in sockets[1::2]))

    await until_active_subscriptions(plain_url, 0)
    assert httpx.get(f"{plain_url}/healthz").status_code == 200
    identifier = session_id()
    async with connected(plain_url) as socket:
        await socket.session_events("1", identifier)
        await create_session(plain_url, identifier)
        assert (await socket.next_event("1"))["kind"] == "CREATED"
        await until_active_subscriptions(plain_url, 1)
    await until_active_subscriptions(plain_url, 0)
