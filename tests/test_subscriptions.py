"""sessionEvents over graphql-transport-ws, against a real server process on SQLite and on
PostgreSQL: which write publishes which event, what an event carries, filtering by session, and
that a refused write publishes nothing.

One server per database serves the whole module; each test works on session ids of its own
(and ignores other tests' events on subscriptions to all sessions). "No event" is never waited
for: a later sentinel write must be the next event seen.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from support.databases import server_database
from support.live_server import live_server
from tests.databases import EACH_DATABASE
from tests.operations import (
    APPEND_MESSAGE,
    CREATE_PIN,
    CREATE_SESSION,
    CREATE_SUMMARY,
    DELETE_PIN,
    DELETE_SESSION,
    DELETE_SESSIONS,
    DELETE_SUMMARY,
    PURGE_EPHEMERAL,
    SAVE_SESSION,
    SESSION,
    TOUCH_SESSION,
    UPDATE_SESSION,
)
from tests.ws_client import GraphQLWebSocket, HTTPGraphQL, connected, http_graphql

STALE = "2000-01-01T00:00:00.000Z"


@pytest.fixture(scope="module", params=EACH_DATABASE)
def live_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server process on a fresh SQLite file or PostgreSQL database, for the whole module."""
    log_dir = tmp_path_factory.mktemp(f"live-{request.param}")
    with (
        server_database(request.param, log_dir) as database_url,
        live_server({"KALITO_DATABASE_URL": database_url}, log_dir) as url,
    ):
        yield url


@pytest.fixture
async def api(live_url: str) -> AsyncIterator[HTTPGraphQL]:
    async with http_graphql(live_url) as client:
        yield client


@pytest.fixture
async def ws(live_url: str) -> AsyncIterator[GraphQLWebSocket]:
    async with connected(live_url) as socket:
        yield socket


@pytest.fixture
def prefix() -> str:
    """Session ids of this test start with it."""
    return f"t{uuid.uuid4().hex[:12]}-"


def mine(prefix: str) -> Any:
    return lambda event: event["sessionId"].startswith(prefix)


async def sentinel(api: HTTPGraphQL, session_id: str) -> None:
    """A write whose event must be the next one seen: touchSession of `session_id`."""
    await api.data(TOUCH_SESSION, {"id": session_id})


def is_sentinel(session_id: str) -> Any:
    return lambda event: event["sessionId"] == session_id


async def test_each_session_write_publishes_its_kind_with_the_session_as_committed(
    api: HTTPGraphQL, ws: GraphQLWebSocket, prefix: str
) -> None:
    session_id = prefix + "one"
    await ws.session_events("1", session_id)

    created = (await api.data(CREATE_SESSION, {"input": {"id": session_id, "personaId": "default-cloud"}}))[
        "createSession"
    ]
    event = await ws.next_event("1")
    assert event == {"kind": "CREATED", "sessionId": session_id, "session": created}
    assert event["session"]["persona"]["id"] == "default-cloud"

    updated = (await api.data(UPDATE_SESSION, {"input": {"id": session_id, "name": "Renamed", "recap": "r"}}))[
        "updateSession"
    ]
    event = await ws.next_event("1")
    assert event == {"kind": "UPDATED", "sessionId": session_id, "session": updated}
    assert event["session"]["name"] == "Renamed"
    assert event["session"]["updatedAt"] == updated["updatedAt"]

    saved = (await api.data(SAVE_SESSION, {"id": session_id, "name": "Kept"}))["saveSession"]
    event = await ws.next_event("1")
    assert event == {"kind": "SAVED", "sessionId": session_id, "session": saved}
    assert event["session"]["saved"] is True

    assert (await api.data(DELETE_SESSION, {"id": session_id}))["deleteSession"] == session_id
    assert await ws.next_event("1") == {"kind": "DELETED", "sessionId": session_id, "session": None}


async def test_save_session_that_creates_the_session_publishes_one_saved_event(
    api: HTTPGraphQL, ws: GraphQLWebSocket, prefix: str
) -> None:
    session_id = prefix + "saved"
    await ws.session_events("1", session_id)
    saved = (await api.data(SAVE_SESSION, {"id": session_id, "name": "Straight to the sidebar"}))["saveSession"]
    assert await ws.next_event("1") == {"kind": "SAVED", "sessionId": session_id, "session": saved}
    await sentinel(api, session_id)
    assert (await ws.next_event("1"))["kind"] == "UPDATED"  # the sentinel, so nothing came in between


