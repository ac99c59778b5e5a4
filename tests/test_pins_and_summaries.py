"""Pins and summaries (api.md §8): createPin, deletePin, createSummary, deleteSummary, their
rules, Session.pins and Session.summaries in their orders, and that they go with their session.

The two kinds are written alike (models/session_memory.py), so most tests run on each. Every
document is sent twice (the second send is answered by the compiled plan) and the answers
compared.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from tortoise.models import Model

import models
from web.sweeper import sweep_forever

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient

PIN_FIELDS = "id sessionId content sourceMessageId importance type createdAt"
SUMMARY_FIELDS = "id sessionId text messageCount startMessageId endMessageId importance createdAt"
LONG_AGO = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
LONG_AGO_TEXT = "2025-09-16T10:08:36.188Z"
TEXT_MAX = 20_000


@dataclass(frozen=True)
class Kind:
    """What the tests need to know of pins or of summaries."""

    name: str  # as in the mutations' names and the ids' prefix
    model: type[Model]
    fields: str
    text: str  # the field holding the text
    required: dict[str, Any]  # the input's other required fields
    defaults: dict[str, Any]  # what an input that leaves the rest out gets
    message_fields: tuple[str, ...]  # the fields naming a message of the session

    @property
    def create(self) -> str:
        title = self.name.capitalize()
        return (
            f"mutation Create{title}($input: Create{title}Input!) "
            f"{{ create{title}(input: $input) {{ {self.fields} }} }}"
        )

    @property
    def delete(self) -> str:
        return f"mutation Delete{self.name.capitalize()}($id: ID!) {{ delete{self.name.capitalize()}(id: $id) }}"

    def input(self, **values: Any) -> dict[str, Any]:
        return {"sessionId": "chat", self.text: "Remember this.", **self.required, **values}


PIN = Kind(
    "pin",
    models.Pin,
    PIN_FIELDS,
    "content",
    {},
    {"sourceMessageId": None, "importance": 0.8, "type": "MANUAL"},
    ("sourceMessageId",),
)
SUMMARY = Kind(
    "summary",
    models.Summary,
    SUMMARY_FIELDS,
    "text",
    {"messageCount": 4},
    {"startMessageId": None, "endMessageId": None, "importance": 0.7},
    ("startMessageId", "endMessageId"),
)
KINDS = [pytest.param(PIN, id="pin"), pytest.param(SUMMARY, id="summary")]


async def a_session(session_id: str = "chat", **columns: Any) -> None:
    values = {"name": "Chat", "created_at": LONG_AGO, "updated_at": LONG_AGO, **columns}
    await models.Session.create(id=session_id, **values)


async def a_message(session_id: str = "chat", text: str = "Hello") -> str:
    message = await models.Message.create(
        session_id=session_id, role=models.MessageRole.USER, text=text, created_at=LONG_AGO
    )
    await models.chain_every_session()  # written straight to the table: placed as appends place them
    return str(message.id)


async def sent_twice(gql: GraphQLClient, query: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
    """Both answers: strawberry's, then the plan's."""
    return [await gql(query, variables) for _ in range(2)]


def without_new_values(answer: dict[str, Any]) -> dict[str, Any]:
    """A create's answer without what each create makes anew (its id and moment)."""
    (created,) = answer["data"].values()
    return {name: value for name, value in created.items() if name not in ("id", "createdAt")}


async def session_row() -> dict[str, Any]:
    return await models.Session.get(id="chat").values()


# --- creating --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_create_answers_the_row_with_the_defaults_and_a_kalito_style_id(
    gql: GraphQLClient, db: str, kind: Kind
) -> None:
    await a_session()
    first, second = await sent_twice(gql, kind.create, {"input": kind.input()})

    assert without_new_values(first) == without_new_values(second)
    for answer in (first, second):
        created = answer["data"][f"create{kind.name.capitalize()}"]
        assert {name: created[name] for name in kind.defaults} == kind.defaults
        assert (created["sessionId"], created[kind.text]) == ("chat", "Remember this.")
        match = re.fullmatch(rf"{kind.name}_(\d+)_[0-9a-z]{{9}}", created["id"])
        assert match is not None, created["id"]
        made = datetime.fromisoformat(created["createdAt"])
        assert int(match[1]) == int(made.timestamp() * 1000)  # the id's moment is the row's
    assert first["data"] != second["data"]  # two rows, each its own id
    assert await kind.model.filter(session_id="chat").count() == 2


