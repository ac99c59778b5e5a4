"""The input rules of api.md §4 (and those §8 adds): every bad value is BAD_USER_INPUT naming its field, and
nothing is written; the values at the limits are accepted.

Bodies are sent as JSON with non-ASCII characters escaped (`\\ud800`), the way browsers'
JSON.stringify sends a lone surrogate: httpx's `json=` cannot encode one at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
import pytest

import models
from tests.operations import session_writes

SESSION_FIELDS = "id name model recap personaId saved"

CREATE_SESSION, UPDATE_SESSION, SAVE_SESSION, TOUCH_SESSION = session_writes(SESSION_FIELDS)
DELETE_SESSION = "mutation ($id: ID!) { deleteSession(id: $id) }"
DELETE_SESSIONS = "mutation ($ids: [ID!]!) { deleteSessions(ids: $ids) }"
CREATE_PERSONA = "mutation ($input: CreatePersonaInput!) { createPersona(input: $input) { id } }"
UPDATE_PERSONA = "mutation ($input: UpdatePersonaInput!) { updatePersona(input: $input) { id } }"
DELETE_PERSONA = "mutation ($id: ID!) { deletePersona(id: $id) }"
APPEND_MESSAGE = "mutation ($input: AppendMessageInput!) { appendMessage(input: $input) { id } }"
PURGE = "mutation ($idleSeconds: Int) { purgeEphemeralSessions(idleSeconds: $idleSeconds) }"
SESSION = "query ($id: ID!) { session(id: $id) { id } }"
PERSONA = "query ($id: ID!) { persona(id: $id) { id } }"
SESSIONS_OF_PERSONA = "query ($personaId: ID) { sessions(filter: {personaId: $personaId}) { totalCount } }"

LONE_SURROGATE = "\ud800"

BAD_VALUES: dict[str, list[Any]] = {
    "id": [
        pytest.param("", id="empty"),
        pytest.param("a" * 65, id="65-chars"),
        pytest.param("two words", id="space"),
        pytest.param("a/b", id="slash"),
        pytest.param("café", id="unicode-letter"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("a" + LONE_SURROGATE, id="lone-surrogate"),
    ],
    "name": [
        pytest.param("", id="empty"),
        pytest.param("   ", id="only-spaces"),
        pytest.param("  " + "n" * 201 + "  ", id="201-chars-after-trim"),
        pytest.param("ding\x07dong", id="bell"),
        pytest.param("two\nlines", id="newline"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("a" + LONE_SURROGATE + "b", id="lone-surrogate"),
    ],
    "model": [
        pytest.param("", id="empty"),
        pytest.param("m" * 101, id="101-chars"),
        pytest.param("gpt\x07", id="bell"),
        pytest.param("gpt\t4", id="tab"),
        pytest.param("a\x00b", id="nul"),
        pytest.param(LONE_SURROGATE, id="lone-surrogate"),
    ],
    "recap": [
        pytest.param("r" * 20_001, id="20001-chars"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("a" + "\udfff", id="lone-surrogate"),
    ],
    # Free text beyond the contract's named fields: only the rule for every string.
    "text": [
        pytest.param("a\x00b", id="nul"),
        pytest.param("a" + LONE_SURROGATE, id="lone-surrogate"),
    ],
    "count": [pytest.param(-1, id="negative")],
    # §8: a user's or system's message may not be empty (an assistant's may: test_memory_columns)
    "message_text": [pytest.param("", id="empty")],
    "fraction": [
        pytest.param(1.0000001, id="above-1"),
        pytest.param(-0.0000001, id="below-0"),
        pytest.param(2, id="integer-2"),
    ],
    "up_to_2": [pytest.param(2.0000001, id="above-2"), pytest.param(-1, id="negative")],
    "max_tokens": [pytest.param(0, id="0"), pytest.param(1_000_001, id="1000001")],
    "stop_sequences": [
        pytest.param(["s"] * 17, id="17-items"),
        pytest.param([""], id="empty-item"),
        pytest.param(["s" * 101], id="101-chars"),
        pytest.param(["a\x00b"], id="nul"),
    ],
    "suggested_models": [
        pytest.param(["m"] * 33, id="33-items"),
        pytest.param(["ok", ""], id="empty-item"),
        pytest.param(["m" * 101], id="101-chars"),
        pytest.param(["gpt\t4"], id="tab"),
    ],
    "metadata": [
        pytest.param({f"k{index}": "v" for index in range(17)}, id="17-keys"),
        pytest.param({"": "v"}, id="empty-key"),
        pytest.param({"k" * 65: "v"}, id="65-char-key"),
        pytest.param({"k": "v" * 513}, id="513-char-value"),
        pytest.param({"k": 1}, id="number-value"),
        pytest.param({"k": {"a": "b"}}, id="object-value"),
        pytest.param({"k": ["a"]}, id="list-value"),
        pytest.param({"k": None}, id="null-value"),
        pytest.param({"k": True}, id="boolean-value"),
        pytest.param({"two\nlines": "v"}, id="control-in-key"),
        pytest.param({"k": "ding\x07"}, id="control-in-value"),
        pytest.param({"k": "a" + LONE_SURROGATE}, id="lone-surrogate"),
        pytest.param(["k", "v"], id="a-list"),
        pytest.param("k=v", id="a-string"),
        pytest.param(16, id="a-number"),
    ],
}


QUERIES = {
    "createSession": CREATE_SESSION,
    "updateSession": UPDATE_SESSION,
    "saveSession": SAVE_SESSION,
    "touchSession": TOUCH_SESSION,
    "deleteSession": DELETE_SESSION,
    "deleteSessions": DELETE_SESSIONS,
    "createPersona": CREATE_PERSONA,
    "updatePersona": UPDATE_PERSONA,
    "deletePersona": DELETE_PERSONA,
    "appendMessage": APPEND_MESSAGE,
    "purgeEphemeralSessions": PURGE,
}


@dataclass(frozen=True)
class Target:
    """One field of one mutation: where a value goes in the variables, and which rule it obeys."""

    operation: str
    field: str
    rule: str
    variables: Callable[[Any], dict[str, Any]]

    @property
    def query(self) -> str:
        return QUERIES[self.operation]


NEW_PERSONA = {"name": "P", "prompt": "p"}


def in_input(given: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    return {"input": {**given, field: value}}


NEW_MESSAGE = {"sessionId": "s1", "role": "USER", "text": "Hi"}

# "s1" and "chef" exist (see `existing`), so only the bad value can be what is refused.
TARGETS = [
    Target("createSession", "id", "id", lambda v: {"input": {"id": v}}),
    Target("createSession", "name", "name", lambda v: {"input": {"id": "new", "name": v}}),
    Target("createSession", "model", "model", lambda v: {"input": {"id": "new", "model": v}}),
    Target("createSession", "personaId", "id", lambda v: {"input": {"id": "new", "personaId": v}}),
    Target("updateSession", "id", "id", lambda v: {"input": {"id": v, "name": "Fine"}}),
    Target("updateSession", "name", "name", lambda v: {"input": {"id": "s1", "name": v}}),
    Target("updateSession", "model", "model", lambda v: {"input": {"id": "s1", "model": v}}),
    Target("updateSession", "recap", "recap", lambda v: {"input": {"id": "s1", "recap": v}}),
    Target("updateSession", "personaId", "id", lambda v: {"input": {"id": "s1", "personaId": v}}),
    Target("createSession", "metadata", "metadata", lambda v: {"input": {"id": "new", "metadata": v}}),
    Target("updateSession", "metadata", "metadata", lambda v: {"input": {"id": "s1", "metadata": v}}),
    Target("saveSession", "id", "id", lambda v: {"id": v}),
    Target("saveSession", "name", "name", lambda v: {"id": "s1", "name": v}),
    Target("saveSession", "recap", "recap", lambda v: {"id": "s1", "recap": v}),
    Target("touchSession", "id", "id", lambda v: {"id": v}),
    Target("touchSession", "model", "model", lambda v: {"id": "s1", "model": v}),
    Target("touchSession", "personaId", "id", lambda v: {"id": "s1", "personaId": v}),
    Target("deleteSession", "id", "id", lambda v: {"id": v}),
    Target("deleteSessions", "ids", "id", lambda v: {"ids": ["s1", v]}),
    Target("createPersona", "id", "id", lambda v: {"input": {**NEW_PERSONA, "id": v}}),
    Target("createPersona", "name", "name", lambda v: {"input": {**NEW_PERSONA, "name": v}}),
    Target("createPersona", "defaultModel", "model", lambda v: {"input": {**NEW_PERSONA, "defaultModel": v}}),
    Target("createPersona", "prompt", "text", lambda v: {"input": {**NEW_PERSONA, "prompt": v}}),
    Target("createPersona", "description", "text", lambda v: {"input": {**NEW_PERSONA, "description": v}}),
    *(
        Target(operation, field, rule, partial(in_input, given, field))
        for operation, given in (("createPersona", NEW_PERSONA), ("updatePersona", {"id": "chef"}))
        for field, rule in (
            ("temperature", "up_to_2"),
            ("maxTokens", "max_tokens"),
            ("topP", "fraction"),
            ("repeatPenalty", "up_to_2"),
            ("stopSequences", "stop_sequences"),
            ("suggestedModels", "suggested_models"),
        )
    ),
    Target("updatePersona", "id", "id", lambda v: {"input": {"id": v, "name": "Fine"}}),
    Target("updatePersona", "name", "name", lambda v: {"input": {"id": "chef", "name": v}}),
    Target("updatePersona", "defaultModel", "model", lambda v: {"input": {"id": "chef", "defaultModel": v}}),
    Target("updatePersona", "icon", "text", lambda v: {"input": {"id": "chef", "icon": v}}),
    Target("updatePersona", "category", "text", lambda v: {"input": {"id": "chef", "category": v}}),
    Target("deletePersona", "id", "id", lambda v: {"id": v}),
    Target("appendMessage", "sessionId", "id", lambda v: {"input": {**NEW_MESSAGE, "sessionId": v}}),
    Target("appendMessage", "text", "text", lambda v: {"input": {**NEW_MESSAGE, "text": v}}),
    Target("appendMessage", "model", "model", lambda v: {"input": {**NEW_MESSAGE, "model": v}}),
    Target("appendMessage", "tokenUsage", "count", lambda v: {"input": {**NEW_MESSAGE, "tokenUsage": v}}),
    Target("appendMessage", "text", "message_text", lambda v: {"input": {**NEW_MESSAGE, "text": v}}),
    Target("appendMessage", "text", "message_text", lambda v: {"input": {**NEW_MESSAGE, "role": "SYSTEM", "text": v}}),
    Target("appendMessage", "importance", "fraction", lambda v: {"input": {**NEW_MESSAGE, "importance": v}}),
    Target("purgeEphemeralSessions", "idleSeconds", "count", lambda v: {"idleSeconds": v}),
]

BAD_INPUTS = [
    pytest.param(target, bad.values[0], id=f"{target.operation}-{target.field}-{bad.id}")
    for target in TARGETS
    for bad in BAD_VALUES[target.rule]
]

READS = [
    pytest.param(SESSION, "id", lambda v: {"id": v}, id="session"),
    pytest.param(PERSONA, "id", lambda v: {"id": v}, id="persona"),
    pytest.param(SESSIONS_OF_PERSONA, "personaId", lambda v: {"personaId": v}, id="sessions-filter"),
]


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables})  # ASCII, escapes and all
    response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})
    answer: dict[str, Any] = response.json()
    return answer


async def single_error(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = await post(http, query, variables)
    assert len(body.get("errors", [])) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


async def everything() -> tuple[list[dict[str, Any]], ...]:
    """What the database holds: each session, persona and message row, in full."""
    sessions = await models.Session.all().order_by("id").values()
    personas = await models.Persona.all().order_by("id").values()
    messages = await models.Message.all().order_by("id").values()
    return sessions, personas, messages


@pytest.fixture
async def existing(db: str) -> None:
    """A saved session and a custom persona for the bad inputs to aim at."""
    moment = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
    await models.Persona.create(id="chef", name="Chef", prompt="You cook.", created_at=moment, updated_at=moment)
    await models.Session.create(
        id="s1",
        name="Groceries",
        model="gpt-4o",
        recap="Milk.",
        persona_id="chef",
        saved=True,
        created_at=moment,
        updated_at=moment,
    )


# --- refused, and nothing written --------------------------------------------------------


def test_httpx_json_cannot_send_a_lone_surrogate_so_this_file_encodes_bodies_itself() -> None:
    """The reason `post` encodes bodies itself (keeps this file honest if httpx changes)."""
    with pytest.raises(UnicodeEncodeError):
        httpx.Request("POST", "http://kalito.test/graphql", json={"name": LONE_SURROGATE})
    assert json.dumps(LONE_SURROGATE) == '"\\ud800"'


@pytest.mark.parametrize(("target", "value"), BAD_INPUTS)
async def test_a_bad_value_is_bad_user_input_naming_the_field_and_writes_nothing(
    http: httpx.AsyncClient, existing: None, target: Target, value: Any
) -> None:
    before = await everything()

    error = await single_error(http, target.query, target.variables(value))

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": target.field}
    # the message names the field as the client knows it too: "sessionId must be ..."
    assert error["message"].startswith(f"{target.field} "), error["message"]
    assert await single_error(http, target.query, target.variables(value)) == error  # a plan's answer
    assert await everything() == before


@pytest.mark.parametrize(("query", "field", "variables"), READS)
@pytest.mark.parametrize("value", BAD_VALUES["id"])
async def test_a_malformed_id_in_a_read_is_bad_user_input(
    http: httpx.AsyncClient,
    existing: None,
    query: str,
    field: str,
    variables: Callable[[Any], dict[str, Any]],
    value: Any,
) -> None:
    error = await single_error(http, query, variables(value))

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


# --- accepted at the limits --------------------------------------------------------------


async def test_a_name_is_stored_trimmed(http: httpx.AsyncClient, db: str) -> None:
    body = await post(http, CREATE_SESSION, {"input": {"id": "s2", "name": "  \t Trip plans \n "}})

    assert body == {
        "data": {
            "createSession": {
                "id": "s2",
                "name": "Trip plans",
                "model": None,
                "recap": None,
                "personaId": None,
                "saved": False,
            }
        }
    }
    assert (await models.Session.get(id="s2")).name == "Trip plans"


async def test_values_at_the_limits_of_the_rules_are_accepted(http: httpx.AsyncClient, db: str) -> None:
    limits = {
        "id": "i" * 64,
        "name": "  " + "n" * 200 + "  ",
        "model": "m" * 100,
        "personaId": "default-cloud",
    }

    body = await post(http, CREATE_SESSION, {"input": limits})

    assert "errors" not in body, body
    stored = await models.Session.get(id="i" * 64)
    assert (stored.name, stored.model, stored.persona_id) == ("n" * 200, "m" * 100, "default-cloud")


@pytest.mark.parametrize("recap", [pytest.param("r" * 20_000, id="20000-chars"), pytest.param("", id="empty")])
async def test_a_recap_within_the_limit_is_accepted(http: httpx.AsyncClient, existing: None, recap: str) -> None:
    body = await post(http, UPDATE_SESSION, {"input": {"id": "s1", "recap": recap}})

    assert body["data"]["updateSession"]["recap"] == recap
    assert (await models.Session.get(id="s1")).recap == recap


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Ünïcödé ✓ 会話 🦉", id="unicode"),
        pytest.param("tab\tinside", id="tab"),
        pytest.param("line\nbreaks\r\n", id="newlines"),
    ],
)
async def test_a_recap_is_free_text_but_for_nul_and_lone_surrogates(
    http: httpx.AsyncClient, existing: None, value: str
) -> None:
    body = await post(http, SAVE_SESSION, {"id": "s1", "recap": value})

    assert body["data"]["saveSession"]["recap"] == value
    assert (await models.Session.get(id="s1")).recap == value


async def test_a_name_may_hold_any_printable_unicode(http: httpx.AsyncClient, db: str) -> None:
    name = "Ünïcödé ✓ 会話 🦉"

    body = await post(http, SAVE_SESSION, {"id": "s2", "name": name})

    assert body["data"]["saveSession"]["name"] == name
    assert (await models.Session.get(id="s2")).name == name
