"""Messages (api.md §2-5): appendMessage, its input rules, Session.messages and messageCount,
and the messages going with their session when it is deleted or purged.

Bodies of the input-rule tests are encoded here with non-ASCII characters escaped, as
browsers' JSON.stringify sends a lone surrogate (httpx's `json=` cannot encode one).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import models

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient

MESSAGE_FIELDS = "id sessionId role text model tokenUsage createdAt"

APPEND_MESSAGE = f"""
mutation ($input: AppendMessageInput!) {{
  appendMessage(input: $input) {{ {MESSAGE_FIELDS} }}
}}
"""
APPEND_MESSAGE_WITH_LITERAL_ROLE = """
mutation ($sessionId: ID!) {
  appendMessage(input: {sessionId: $sessionId, role: ROBOT, text: "Hello"}) { id }
}
"""
SESSION = """
query ($id: ID!) {
  session(id: $id) { id name saved createdAt updatedAt messageCount }
}
"""
SESSION_MESSAGES = f"""
query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {{
  session(id: $id) {{
    messageCount
    messages(first: $first, after: $after, last: $last, before: $before) {{
      edges {{ cursor node {{ {MESSAGE_FIELDS} }} }}
      pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
      totalCount
    }}
  }}
}}
"""
SESSIONS_CURSOR = "query { sessions { pageInfo { endCursor } } }"
DELETE_SESSION = "mutation ($id: ID!) { deleteSession(id: $id) }"
DELETE_SESSIONS = "mutation ($ids: [ID!]!) { deleteSessions(ids: $ids) }"
PURGE = "mutation ($idleSeconds: Int) { purgeEphemeralSessions(idleSeconds: $idleSeconds) }"

# A moment in the past with millisecond precision, as the API stores and shows it.
LONG_AGO = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
LONG_AGO_TEXT = "2025-09-16T10:08:36.188Z"
LONE_SURROGATE = "\ud800"
TEXT_MAX = 100_000
NO_PAGE = {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}


# --- arranging through the models ----------------------------------------------------------


async def a_session(session_id: str, **columns: Any) -> models.Session:
    """A session row as a test arranges it: written long ago unless told otherwise."""
    values = {"name": "Groceries", "created_at": LONG_AGO, "updated_at": LONG_AGO, **columns}
    return await models.Session.create(id=session_id, **values)


async def messages_in(session_id: str, texts: list[str], *, same_moment_from: int | None = None) -> None:
    """Messages one millisecond apart, oldest first; from `same_moment_from` on they all share
    one moment, so that only their ids keep them in order."""
    rows = []
    for index, text in enumerate(texts):
        tick = index if same_moment_from is None else min(index, same_moment_from)
        rows.append(
            models.Message(
                session_id=session_id,
                role=models.MessageRole.USER if index % 2 == 0 else models.MessageRole.ASSISTANT,
                text=text,
                created_at=LONG_AGO + timedelta(milliseconds=tick),
            )
        )
    for message in rows:  # one by one, so that ids grow with the order given
        await message.save()


async def stored_messages(session_id: str | None = None) -> list[dict[str, Any]]:
    rows = models.Message.all() if session_id is None else models.Message.filter(session_id=session_id)
    return await rows.order_by("created_at", "id").values("session_id", "role", "text", "model", "token_usage")


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables})  # ASCII, escapes and all
    response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})
    answer: dict[str, Any] = response.json()
    return answer


def parse_api_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def a_message(**values: Any) -> dict[str, Any]:
    return {"sessionId": "chat-1", "role": "USER", "text": "Hello", **values}


# --- appendMessage ---------------------------------------------------------------------------


async def test_append_returns_the_message_with_every_field(gql: GraphQLClient, db: str) -> None:
    await a_session("chat-1")
    variables = {"input": a_message(role="ASSISTANT", text="Hi! How can I help?", model="llama3.1:8b", tokenUsage=42)}

    message = (await gql.data(APPEND_MESSAGE, variables))["appendMessage"]

    assert message == {
        "id": message["id"],
        "sessionId": "chat-1",
        "role": "ASSISTANT",
        "text": "Hi! How can I help?",
        "model": "llama3.1:8b",
        "tokenUsage": 42,
        "createdAt": message["createdAt"],
    }
    stored = await models.Message.get(id=int(message["id"]))
    assert (stored.session_id, stored.role, stored.text, stored.model, stored.token_usage) == (
        "chat-1",
        models.MessageRole.ASSISTANT,
        "Hi! How can I help?",
        "llama3.1:8b",
        42,
    )


async def test_append_without_model_and_token_usage_leaves_them_null(gql: GraphQLClient, db: str) -> None:
    message = (await gql.data(APPEND_MESSAGE, {"input": a_message()}))["appendMessage"]

    assert (message["model"], message["tokenUsage"]) == (None, None)


async def test_the_first_message_of_an_unknown_session_creates_a_transient_new_chat(
    gql: GraphQLClient, db: str
) -> None:
    message = (await gql.data(APPEND_MESSAGE, {"input": a_message(sessionId="fresh-uuid-1")}))["appendMessage"]

    session = (await gql.data(SESSION, {"id": "fresh-uuid-1"}))["session"]
    assert session == {
        "id": "fresh-uuid-1",
        "name": "New Chat",
        "saved": False,
        "createdAt": message["createdAt"],
        "updatedAt": message["createdAt"],
        "messageCount": 1,
    }


async def test_every_message_bumps_the_session_updated_at_to_its_created_at(gql: GraphQLClient, db: str) -> None:
    await a_session("chat-1")
    moments = [LONG_AGO_TEXT]

    for text in ["one", "two", "three", "four"]:
        message = (await gql.data(APPEND_MESSAGE, {"input": a_message(text=text)}))["appendMessage"]
        session = (await gql.data(SESSION, {"id": "chat-1"}))["session"]
        assert message["createdAt"] == session["updatedAt"]
        moments.append(session["updatedAt"])

    as_times = [parse_api_time(moment) for moment in moments]
    assert as_times == sorted(set(as_times)), "updatedAt must strictly increase with every message"
    assert session["createdAt"] == LONG_AGO_TEXT


async def test_appending_to_a_saved_session_keeps_it_saved_and_named(gql: GraphQLClient, db: str) -> None:
    await a_session("chat-1", name="Trip plans", saved=True)

    await gql.data(APPEND_MESSAGE, {"input": a_message()})

    session = (await gql.data(SESSION, {"id": "chat-1"}))["session"]
    assert (session["name"], session["saved"], session["messageCount"]) == ("Trip plans", True, 1)


async def test_appended_messages_come_back_oldest_first(gql: GraphQLClient, db: str) -> None:
    conversation = [("USER", "What is 2 + 2?"), ("ASSISTANT", "4."), ("USER", "Thanks"), ("SYSTEM", "Saved.")]
    appended = []
    for role, text in conversation:
        appended.append((await gql.data(APPEND_MESSAGE, {"input": a_message(role=role, text=text)}))["appendMessage"])

    session = (await gql.data(SESSION_MESSAGES, {"id": "chat-1"}))["session"]

    assert [edge["node"] for edge in session["messages"]["edges"]] == appended
    assert [(node["role"], node["text"]) for node in appended] == conversation
    assert session["messageCount"] == session["messages"]["totalCount"] == 4


# --- appendMessage input rules ---------------------------------------------------------------


BAD_MESSAGES = [
    pytest.param({"sessionId": ""}, "sessionId", id="session-id-empty"),
    pytest.param({"sessionId": "has space"}, "sessionId", id="session-id-space"),
    pytest.param({"sessionId": "a" * 65}, "sessionId", id="session-id-65-chars"),
    pytest.param({"sessionId": "caf\u00e9"}, "sessionId", id="session-id-non-ascii"),
    pytest.param({"sessionId": "a\x00b"}, "sessionId", id="session-id-nul"),
    pytest.param({"text": ""}, "text", id="text-empty"),
    pytest.param({"text": "a" * (TEXT_MAX + 1)}, "text", id="text-100001-chars"),
    pytest.param({"text": "a\x00b"}, "text", id="text-nul"),
    pytest.param({"text": "a" + LONE_SURROGATE + "b"}, "text", id="text-lone-surrogate"),
    pytest.param({"model": ""}, "model", id="model-empty"),
    pytest.param({"model": "m" * 101}, "model", id="model-101-chars"),
    pytest.param({"model": "llama\n3"}, "model", id="model-control-char"),
    pytest.param({"model": "llama" + LONE_SURROGATE}, "model", id="model-lone-surrogate"),
    pytest.param({"tokenUsage": -1}, "tokenUsage", id="token-usage-negative"),
]


# Each bad value aimed at an unknown session (which must not be created) and, when the id itself
# is valid, at an existing one (whose updatedAt must not move).
BAD_MESSAGE_TARGETS = [
    pytest.param(existing, *bad.values, id=f"{'existing' if existing else 'unknown'}-session-{bad.id}")
    for existing in (False, True)
    for bad in BAD_MESSAGES
    if not (existing and bad.values[1] == "sessionId")
]


@pytest.mark.parametrize(("existing", "bad", "field"), BAD_MESSAGE_TARGETS)
async def test_a_bad_message_is_bad_user_input_naming_the_field_and_writes_nothing(
    http: httpx.AsyncClient, db: str, existing: bool, bad: dict[str, Any], field: str
) -> None:
    if existing:
        await a_session("chat-1")
    sessions_before = await models.Session.all().values()

    body = await post(http, APPEND_MESSAGE, {"input": a_message(**bad)})

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert await models.Session.all().values() == sessions_before
    assert await stored_messages() == []


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"role": "ROBOT"}, id="role-unknown"),
        pytest.param({"role": "user"}, id="role-lowercase"),
        pytest.param({"role": ""}, id="role-empty"),
        pytest.param({"role": None}, id="role-null"),
        pytest.param({"text": None}, id="text-null"),
        pytest.param({"tokenUsage": 2**31}, id="token-usage-beyond-32-bits"),
        pytest.param({"tokenUsage": "12"}, id="token-usage-string"),
        pytest.param({"tokenUsage": 1.5}, id="token-usage-fraction"),
    ],
)
async def test_a_value_the_graphql_types_refuse_is_bad_user_input_and_writes_nothing(
    gql: GraphQLClient, db: str, bad: dict[str, Any]
) -> None:
    """Refused while GraphQL coerces the variables, before the rules of the data are asked."""
    error = await gql.error(APPEND_MESSAGE, {"input": a_message(**bad)})

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": next(iter(bad))}
    assert await models.Session.exists(id="chat-1") is False
    assert await stored_messages() == []


async def test_a_role_outside_the_enum_in_the_document_fails_validation_and_writes_nothing(
    gql: GraphQLClient, db: str
) -> None:
    error = await gql.error(APPEND_MESSAGE_WITH_LITERAL_ROLE, {"sessionId": "chat-1"})

    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert await models.Session.exists(id="chat-1") is False
    assert await stored_messages() == []


@pytest.mark.parametrize(
    ("values", "stored"),
    [
        pytest.param({"text": "a" * TEXT_MAX}, ("a" * TEXT_MAX, None, None), id="text-100000-chars"),
        pytest.param({"text": "x", "tokenUsage": 0}, ("x", None, 0), id="token-usage-zero"),
        pytest.param({"text": "x", "model": "m" * 100}, ("x", "m" * 100, None), id="model-100-chars"),
        pytest.param(
            {"text": "\u00e9\u4e2d\U0001f600\n\ttabs"},
            ("\u00e9\u4e2d\U0001f600\n\ttabs", None, None),
            id="text-any-unicode",
        ),
        pytest.param({"sessionId": "A" * 64, "text": "x"}, ("x", None, None), id="session-id-64-chars"),
    ],
)
async def test_values_at_the_limits_of_the_rules_are_accepted(
    gql: GraphQLClient, db: str, values: dict[str, Any], stored: tuple[str, str | None, int | None]
) -> None:
    message = (await gql.data(APPEND_MESSAGE, {"input": a_message(**values)}))["appendMessage"]

    assert (message["text"], message["model"], message["tokenUsage"]) == stored
    assert [(row["text"], row["model"], row["token_usage"]) for row in await stored_messages()] == [stored]


# --- Session.messages: pagination ------------------------------------------------------------

TEXTS = [f"message {number}" for number in range(7)]


async def page_of(gql: GraphQLClient, **arguments: Any) -> dict[str, Any]:
    page: dict[str, Any] = (await gql.data(SESSION_MESSAGES, {"id": "chat-1", **arguments}))["session"]["messages"]
    return page


def texts_of(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["text"] for edge in page["edges"]]


def summary(page: dict[str, Any]) -> tuple[list[str], bool, bool]:
    return texts_of(page), page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"]


@pytest.fixture(params=[None, 3], ids=["distinct-moments", "shared-moments"])
async def seven_messages(request: pytest.FixtureRequest, db: str) -> None:
    """Seven messages in chat-1, and one in another session that must never show; with
    shared moments, messages 3 to 6 were written in the same millisecond."""
    await a_session("chat-1")
    await a_session("chat-2")
    await messages_in("chat-1", TEXTS, same_moment_from=request.param)
    await messages_in("chat-2", ["not mine"])


async def test_first_and_after_walk_every_message_forward_once(gql: GraphQLClient, seven_messages: None) -> None:
    pages = [await page_of(gql, first=3)]
    while pages[-1]["pageInfo"]["hasNextPage"]:
        pages.append(await page_of(gql, first=3, after=pages[-1]["pageInfo"]["endCursor"]))

    assert [summary(page) for page in pages] == [
        (TEXTS[0:3], False, True),
        (TEXTS[3:6], True, True),
        (TEXTS[6:7], True, False),
    ]
    for page in pages:
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        assert page["totalCount"] == 7


async def test_last_and_before_walk_every_message_backward_once(gql: GraphQLClient, seven_messages: None) -> None:
    pages = [await page_of(gql, last=3)]
    while pages[-1]["pageInfo"]["hasPreviousPage"]:
        pages.append(await page_of(gql, last=3, before=pages[-1]["pageInfo"]["startCursor"]))

    assert [summary(page) for page in pages] == [
        (TEXTS[4:7], True, False),
        (TEXTS[1:4], True, True),
        (TEXTS[0:1], False, True),
    ]
    for page in pages:
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        assert page["totalCount"] == 7


async def test_a_message_has_the_same_cursor_on_every_page_it_shows_on(
    gql: GraphQLClient, seven_messages: None
) -> None:
    """The first page is read in a batch, the next ones by cursor: their cursors must agree."""
    whole = await page_of(gql, first=100)
    after_first = await page_of(gql, first=100, after=whole["edges"][0]["cursor"])
    before_last = await page_of(gql, last=100, before=whole["edges"][-1]["cursor"])
    newest = await page_of(gql, last=100)

    assert texts_of(whole) == texts_of(newest) == TEXTS
    assert after_first["edges"] == whole["edges"][1:]
    assert before_last["edges"] == whole["edges"][:-1]
    assert newest["edges"] == whole["edges"]


async def test_after_and_before_together_give_the_messages_between(gql: GraphQLClient, seven_messages: None) -> None:
    """With `first`, hasNextPage says whether the window holds more (Relay's HasNextPage), so it
    is false here although messages follow `before`."""
    whole = await page_of(gql, first=100)

    between = await page_of(gql, first=10, after=whole["edges"][1]["cursor"], before=whole["edges"][5]["cursor"])

    assert summary(between) == (TEXTS[2:5], True, False)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        pytest.param({"first": 7}, (TEXTS, False, False), id="first-all"),
        pytest.param({"first": 100}, (TEXTS, False, False), id="first-100"),
        pytest.param({"last": 7}, (TEXTS, False, False), id="last-all"),
        pytest.param({"first": 1}, (TEXTS[:1], False, True), id="first-1"),
        pytest.param({"last": 1}, (TEXTS[-1:], True, False), id="last-1"),
        pytest.param({}, (TEXTS, False, False), id="default"),
    ],
)
async def test_a_page_without_cursor_holds_the_oldest_or_newest_messages(
    gql: GraphQLClient, seven_messages: None, arguments: dict[str, Any], expected: tuple[list[str], bool, bool]
) -> None:
    page = await page_of(gql, **arguments)

    assert summary(page) == expected


async def test_the_default_page_holds_the_20_oldest_messages(gql: GraphQLClient, db: str) -> None:
    await a_session("chat-1")
    texts = [f"message {number:02d}" for number in range(25)]
    await messages_in("chat-1", texts)

    session = (await gql.data(SESSION_MESSAGES, {"id": "chat-1"}))["session"]

    assert summary(session["messages"]) == (texts[:20], False, True)
    assert session["messageCount"] == session["messages"]["totalCount"] == 25


async def test_a_session_without_messages_has_an_empty_connection(gql: GraphQLClient, db: str) -> None:
    await a_session("chat-1")

    for arguments in ({}, {"first": 5}, {"last": 5}):
        session = (await gql.data(SESSION_MESSAGES, {"id": "chat-1", **arguments}))["session"]
        assert session == {"messageCount": 0, "messages": {"edges": [], "pageInfo": NO_PAGE, "totalCount": 0}}


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        pytest.param({"first": 0}, "first", id="first-0"),
        pytest.param({"first": 101}, "first", id="first-101"),
        pytest.param({"first": -1}, "first", id="first-negative"),
        pytest.param({"last": 0}, "last", id="last-0"),
        pytest.param({"last": 101}, "last", id="last-101"),
        pytest.param({"first": 3, "last": 3}, "last", id="first-and-last"),
        pytest.param({"first": 3, "after": "not-a-cursor"}, "after", id="after-garbage"),
        pytest.param({"first": 3, "after": "W10"}, "after", id="after-empty-json-list"),
        pytest.param({"last": 3, "before": "not-a-cursor"}, "before", id="before-garbage"),
    ],
)
async def test_bad_page_arguments_are_bad_user_input_naming_the_field(
    gql: GraphQLClient, seven_messages: None, arguments: dict[str, Any], field: str
) -> None:
    error = await gql.error(SESSION_MESSAGES, {"id": "chat-1", **arguments})

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert error["path"] == ["session", "messages"]


async def test_a_cursor_of_the_sessions_list_is_not_a_messages_cursor(gql: GraphQLClient, seven_messages: None) -> None:
    await a_session("chat-3", saved=True)
    sessions_cursor = (await gql.data(SESSIONS_CURSOR))["sessions"]["pageInfo"]["endCursor"]

    error = await gql.error(SESSION_MESSAGES, {"id": "chat-1", "first": 3, "after": sessions_cursor})

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_a_field_failing_beside_a_shared_load_leaves_the_other_fields_answered(
    gql: GraphQLClient, seven_messages: None
) -> None:
    """Two fields await one key's load. When `messages` fails, graphql-core cancels its non-null
    parent's other fields; the other alias must still get its count (one future shared by both
    loads once raised CancelledError there, and the request ended without an answer)."""
    query = """query ($id: ID!) {
      failing: session(id: $id) { messageCount messages(first: 0) { totalCount } }
      answered: session(id: $id) { messageCount }
    }"""
    body = await gql(query, {"id": "chat-1"})

    assert body["data"] == {"failing": None, "answered": {"messageCount": 7}}
    assert [error["path"] for error in body["errors"]] == [["failing", "messages"]]


MANY_TEXTS = [f"message {number:02d}" for number in range(12)]
# Examples of one property share one database, which they only read.
SHARED_DATABASE = hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
async def twelve_messages(db: str) -> None:
    """Twelve messages in chat-1, the last five written in the same millisecond."""
    await a_session("chat-1")
    await a_session("chat-2")
    await messages_in("chat-1", MANY_TEXTS, same_moment_from=7)
    await messages_in("chat-2", ["not mine"])


@SHARED_DATABASE
@given(size=st.integers(1, 13), backward=st.booleans())
async def test_walking_pages_of_any_size_either_way_shows_every_message_once_in_order(
    gql: GraphQLClient, twelve_messages: None, size: int, backward: bool
) -> None:
    seen: list[str] = []
    page = await page_of(gql, **({"last": size} if backward else {"first": size}))
    while True:
        seen = texts_of(page) + seen if backward else seen + texts_of(page)
        assert len(page["edges"]) == min(size, len(MANY_TEXTS) - len(seen) + len(page["edges"]))
        if backward and page["pageInfo"]["hasPreviousPage"]:
            page = await page_of(gql, last=size, before=page["pageInfo"]["startCursor"])
        elif not backward and page["pageInfo"]["hasNextPage"]:
            page = await page_of(gql, first=size, after=page["pageInfo"]["endCursor"])
        else:
            break

    assert seen == MANY_TEXTS


def forged_cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


# Any text at all, lone surrogates included (hypothesis leaves them out by default).
_any_text = st.text(st.characters(exclude_categories=()))
_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _any_text)
_moments = st.datetimes(timezones=st.timezones() | st.none()).map(datetime.isoformat)
_cursors = st.one_of(
    _any_text,
    st.lists(_json_scalars, max_size=4).map(lambda parts: forged_cursor(*parts)),
    st.tuples(st.just("OLDEST_FIRST"), _any_text | _moments, _any_text | st.integers()).map(
        lambda parts: forged_cursor(*parts)
    ),
)


@SHARED_DATABASE
@given(cursor=_cursors, argument=st.sampled_from(["after", "before"]))
async def test_any_cursor_either_pages_or_is_bad_user_input_naming_it(
    http: httpx.AsyncClient, twelve_messages: None, cursor: str, argument: str
) -> None:
    size = {"first": 5} if argument == "after" else {"last": 5}

    body = await post(http, SESSION_MESSAGES, {"id": "chat-1", **size, argument: cursor})

    if "errors" in body:
        [error] = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": argument}
    else:
        assert set(texts_of(body["data"]["session"]["messages"])) <= set(MANY_TEXTS)


# --- deleting a session deletes its messages -------------------------------------------------


@pytest.fixture
async def three_conversations(db: str) -> None:
    """Three ephemeral sessions idle since long ago, with two messages each."""
    for session_id in ("chat-1", "chat-2", "chat-3"):
        await a_session(session_id)
        await messages_in(session_id, [f"{session_id} question", f"{session_id} answer"])


async def sessions_with_messages() -> list[str]:
    return sorted({row["session_id"] for row in await models.Message.all().values("session_id")})


@pytest.mark.parametrize(
    ("mutation", "variables", "answer", "gone"),
    [
        pytest.param(DELETE_SESSION, {"id": "chat-2"}, {"deleteSession": "chat-2"}, ["chat-2"], id="deleteSession"),
        pytest.param(
            DELETE_SESSIONS,
            {"ids": ["chat-3", "chat-1", "unknown"]},
            {"deleteSessions": ["chat-3", "chat-1"]},
            ["chat-1", "chat-3"],
            id="deleteSessions",
        ),
    ],
)
async def test_deleting_sessions_deletes_their_messages_only(
    gql: GraphQLClient,
    three_conversations: None,
    mutation: str,
    variables: dict[str, Any],
    answer: dict[str, Any],
    gone: list[str],
) -> None:
    assert await gql.data(mutation, variables) == answer

    kept = [session_id for session_id in ("chat-1", "chat-2", "chat-3") if session_id not in gone]
    assert await sessions_with_messages() == kept
    assert await models.Message.filter(session_id__in=gone).count() == 0
    assert await models.Message.all().count() == 2 * len(kept)


async def test_purging_ephemeral_sessions_deletes_their_messages_only(
    gql: GraphQLClient, three_conversations: None
) -> None:
    await models.Session.filter(id="chat-2").update(saved=True)

    assert await gql.data(PURGE, {"idleSeconds": 60}) == {"purgeEphemeralSessions": 2}

    assert await sessions_with_messages() == ["chat-2"]
    assert [(row["role"], row["text"]) for row in await stored_messages("chat-2")] == [
        (models.MessageRole.USER, "chat-2 question"),
        (models.MessageRole.ASSISTANT, "chat-2 answer"),
    ]