async def test_a_pin_keeps_every_field_given_in_variables_inside_the_input(gql: GraphQLClient, db: str) -> None:
    await a_session()
    source = await a_message()
    query = (
        "mutation ($session: ID!, $content: String!, $source: ID, $importance: Float, $type: PinType) {"
        " createPin(input: {sessionId: $session, content: $content, sourceMessageId: $source,"
        f" importance: $importance, type: $type}}) {{ {PIN_FIELDS} }} }}"
    )
    variables = {"session": "chat", "content": "Uses `uv`.", "source": source, "importance": 0.25, "type": "CODE"}

    answers = await sent_twice(gql, query, variables)

    assert (
        without_new_values(answers[0])
        == without_new_values(answers[1])
        == {
            "sessionId": "chat",
            "content": "Uses `uv`.",
            "sourceMessageId": source,
            "importance": 0.25,
            "type": "CODE",
        }
    )
    stored = await models.Pin.all().values("source_message_id", "importance", "type")
    assert stored == [{"source_message_id": int(source), "importance": 0.25, "type": models.PinType.CODE}] * 2


async def test_a_summary_keeps_its_span_of_messages(gql: GraphQLClient, db: str) -> None:
    await a_session()
    start, end = await a_message(text="first"), await a_message(text="last")
    given = {"messageCount": 2, "startMessageId": start, "endMessageId": end, "importance": 1}

    answers = await sent_twice(gql, SUMMARY.create, {"input": SUMMARY.input(**given)})

    expected = {"sessionId": "chat", "text": "Remember this.", **given, "importance": 1.0}
    assert without_new_values(answers[0]) == without_new_values(answers[1]) == expected


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"TEXT": "x" * TEXT_MAX}, id="text-20000-chars"),
        pytest.param({"TEXT": "\u00e9\U0001f600\n\ttabs"}, id="text-any-unicode"),
        pytest.param({"importance": 0}, id="importance-0"),
        pytest.param({"importance": 1.0}, id="importance-1"),
    ],
)
async def test_values_at_the_limits_of_the_rules_are_accepted(
    gql: GraphQLClient, db: str, kind: Kind, values: dict[str, Any]
) -> None:
    await a_session()
    given = {kind.text if name == "TEXT" else name: value for name, value in values.items()}
    for answer in await sent_twice(gql, kind.create, {"input": kind.input(**given)}):
        assert "errors" not in answer, answer
        created = answer["data"][f"create{kind.name.capitalize()}"]
        assert all(created[name] == value for name, value in given.items())


async def test_a_summary_of_no_messages_is_allowed(gql: GraphQLClient, db: str) -> None:
    await a_session()
    for answer in await sent_twice(gql, SUMMARY.create, {"input": SUMMARY.input(messageCount=0)}):
        assert answer["data"]["createSummary"]["messageCount"] == 0


# --- the rules -------------------------------------------------------------------------------

