"""Property tests over the input rules of api.md §4: for any value at all, a mutation either
stores it exactly as given (a name trimmed) and reads it back identical through the API, or
refuses it as BAD_USER_INPUT naming the field and writes nothing — and which of the two
happens is what the contract's rule says.

tests/test_input_rules.py holds the hand-picked cases; here hypothesis draws the values: any
text (control characters, NUL and lone surrogates included), strings of about the length
limits, names padded with all kinds of white space, ids as JSON numbers, and integers far
beyond 32 and 64 bits. Bodies are encoded here (`\\udc00` escapes), as a JavaScript client
sends them: httpx's JSON encoder cannot encode a lone surrogate.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import models

# --- the contract's rules, restated from api.md §4 (not imported from models/) ----------------

INT_MAX = 2**31 - 1  # GraphQL's Int is a signed 32-bit integer
EXISTING_PERSONAS = {"default-cloud", "default-local", "chef"}


def _storable(value: str) -> bool:
    """Every string: no NUL character, no lone surrogate."""
    return "\x00" not in value and not any("\ud800" <= char <= "\udfff" for char in value)


def _has_control(value: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in value)


def as_id(value: Any) -> Any:
    """GraphQL's ID takes a JSON number too, as its decimal string."""
    return str(value) if isinstance(value, int) else value


def id_rule(value: Any) -> bool:
    return re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", as_id(value), flags=re.ASCII) is not None


def name_rule(value: str) -> bool:
    trimmed = value.strip()
    return _storable(value) and 1 <= len(trimmed) <= 200 and not _has_control(trimmed)


def model_rule(value: str) -> bool:
    return _storable(value) and 1 <= len(value) <= 100 and not _has_control(value)


def recap_rule(value: str) -> bool:
    return _storable(value) and len(value) <= 20_000


def message_text_rule(value: str) -> bool:
    return _storable(value) and 1 <= len(value) <= 100_000


def token_usage_rule(value: int) -> bool:
    return 0 <= value <= INT_MAX


def persona_id_rule(value: Any) -> bool:
    return id_rule(value) and as_id(value) in EXISTING_PERSONAS


def free_text_rule(value: str) -> bool | None:
    """Fields the contract names no rule for but "every string": NUL or a lone surrogate is
    refused; any other value may be stored or refused (a length limit is the server's choice)."""
    return None if _storable(value) else False


# --- values ------------------------------------------------------------------------------------