async def test_touch_session_publishes_created_then_updated(
    api: HTTPGraphQL, ws: GraphQLWebSocket, prefix: str
) -> None:
    session_id = prefix + "touched"
    await ws.session_events("1", session_id)
    first = (await api.data(TOUCH_SESSION, {"id": session_id, "model": "gpt-4.1-nano"}))["touchSession"]
    assert await ws.next_event("1") == {"kind": "CREATED", "sessionId": session_id, "session": first}
    second = (await api.data(TOUCH_SESSION, {"id": session_id}))["touchSession"]
    event = await ws.next_event("1")
    assert event == {"kind": "UPDATED", "sessionId": session_id, "session": second}
    assert event["session"]["model"] == "gpt-4.1-nano"


async def test_append_message_publishes_created_for_the_first_message_then_updated(
    api: HTTPGraphQL, ws: GraphQLWebSocket, prefix: str
) -> None:
    session_id = prefix + "talk"
    await ws.session_events("1", session_id)
    say = {"sessionId": session_id, "role": "USER", "text": "Tell me about Poe"}

    await api.data(APPEND_MESSAGE, {"input": say})
    after_first = (await api.data(SESSION, {"id": session_id}))["session"]
    event = await ws.next_event("1")
    assert event == {"kind": "CREATED", "sessionId": session_id, "session": after_first}
    assert event["session"]["messageCount"] == 1

    await api.data(APPEND_MESSAGE, {"input": {**say, "role": "ASSISTANT", "text": "Edgar Allan Poe..."}})
    after_second = (await api.data(SESSION, {"id": session_id}))["session"]
    event = await ws.next_event("1")
    assert event == {"kind": "UPDATED", "sessionId": session_id, "session": after_second}
    assert event["session"]["messageCount"] == 2


REMEMBERED_EVENTS = """
subscription Remembered($id: ID) {
  sessionEvents(id: $id) { kind sessionId session { updatedAt pins { id } summaries { id } } }
}
"""


async def test_pins_and_summaries_publish_updated_for_their_session_without_moving_updated_at(
    api: HTTPGraphQL, ws: GraphQLWebSocket, prefix: str
) -> None:
    session_id = prefix + "remembers"
    created = (await api.data(CREATE_SESSION, {"input": {"id": session_id}}))["createSession"]
    await ws.session_events("1", session_id)
    await ws.subscribe("2", REMEMBERED_EVENTS, {"id": session_id})

    def remembered(pins: list[str], summaries: list[str]) -> dict[str, Any]:
        session = {"updatedAt": created["updatedAt"], "pins": [{"id": pin} for pin in pins]}
        return {
            "kind": "UPDATED",
            "sessionId": session_id,
            "session": {**session, "summaries": [{"id": summary} for summary in summaries]},
        }

    async def published(pins: list[str], summaries: list[str]) -> None:
        # the session as it was created, each time: its updatedAt did not move
        assert await ws.next_event("1") == {"kind": "UPDATED", "sessionId": session_id, "session": created}
        # resolved as the event is delivered, after its write committed: it sees what the write made
        assert (await ws.next_data("2"))["sessionEvents"] == remembered(pins, summaries)

    pin = (await api.data(CREATE_PIN, {"input": {"sessionId": session_id, "content": "Likes tea."}}))["createPin"]["id"]
    await published([pin], [])
    summary = (await api.data(CREATE_SUMMARY, {"input": {"sessionId": session_id, "text": "Tea.", "messageCount": 0}}))[
        "createSummary"
    ]["id"]
    await published([pin], [summary])
    assert (await api.data(DELETE_PIN, {"id": pin}))["deletePin"] == pin
    await published([], [summary])
    assert (await api.data(DELETE_SUMMARY, {"id": summary}))["deleteSummary"] == summary
    await published([], [])


async def test_delete_sessions_publishes_one_deleted_event_per_deleted_id(
    api: HTTPGraphQL, ws: GraphQLWebSocket, prefix: str
) -> None:
    first, second, unknown = prefix + "a", prefix + "b", prefix + "never-there"
    for session_id in (first, second):
        await api.data(CREATE_SESSION, {"input": {"id": session_id}})
    await ws.session_events("all")

    deleted = (await api.data(DELETE_SESSIONS, {"ids": [first, unknown, second]}))["deleteSessions"]
    assert sorted(deleted) == [first, second]
    await sentinel(api, prefix + "sentinel")

    events = await ws.events_until("all", is_sentinel(prefix + "sentinel"), keep=mine(prefix))
    assert sorted((event["kind"], event["sessionId"], event["session"]) for event in events[:-1]) == [
        ("DELETED", first, None),
        ("DELETED", second, None),
    ]
    assert events[-1]["kind"] == "CREATED"


