"""Accounts over WebSocket, against real server processes with KALITO_AUTH=jwt: the cross-user
matrix of tests/test_accounts.py run as graphql-transport-ws operations, subscribers that get
their own user's events only (in one process, and across two on PostgreSQL), and a
connection_init without a valid token closed with 4403."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.databases import migrated_postgres_database, server_database
from support.live_server import live_server
from tests.databases import EACH_DATABASE, ON_POSTGRES
from tests.test_accounts import PROBES, WORLD, Probe, seed_alice, targets, without
from tests.tokens import HS_SECRET, bearer, forged, hs256_signed_with_public_key, mint, unsigned
from tests.ws_client import GraphQLWebSocket, connected, http_graphql, open_socket

ACCOUNTS = {"KALITO_AUTH": "jwt", "KALITO_JWT_SECRET": HS_SECRET}
ALICE, BOB, ADMIN = mint("alice", exp_in=3600), mint("bob", exp_in=3600), mint("root", roles=["admin"], exp_in=3600)
operation_ids = (f"op-{number}" for number in itertools.count())


@pytest.fixture(scope="module", params=EACH_DATABASE)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("accounts")
    with (
        server_database(request.param, folder) as database_url,
        live_server({**ACCOUNTS, "KALITO_DATABASE_URL": database_url}, folder) as url,
    ):
        yield url


def init(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def as_user(url: str, token: str) -> AsyncIterator[GraphQLWebSocket]:
    async with connected(url, init(token)) as socket:
        yield socket


async def run(socket: GraphQLWebSocket, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    """A query or mutation over the socket: its one result, as HTTP would answer it."""
    operation = next(operation_ids)
    await socket.subscribe(operation, document, variables, sync=False)
    message = await socket.next_message(operation)
    if message["type"] == "error":  # a request error: the protocol carries the errors alone
        return {"errors": message["payload"]}
    assert message["type"] == "next", message
    assert (await socket.next_message(operation))["type"] == "complete"
    result: dict[str, Any] = message["payload"]
    return result


async def twice(socket: GraphQLWebSocket, probe: Probe, target: str) -> dict[str, Any]:
    first = await run(socket, probe.document, probe.variables(target))
    assert await run(socket, probe.document, probe.variables(target)) == first, probe.name
    return first


async def test_the_cross_user_matrix_over_websocket(server: str) -> None:
    async with http_graphql(server, bearer(ALICE)) as alice_http:
        alice = await seed_alice(alice_http)
        world = await alice_http.data(WORLD)
    async with as_user(server, BOB) as bob:
        for probe in PROBES:
            theirs, missing = targets(alice)[probe.target]
            answer = await twice(bob, probe, theirs)
            if probe.creates:
                (error,) = answer["errors"]
                assert error["extensions"] == {"code": "CONFLICT"}, probe.name
                assert "already exists" in error["message"], probe.name
                continue
            assert without(answer, theirs) == without(await twice(bob, probe, missing), missing), probe.name
    async with http_graphql(server, bearer(ALICE)) as alice_http:
        assert await alice_http.data(WORLD) == world


async def events_of(socket: GraphQLWebSocket, subscription: str, until: str) -> list[tuple[str, str]]:
    """(kind, session id) of the subscription's events up to the one of session `until`."""
    events = await socket.events_until(subscription, lambda event: event["sessionId"] == until)
    return [(event["kind"], event["sessionId"]) for event in events]


async def assert_each_user_gets_their_own_events(subscribe_to: str, write_to: str, prefix: str) -> None:
    """Bob and an admin subscribe on `subscribe_to`; alice and then bob write on `write_to`."""
    alice_session, bob_session = f"{prefix}-alice", f"{prefix}-bob"
    async with as_user(subscribe_to, BOB) as bob, as_user(subscribe_to, ADMIN) as admin:
        await bob.session_events("all")
        await bob.session_events("alice's", alice_session)
        await admin.session_events("all")
        async with http_graphql(write_to, bearer(ALICE)) as alice_http, http_graphql(write_to, bearer(BOB)) as bob_http:
            await alice_http.data(f'mutation {{ touchSession(id: "{alice_session}") {{ id }} }}')
            await alice_http.data(f'mutation {{ deleteSession(id: "{alice_session}") }}')
            await bob_http.data(f'mutation {{ touchSession(id: "{bob_session}") {{ id }} }}')
        # in commit order: had bob been sent alice's events, they would have come first
        assert await events_of(bob, "all", bob_session) == [("CREATED", bob_session)]
        assert await events_of(admin, "all", bob_session) == [
            ("CREATED", alice_session),
            ("DELETED", alice_session),
            ("CREATED", bob_session),
        ]
        await bob.complete("alice's")
        await bob.ping()
        assert not bob.pending["alice's"], bob.pending["alice's"]


async def test_a_subscriber_receives_only_its_users_events(server: str) -> None:
    await assert_each_user_gets_their_own_events(server, server, "same-process")


@ON_POSTGRES
def test_across_processes_a_subscriber_receives_only_its_users_events(tmp_path: Path) -> None:
    """The NOTIFY payload carries the owner: the other process filters as the writing one does."""
    import asyncio

    with migrated_postgres_database() as database_url:
        env = {**ACCOUNTS, "KALITO_DATABASE_URL": database_url}
        with live_server(env, tmp_path) as a, live_server(env, tmp_path) as b:
            asyncio.run(assert_each_user_gets_their_own_events(a, b, "across"))


@pytest.mark.parametrize(
    "token",
    [
        None,
        "not-a-jwt",
        forged(ALICE),
        mint("alice", exp_in=-120),
        mint("alice", key="rs"),
        unsigned("alice"),
        hs256_signed_with_public_key("alice"),
    ],
    ids=["none", "garbage", "forged", "expired", "another-key", "alg-none", "hs-with-a-public-key"],
)
async def test_a_connection_init_without_a_valid_token_is_closed_with_4403(server: str, token: str | None) -> None:
    async with open_socket(server) as socket:
        await socket.send({"type": "connection_init", "payload": init(token) if token else {}})
        assert await socket.close_code() == 4403


async def test_a_websocket_may_carry_its_token_in_the_handshake(server: str) -> None:
    async with open_socket(server, headers=bearer(BOB)) as socket:
        await socket.init()
        viewer = await run(socket, "query { viewer { id isAdmin } }", {})
        assert viewer == {"data": {"viewer": {"id": "bob", "isAdmin": False}}}