# Any character at all: control characters, NUL and lone surrogates included (hypothesis leaves
# surrogates out unless told).
ANY_CHARACTER = st.characters(exclude_categories=())
# The characters the rules are about, so that short examples meet them often.
TRICKY_CHARACTERS = ["a", "é", "🦉", " ", "\t", "\n", "\x07", "\x7f", "\x85", "\x00", "\ud800", "\udfff", "\u202e"]
ANY_TEXT = st.one_of(st.text(ANY_CHARACTER), st.text(st.sampled_from(TRICKY_CHARACTERS), max_size=6))
ID_CHARACTERS = "abcXYZ019_-."
WHITE_SPACE = st.text(st.sampled_from(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2003\u2028\u3000\ufeff"), max_size=3)


def about(limit: int) -> st.SearchStrategy[str]:
    """Strings of about `limit` characters: a run of one printable character, then a few of any."""
    return st.builds(
        lambda size, fill, tail: fill * max(0, size - len(tail)) + tail,
        st.integers(limit - 2, limit + 2),
        st.sampled_from("aZé会🦉 "),
        st.text(ANY_CHARACTER, max_size=3),
    )


ID_VALUES = st.one_of(
    ANY_TEXT,
    st.text(st.sampled_from(ID_CHARACTERS), max_size=70),
    st.text(st.sampled_from([*ID_CHARACTERS, " ", "/", "é", "\x00", "\ud800", "\n"]), min_size=1, max_size=66),
    about(64).map(lambda value: value.replace(" ", "i")),
    st.integers(),  # GraphQL's ID takes a JSON number too
)
NAME_VALUES = st.one_of(
    ANY_TEXT,
    st.tuples(WHITE_SPACE, ANY_TEXT, WHITE_SPACE).map("".join),
    st.tuples(WHITE_SPACE, about(200), WHITE_SPACE).map("".join),
)
MODEL_VALUES = st.one_of(ANY_TEXT, about(100))
RECAP_VALUES = st.one_of(ANY_TEXT, about(20_000))
TEXT_VALUES = st.one_of(ANY_TEXT, about(100_000))
PERSONA_ID_VALUES = st.one_of(ID_VALUES, st.sampled_from(sorted(EXISTING_PERSONAS)))
INTEGER_VALUES = st.one_of(
    st.integers(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, INT_MAX, INT_MAX + 1, -1, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1]),
)


# --- where each value goes, and where it is read back ----------------------------------------

SESSION_FIELDS = "id name model recap personaId"
CREATE_SESSION = f"mutation ($input: CreateSessionInput!) {{ createSession(input: $input) {{ {SESSION_FIELDS} }} }}"
UPDATE_SESSION = f"mutation ($input: UpdateSessionInput!) {{ updateSession(input: $input) {{ {SESSION_FIELDS} }} }}"
SAVE_SESSION = f"mutation ($id: ID!, $recap: String) {{ saveSession(id: $id, recap: $recap) {{ {SESSION_FIELDS} }} }}"
APPEND_MESSAGE = """
mutation ($input: AppendMessageInput!) { appendMessage(input: $input) { id sessionId text model tokenUsage } }
"""
PERSONA_FIELDS = "id name prompt description icon category defaultModel"
CREATE_PERSONA = f"mutation ($input: CreatePersonaInput!) {{ createPersona(input: $input) {{ {PERSONA_FIELDS} }} }}"
READ_SESSION = f"query ($id: ID!) {{ session(id: $id) {{ {SESSION_FIELDS} }} }}"
READ_LAST_MESSAGE = """
query ($id: ID!) { session(id: $id) { messages(last: 1) { edges { node { id sessionId text model tokenUsage } } } } }
"""
READ_PERSONA = f"query ($id: ID!) {{ persona(id: $id) {{ {PERSONA_FIELDS} }} }}"


@dataclass(frozen=True)
class Target:
    """One input field of one mutation, the rule it obeys, and how to read it back."""

    mutation: str
    field: str  # as the client names it, and as BAD_USER_INPUT must name it
    rule: Callable[[Any], bool | None]
    values: st.SearchStrategy[Any]
    variables: Callable[[Any], dict[str, Any]]
    read: str  # the query that reads the stored row back
    read_id: Callable[[Any], str]
    stored_as: Callable[[Any], Any] = lambda value: value


def session_target(field: str, rule: Callable[[Any], bool | None], values: st.SearchStrategy[Any], **kw: Any) -> Target:
    return Target(CREATE_SESSION, field, rule, values, read=READ_SESSION, read_id=lambda value: "new", **kw)


def message_target(field: str, rule: Callable[[Any], bool | None], values: st.SearchStrategy[Any]) -> Target:
    base = {"sessionId": "s1", "role": "USER", "text": "Hello"}
    return Target(
        APPEND_MESSAGE,
        field,
        rule,
        values,
        variables=lambda value: {"input": {**base, field: value}},
        read=READ_LAST_MESSAGE,
        read_id=lambda value: "s1",
    )


def persona_target(field: str, rule: Callable[[Any], bool | None], values: st.SearchStrategy[Any]) -> Target:
    return Target(
        CREATE_PERSONA,
        field,
        rule,
        values,
        variables=lambda value: {"input": {"id": "new", "name": "P", "prompt": "p", field: value}},
        read=READ_PERSONA,
        read_id=as_id if field == "id" else lambda value: "new",
        stored_as={"id": as_id, "name": name_stored}.get(field, lambda value: value),
    )


def name_stored(value: str) -> str:
    return value.strip()


TARGETS = [
    pytest.param(
        Target(
            CREATE_SESSION,
            "id",
            id_rule,
            ID_VALUES,
            variables=lambda value: {"input": {"id": value}},
            read=READ_SESSION,
            read_id=as_id,
            stored_as=as_id,
        ),
        id="createSession-id",
    ),
    pytest.param(
        session_target(
            "name",
            name_rule,
            NAME_VALUES,
            variables=lambda v: {"input": {"id": "new", "name": v}},
            stored_as=name_stored,
        ),
        id="createSession-name",
    ),
    pytest.param(
        session_target("model", model_rule, MODEL_VALUES, variables=lambda v: {"input": {"id": "new", "model": v}}),
        id="createSession-model",
    ),
    pytest.param(
        session_target(
            "personaId",
            persona_id_rule,
            PERSONA_ID_VALUES,
            variables=lambda v: {"input": {"id": "new", "personaId": v}},
            stored_as=as_id,
        ),
        id="createSession-personaId",
    ),
    pytest.param(
        Target(
            UPDATE_SESSION,
            "name",
            name_rule,
            NAME_VALUES,
            variables=lambda value: {"input": {"id": "s1", "name": value}},
            read=READ_SESSION,
            read_id=lambda value: "s1",
            stored_as=name_stored,
        ),
        id="updateSession-name",
    ),
    pytest.param(
        Target(
            UPDATE_SESSION,
            "recap",
            recap_rule,
            RECAP_VALUES,
            variables=lambda value: {"input": {"id": "s1", "recap": value}},
            read=READ_SESSION,
            read_id=lambda value: "s1",
        ),
        id="updateSession-recap",
    ),
    pytest.param(
        Target(
            SAVE_SESSION,
            "recap",
            recap_rule,
            RECAP_VALUES,
            variables=lambda value: {"id": "s1", "recap": value},
            read=READ_SESSION,
            read_id=lambda value: "s1",
        ),
        id="saveSession-recap",
    ),
    pytest.param(
        Target(
            APPEND_MESSAGE,
            "sessionId",
            id_rule,
            ID_VALUES,
            variables=lambda value: {"input": {"sessionId": value, "role": "USER", "text": "Hello"}},
            read=READ_LAST_MESSAGE,
            read_id=as_id,
            stored_as=as_id,
        ),
        id="appendMessage-sessionId",
    ),
    pytest.param(message_target("text", message_text_rule, TEXT_VALUES), id="appendMessage-text"),
    pytest.param(message_target("model", model_rule, MODEL_VALUES), id="appendMessage-model"),
    pytest.param(message_target("tokenUsage", token_usage_rule, INTEGER_VALUES), id="appendMessage-tokenUsage"),
    pytest.param(persona_target("id", id_rule, ID_VALUES), id="createPersona-id"),
    pytest.param(persona_target("name", name_rule, NAME_VALUES), id="createPersona-name"),
    pytest.param(persona_target("prompt", free_text_rule, TEXT_VALUES), id="createPersona-prompt"),
    pytest.param(persona_target("description", free_text_rule, ANY_TEXT), id="createPersona-description"),
    pytest.param(persona_target("icon", free_text_rule, ANY_TEXT), id="createPersona-icon"),
    pytest.param(persona_target("category", free_text_rule, ANY_TEXT), id="createPersona-category"),
    pytest.param(persona_target("defaultModel", model_rule, MODEL_VALUES), id="createPersona-defaultModel"),
]


# --- the property --------------------------------------------------------------------------


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables})  # ASCII: lone surrogates as escapes
    response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})
    answer: dict[str, Any] = response.json()
    return answer