async def test_purge_publishes_one_deleted_event_per_purged_session(
    api: HTTPGraphQL, ws: GraphQLWebSocket, prefix: str
) -> None:
    ephemeral = [prefix + "e1", prefix + "e2"]
    for session_id in ephemeral:
        await api.data(CREATE_SESSION, {"input": {"id": session_id}})
    await api.data(CREATE_SESSION, {"input": {"id": prefix + "kept", "saved": True}})
    await ws.session_events("all")

    purged = (await api.data(PURGE_EPHEMERAL, {"idleSeconds": 0}))["purgeEphemeralSessions"]
    assert purged >= 2  # other tests' ephemeral sessions on this server go too
    await sentinel(api, prefix + "sentinel")

    events = await ws.events_until("all", is_sentinel(prefix + "sentinel"), keep=mine(prefix))
    assert sorted((event["kind"], event["sessionId"], event["session"]) for event in events[:-1]) == [
        ("DELETED", session_id, None) for session_id in ephemeral
    ]


async def test_persona_mutations_publish_nothing(api: HTTPGraphQL, ws: GraphQLWebSocket, prefix: str) -> None:
    persona_id, session_id = prefix + "persona", prefix + "with-persona"
    await api.data(
        "mutation($input: CreatePersonaInput!) { createPersona(input: $input) { id } }",
        {"input": {"id": persona_id, "name": "Poet", "prompt": "Answer in verse."}},
    )
    await api.data(CREATE_SESSION, {"input": {"id": session_id, "personaId": persona_id}})
    await ws.session_events("all")

    await api.data(
        "mutation($input: CreatePersonaInput!) { createPersona(input: $input) { id } }",
        {"input": {"id": persona_id + "-2", "name": "Critic", "prompt": "Be brief."}},
    )
    await api.data(
        "mutation($input: UpdatePersonaInput!) { updatePersona(input: $input) { id } }",
        {"input": {"id": persona_id, "name": "Poet laureate"}},
    )
    await api.data("mutation($id: ID!) { deletePersona(id: $id) }", {"id": persona_id})
    await sentinel(api, prefix + "sentinel")

    [event] = await ws.events_until("all", lambda event: True, keep=mine(prefix))
    assert (event["kind"], event["sessionId"]) == ("CREATED", prefix + "sentinel")
    # the persona's deletion did reach the session, without an event
    assert (await api.data(SESSION, {"id": session_id}))["session"]["personaId"] is None


async def test_a_subscription_to_one_session_sees_only_its_events_and_one_to_all_sees_all(
    api: HTTPGraphQL, ws: GraphQLWebSocket, prefix: str
) -> None:
    watched, other = prefix + "watched", prefix + "other"
    await ws.session_events("one", watched)
    await ws.session_events("all")

    await api.data(CREATE_SESSION, {"input": {"id": other}})
    await api.data(CREATE_SESSION, {"input": {"id": watched}})
    await api.data(UPDATE_SESSION, {"input": {"id": other, "name": "Elsewhere"}})
    await api.data(DELETE_SESSION, {"id": watched})

    assert [
        (event["kind"], event["sessionId"])
        for event in await ws.events_until("all", lambda event: event["kind"] == "DELETED", keep=mine(prefix))
    ] == [("CREATED", other), ("CREATED", watched), ("UPDATED", other), ("DELETED", watched)]
    assert [
        (event["kind"], event["sessionId"])
        for event in await ws.events_until("one", lambda event: event["kind"] == "DELETED")
    ] == [("CREATED", watched), ("DELETED", watched)]


async def test_two_connections_watching_one_session_both_get_its_events(
    api: HTTPGraphQL, ws: GraphQLWebSocket, live_url: str, prefix: str
) -> None:
    session_id = prefix + "shared"
    async with connected(live_url) as other:
        await ws.session_events("1", session_id)
        await other.session_events("1", session_id)
        await api.data(CREATE_SESSION, {"input": {"id": session_id}})
        assert (await ws.next_event("1"))["kind"] == "CREATED"
        assert (await other.next_event("1"))["kind"] == "CREATED"