# (the input's changes, the field named); "TEXT" is the kind's text field, "MESSAGE" each field
# that names a message, a message id "OTHER" one of another session.
BAD_INPUTS = [
    pytest.param({"TEXT": ""}, "TEXT", id="text-empty"),
    pytest.param({"TEXT": "x" * (TEXT_MAX + 1)}, "TEXT", id="text-20001-chars"),
    pytest.param({"TEXT": "a\x00b"}, "TEXT", id="text-nul"),
    pytest.param({"TEXT": "a\ud800b"}, "TEXT", id="text-lone-surrogate"),
    pytest.param({"TEXT": None}, "TEXT", id="text-null"),
    pytest.param({"importance": -0.01}, "importance", id="importance-below-0"),
    pytest.param({"importance": 1.01}, "importance", id="importance-above-1"),
    pytest.param({"importance": None}, "importance", id="importance-null"),
    pytest.param({"importance": "high"}, "importance", id="importance-string"),
    pytest.param({"sessionId": "nobody"}, "sessionId", id="session-unknown"),
    pytest.param({"sessionId": "bad id"}, "sessionId", id="session-malformed"),
    pytest.param({"MESSAGE": "OTHER"}, "MESSAGE", id="message-of-another-session"),
    pytest.param({"MESSAGE": "999999"}, "MESSAGE", id="message-unknown"),
    pytest.param({"MESSAGE": "not-a-number"}, "MESSAGE", id="message-malformed"),
    pytest.param({"MESSAGE": "-1"}, "MESSAGE", id="message-negative"),
    pytest.param({"MESSAGE": str(2**63)}, "MESSAGE", id="message-beyond-64-bits"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("changes", "named"), BAD_INPUTS)
async def test_a_bad_input_is_bad_user_input_naming_the_field_and_writes_nothing(
    gql: GraphQLClient, db: str, kind: Kind, changes: dict[str, Any], named: str
) -> None:
    await a_session()
    await a_session("other")
    other = await a_message("other")
    before = await session_row()
    for field in kind.message_fields if named == "MESSAGE" else (named,):
        given = {}
        for name, value in changes.items():
            target = {"TEXT": kind.text, "MESSAGE": field}.get(name, name)
            given[target] = other if value == "OTHER" else value
        expected_field = {"TEXT": kind.text}.get(named, field)

        first, second = await sent_twice(gql, kind.create, {"input": kind.input(**given)})

        assert first == second
        assert first.get("data") is None
        [error] = first["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": expected_field}, error
        assert await kind.model.all().count() == 0
        assert await session_row() == before


async def test_a_pin_type_outside_the_enum_is_bad_user_input_and_writes_nothing(gql: GraphQLClient, db: str) -> None:
    await a_session()
    first, second = await sent_twice(gql, PIN.create, {"input": PIN.input(type="user")})
    assert first == second
    assert first["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "type"}
    assert await models.Pin.all().count() == 0


@pytest.mark.parametrize("count", [-1, 2**31, None])
async def test_a_message_count_below_0_or_beyond_an_int_is_bad_user_input(
    gql: GraphQLClient, db: str, count: int | None
) -> None:
    await a_session()
    first, second = await sent_twice(gql, SUMMARY.create, {"input": SUMMARY.input(messageCount=count)})
    assert first == second
    assert first["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "messageCount"}
    assert await models.Summary.all().count() == 0


# --- deleting --------------------------------------------------------------------------------


async def create(gql: GraphQLClient, kind: Kind, **values: Any) -> dict[str, Any]:
    data = await gql.data(kind.create, {"input": kind.input(**values)})
    created: dict[str, Any] = data[f"create{kind.name.capitalize()}"]
    return created


@pytest.mark.parametrize("kind", KINDS)
async def test_a_delete_answers_the_id_and_a_second_one_is_not_found(gql: GraphQLClient, db: str, kind: Kind) -> None:
    await a_session()
    kept, gone = await create(gql, kind), await create(gql, kind)

    first, second = await sent_twice(gql, kind.delete, {"id": gone["id"]})

    assert first == {"data": {f"delete{kind.name.capitalize()}": gone["id"]}}
    assert second["data"] is None
    assert second["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
    assert second["errors"][0]["message"] == f"no {kind.name} with id {gone['id']!r}"
    assert await kind.model.all().values_list("id", flat=True) == [kept["id"]]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("row_id", "code"), [("pin_1_abcdefghi", "NOT_FOUND"), ("summary_1_x", "NOT_FOUND"), ("bad id", "BAD_USER_INPUT")]
)
async def test_a_delete_of_an_unknown_or_malformed_id_is_refused_and_deletes_nothing(
    gql: GraphQLClient, db: str, kind: Kind, row_id: str, code: str
) -> None:
    await a_session()
    await create(gql, kind)
    first, second = await sent_twice(gql, kind.delete, {"id": row_id})
    assert first == second
    assert first["errors"][0]["extensions"]["code"] == code
    assert await kind.model.all().count() == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_creating_and_deleting_leave_the_session_as_it_was(gql: GraphQLClient, db: str, kind: Kind) -> None:
    """Kalito's updated_at does not move either: a pin or a summary is not activity."""
    await a_session()
    before = await session_row()
    created = await create(gql, kind)
    assert await session_row() == before
    await gql.data(kind.delete, {"id": created["id"]})
    assert await session_row() == before
    session = await gql.data("query ($id: ID!) { session(id: $id) { updatedAt } }", {"id": "chat"})
    assert session == {"session": {"updatedAt": LONG_AGO_TEXT}}


# --- the lists -------------------------------------------------------------------------------

SESSION_MEMORY = f"""
query ($id: ID!) {{
  session(id: $id) {{ pins {{ {PIN_FIELDS} }} summaries {{ {SUMMARY_FIELDS} }} }}
}}
"""
# Ids that PostgreSQL's locale collations order otherwise than by code point.
TIED_IDS = ["a-b", "a.b", "a_b", "B", "a"]


async def test_pins_come_most_important_first_then_newest_then_by_id(gql: GraphQLClient, db: str) -> None:
    await a_session()
    rows = [
        (pin_id, importance, LONG_AGO + timedelta(seconds=seconds))
        for pin_id in TIED_IDS
        for importance, seconds in ((0.5, 0), (0.9, 0), (0.5, 1))
    ]
    await models.Pin.bulk_create(
        [
            models.Pin(id=f"{pin_id}{index}", session_id="chat", content="c", importance=importance, created_at=moment)
            for index, (pin_id, importance, moment) in enumerate(rows)
        ]
    )
    expected = sorted(
        ((importance, moment, f"{pin_id}{index}") for index, (pin_id, importance, moment) in enumerate(rows)),
        reverse=True,
    )

    first, second = await sent_twice(gql, SESSION_MEMORY, {"id": "chat"})

    assert first == second
    assert [pin["id"] for pin in first["data"]["session"]["pins"]] == [pin_id for _, _, pin_id in expected]


async def test_summaries_come_newest_first_then_by_id(gql: GraphQLClient, db: str) -> None:
    await a_session()
    moments = [LONG_AGO, LONG_AGO + timedelta(milliseconds=1)]
    await models.Summary.bulk_create(
        [
            models.Summary(id=summary_id + str(index), session_id="chat", text="t", message_count=1, created_at=moment)
            for summary_id in TIED_IDS
            for index, moment in enumerate(moments)
        ]
    )
    expected = sorted(
        ((moment, summary_id + str(index)) for summary_id in TIED_IDS for index, moment in enumerate(moments)),
        reverse=True,
    )

    first, second = await sent_twice(gql, SESSION_MEMORY, {"id": "chat"})

    assert first == second
    assert [summary["id"] for summary in first["data"]["session"]["summaries"]] == [row_id for _, row_id in expected]


async def test_a_session_without_pins_or_summaries_has_empty_lists(gql: GraphQLClient, db: str) -> None:
    await a_session()
    for answer in await sent_twice(gql, SESSION_MEMORY, {"id": "chat"}):
        assert answer == {"data": {"session": {"pins": [], "summaries": []}}}


# --- with their session ----------------------------------------------------------------------


async def remembered_by(session_ids: list[str]) -> None:
    """A session of each id, with a message, a pin and a summary, and one more that stays."""
    for session_id in [*session_ids, "stays"]:
        await a_session(session_id, saved=session_id == "stays")
        source = int(await a_message(session_id))
        await models.Pin.create(
            id=f"pin-{session_id}", session_id=session_id, content="c", source_message_id=source, created_at=LONG_AGO
        )
        await models.Summary.create(
            id=f"summary-{session_id}", session_id=session_id, text="t", message_count=1, created_at=LONG_AGO
        )


async def left_behind() -> tuple[list[str], list[str]]:
    pins = [row["session_id"] for row in await models.Pin.all().values("session_id")]
    summaries = [row["session_id"] for row in await models.Summary.all().values("session_id")]
    return pins, summaries


@pytest.mark.parametrize(
    ("mutation", "variables"),
    [
        pytest.param("mutation ($id: ID!) { deleteSession(id: $id) }", {"id": "goes"}, id="deleteSession"),
        pytest.param("mutation ($ids: [ID!]!) { deleteSessions(ids: $ids) }", {"ids": ["goes"]}, id="deleteSessions"),
        pytest.param("mutation { purgeEphemeralSessions(idleSeconds: 0) }", {}, id="purgeEphemeralSessions"),
    ],
)
async def test_pins_and_summaries_go_with_their_session(
    gql: GraphQLClient, db: str, mutation: str, variables: dict[str, Any]
) -> None:
    await remembered_by(["goes"])
    await gql.data(mutation, variables)
    assert await left_behind() == (["stays"], ["stays"])


async def test_the_ttl_sweep_takes_pins_and_summaries_with_the_sessions_it_purges(db: str) -> None:
    await remembered_by(["expired"])
    sweeper = asyncio.create_task(sweep_forever(ttl_seconds=60, interval_seconds=0.01))
    try:
        async with asyncio.timeout(10):
            while await models.Session.exists(id="expired"):
                await asyncio.sleep(0.01)
    finally:
        sweeper.cancel()
    assert await left_behind() == (["stays"], ["stays"])


@pytest.mark.parametrize("kind", KINDS)
async def test_writes_racing_the_deletion_of_their_session_are_answered_or_refused_cleanly(
    gql: GraphQLClient, db: str, kind: Kind
) -> None:
    """Each write locks its session first (PostgreSQL): a concurrent deleteSession waits for it,
    or it for the deletion; never a deadlock, a foreign-key failure or a row left behind."""
    for round in range(5):
        session_id = f"race-{round}"
        await a_session(session_id)
        kept = await create(gql, kind, sessionId=session_id)
        writes = [
            gql(kind.create, {"input": kind.input(sessionId=session_id)}),
            gql(kind.delete, {"id": kept["id"]}),
            gql("mutation ($id: ID!) { deleteSession(id: $id) }", {"id": session_id}),
            gql(kind.create, {"input": kind.input(sessionId=session_id)}),
        ]
        created, deleted, session_deleted, created_again = await asyncio.gather(*writes)
        assert session_deleted == {"data": {"deleteSession": session_id}}
        for answer in (created, created_again):
            assert "errors" not in answer or answer["errors"][0]["extensions"] == {
                "code": "BAD_USER_INPUT",
                "field": "sessionId",
            }, answer
        assert "errors" not in deleted or deleted["errors"][0]["extensions"] == {"code": "NOT_FOUND"}, deleted
        assert await kind.model.filter(session_id=session_id).count() == 0