async def everything() -> list[list[dict[str, Any]]]:
    return [await model.all().order_by("id").values() for model in (models.Session, models.Message, models.Persona)]


async def back_to_the_start() -> None:
    """Undo what the previous example stored: the examples of a test share one database."""
    await models.Message.all().delete()
    await models.Session.exclude(id="s1").delete()
    await models.Persona.exclude(id__in=EXISTING_PERSONAS).delete()


@pytest.fixture
async def existing(db: str) -> None:
    """A saved session and a custom persona for the values to aim at."""
    moment = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
    await models.Persona.create(id="chef", name="Chef", prompt="You cook.", created_at=moment, updated_at=moment)
    await models.Session.create(id="s1", name="Groceries", saved=True, created_at=moment, updated_at=moment)


def read_back(target: Target, body: dict[str, Any]) -> dict[str, Any] | None:
    """The part of a read-back answer that the mutation's own answer must match."""
    data = body["data"]
    if target.read is READ_LAST_MESSAGE:
        session = data["session"]
        data = {"message": session["messages"]["edges"][-1]["node"] if session else None}
    stored: dict[str, Any] | None = next(iter(data.values()))
    return stored


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
@pytest.mark.parametrize("target", TARGETS)
async def test_any_value_is_stored_exactly_or_refused_naming_its_field(
    http: httpx.AsyncClient, existing: None, target: Target, data: st.DataObject
) -> None:
    # As JSON carries it: a high and a low surrogate side by side are one character.
    value = json.loads(json.dumps(data.draw(target.values, label="value")))
    # Taken ids are a CONFLICT (tests/test_session_mutations.py), not an input rule.
    assume(target.field != "id" or as_id(value) not in {"s1", *EXISTING_PERSONAS})
    await back_to_the_start()
    before = await everything()
    must_accept = target.rule(value)

    body = await post(http, target.mutation, target.variables(value))

    if "errors" in body:
        assert must_accept is not True, f"refused a value the contract accepts: {body}"
        assert body.get("data") is None, body
        [error] = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": target.field}, error
        assert await everything() == before
    else:
        assert must_accept is not False, f"accepted a value the contract refuses: {body}"
        answered = next(iter(body["data"].values()))
        assert answered[target.field] == target.stored_as(value)
        stored = read_back(target, await post(http, target.read, {"id": target.read_id(value)}))
        assert stored == answered