async def test_a_malformed_session_id_is_an_error_message_naming_the_field(ws: GraphQLWebSocket) -> None:
    await ws.session_events("bad", "a b", sync=False)
    message = await ws.next_message("bad")
    assert message["type"] == "error", message
    [error] = message["payload"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "id"
    # the connection is still usable
    await ws.ping()


async def test_refused_writes_publish_nothing(api: HTTPGraphQL, ws: GraphQLWebSocket, prefix: str) -> None:
    session_id, unborn = prefix + "x", prefix + "unborn"
    created = (await api.data(CREATE_SESSION, {"input": {"id": session_id, "name": "Original"}}))["createSession"]
    await ws.session_events("all")

    refused: list[tuple[str, dict[str, Any], str]] = [
        (CREATE_SESSION, {"input": {"id": session_id, "name": "Twin"}}, "CONFLICT"),
        (UPDATE_SESSION, {"input": {"id": session_id, "name": "Late", "expectedUpdatedAt": STALE}}, "CONFLICT"),
        (UPDATE_SESSION, {"input": {"id": session_id, "name": " "}}, "BAD_USER_INPUT"),
        (UPDATE_SESSION, {"input": {"id": session_id, "personaId": "no-such-persona"}}, "BAD_USER_INPUT"),
        (UPDATE_SESSION, {"input": {"id": unborn, "name": "Ghost"}}, "NOT_FOUND"),
        (SAVE_SESSION, {"id": unborn, "name": "x" * 201}, "BAD_USER_INPUT"),
        (TOUCH_SESSION, {"id": unborn, "personaId": "no-such-persona"}, "BAD_USER_INPUT"),
        (APPEND_MESSAGE, {"input": {"sessionId": unborn, "role": "USER", "text": ""}}, "BAD_USER_INPUT"),
        (
            APPEND_MESSAGE,
            {"input": {"sessionId": session_id, "role": "USER", "text": "ok", "tokenUsage": -1}},
            "BAD_USER_INPUT",
        ),
        (DELETE_SESSION, {"id": unborn}, "NOT_FOUND"),
        (PURGE_EPHEMERAL, {"idleSeconds": -1}, "BAD_USER_INPUT"),
        (CREATE_PIN, {"input": {"sessionId": unborn, "content": "c"}}, "BAD_USER_INPUT"),
        (CREATE_PIN, {"input": {"sessionId": session_id, "content": "c", "importance": 2}}, "BAD_USER_INPUT"),
        (DELETE_PIN, {"id": "pin_1_nosuchpin"}, "NOT_FOUND"),
        (CREATE_SUMMARY, {"input": {"sessionId": session_id, "text": "", "messageCount": 1}}, "BAD_USER_INPUT"),
        (DELETE_SUMMARY, {"id": "summary_1_nosuchone"}, "NOT_FOUND"),
    ]
    for query, variables, code in refused:
        assert await api.error_code(query, variables) == code, (query, variables)

    sentinel_name = "After the refusals"
    answer = (await api.data(UPDATE_SESSION, {"input": {"id": session_id, "name": sentinel_name}}))["updateSession"]
    events = await ws.events_until("all", lambda event: True, keep=mine(prefix))
    assert events == [{"kind": "UPDATED", "sessionId": session_id, "session": answer}]
    assert (await api.data(SESSION, {"id": session_id}))["session"]["createdAt"] == created["createdAt"]
    assert (await api.data(SESSION, {"id": unborn}))["session"] is None


async def test_a_completed_subscription_gets_no_more_events(
    api: HTTPGraphQL, ws: GraphQLWebSocket, prefix: str
) -> None:
    session_id = prefix + "done"
    await ws.session_events("stopped", session_id)
    await ws.session_events("running", session_id)
    await ws.complete("stopped")
    await ws.ping()
    await api.data(CREATE_SESSION, {"input": {"id": session_id}})
    await api.data(DELETE_SESSION, {"id": session_id})
    # every message of the connection, in order, until the running subscription's last event
    kinds: list[str] = []
    while len(kinds) < 2:
        message = await ws.receive()
        assert message["id"] == "running", message
        kinds.append(message["payload"]["data"]["sessionEvents"]["kind"])
    assert kinds == ["CREATED", "DELETED"]
    # the id is free again
    await ws.session_events("stopped", session_id)
    await api.data(CREATE_SESSION, {"input": {"id": session_id}})
    assert (await ws.next_event("stopped"))["kind"] == "CREATED"
