"""The columns api.md §8 adds, through HTTP on both databases: a message's importance (the
client's, or Kalito's heuristic), a persona's six generation settings, a session's metadata, and
the amended rules (ids with `.`, an assistant's empty reply). Every document is sent twice: the
second answer comes from the compiled plans (schema/plans.py) and must equal the first.

The refusals of every new rule (code, field, nothing written) are in tests/test_input_rules.py,
with those of §4."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import models
from models.memory import message_importance

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient

MESSAGE_FIELDS = "id sessionId role text importance"
APPEND = f"mutation ($input: AppendMessageInput!) {{ appendMessage(input: $input) {{ {MESSAGE_FIELDS} }} }}"
MESSAGES = (
    f"query ($id: ID!) {{ session(id: $id) {{ messages(first: 100) {{ edges {{ node {{ {MESSAGE_FIELDS} }} }} }} }} }}"
)

SETTINGS = "temperature maxTokens topP repeatPenalty stopSequences suggestedModels"
PERSONA = f"query ($id: ID!) {{ persona(id: $id) {{ id {SETTINGS} }} }}"
CREATE_PERSONA = f"mutation ($input: CreatePersonaInput!) {{ createPersona(input: $input) {{ id {SETTINGS} }} }}"
UPDATE_PERSONA = f"mutation ($input: UpdatePersonaInput!) {{ updatePersona(input: $input) {{ id {SETTINGS} }} }}"
KALITO_SETTINGS = {
    "temperature": 0.3,
    "maxTokens": 1601,
    "topP": 0.7,
    "repeatPenalty": 1.2,
    "stopSequences": ["\n\nUser:", "</s>"],
    "suggestedModels": ["qwen2.5-coder", "qwen2.5", "deepseek-r1"],
}
NO_SETTINGS: dict[str, Any] = {
    "temperature": None,
    "maxTokens": None,
    "topP": None,
    "repeatPenalty": None,
    "stopSequences": [],
    "suggestedModels": [],
}

SESSION = "query ($id: ID!) { session(id: $id) { id metadata } }"
CREATE_SESSION = "mutation ($input: CreateSessionInput!) { createSession(input: $input) { id metadata } }"
UPDATE_SESSION = "mutation ($input: UpdateSessionInput!) { updateSession(input: $input) { id metadata } }"


async def error_twice(gql: GraphQLClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    error = await gql.error(query, variables)
    assert await gql.error(query, variables) == error
    return error


def without_id(message: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if key != "id"}


# --- Message.importance ---------------------------------------------------------------------------

HEURISTIC_CASES = [
    pytest.param("USER", "ok", 0.5, id="plain"),
    pytest.param("ASSISTANT", "ok", 0.55, id="assistant"),
    pytest.param("USER", "why not", 0.7, id="starts-with-why"),
    pytest.param("USER", " what", 0.5, id="not-trimmed"),
    pytest.param("USER", "However", 0.7, id="however-starts-with-how"),
    pytest.param("USER", "a ```code``` block", 0.65, id="code-fence"),
    pytest.param("USER", "Is this an error? " + "x" * 200, 0.8999999999999999, id="kalito-float"),
    pytest.param("ASSISTANT", "What class? Error. " + "x" * 200, 1.0, id="at-most-1"),
    pytest.param("ASSISTANT", "", 0.55, id="empty-reply"),
]


@pytest.mark.parametrize(("role", "text", "expected"), HEURISTIC_CASES)
async def test_an_importance_left_out_is_kalito_s_heuristic(
    gql: GraphQLClient, role: str, text: str, expected: float
) -> None:
    variables = {"input": {"sessionId": "chat.1", "role": role, "text": text}}

    first = (await gql.data(APPEND, variables))["appendMessage"]
    second = (await gql.data(APPEND, variables))["appendMessage"]  # the plan's

    assert first["importance"] == expected == message_importance(text, from_assistant=role == "ASSISTANT")
    assert without_id(second) == without_id(first)
    stored = await models.Message.filter(session_id="chat.1").order_by("id")
    assert [message.importance for message in stored] == [expected, expected]


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(0, id="0"),
        pytest.param(1, id="1"),
        pytest.param(-0.0, id="minus-0"),
        pytest.param(0.8999999999999999, id="kalito-float"),
        pytest.param(0.123456789012345, id="many-digits"),
    ],
)
async def test_an_importance_given_is_kept_as_given(gql: GraphQLClient, given: float) -> None:
    # a question about an error, which the heuristic would score 0.8
    variables = {"input": {"sessionId": "chat-1", "role": "USER", "text": "Why this error?", "importance": given}}

    appended = [(await gql.data(APPEND, variables))["appendMessage"] for _ in range(2)]

    assert [message["importance"] for message in appended] == [given, given]
    read = await gql.twice(MESSAGES, {"id": "chat-1"})
    assert [edge["node"]["importance"] for edge in read["session"]["messages"]["edges"]] == [given, given]


async def test_a_null_importance_is_computed_and_a_variable_inside_the_input_is_read(gql: GraphQLClient) -> None:
    query = (
        "mutation ($importance: Float, $text: String!) { appendMessage(input: "
        '{sessionId: "chat-1", role: ASSISTANT, text: $text, importance: $importance}) { importance } }'
    )
    computed = [await gql.data(query, {"text": "How?", "importance": None}) for _ in range(2)]
    omitted = [await gql.data(query, {"text": "How?"}) for _ in range(2)]
    literal = [
        await gql.data(
            'mutation { appendMessage(input: {sessionId: "chat-1", role: USER, text: "x", importance: 0.25})'
            " { importance } }"
        )
        for _ in range(2)
    ]
    given = [await gql.data(query, {"text": "How?", "importance": 0.125}) for _ in range(2)]

    assert {answer["appendMessage"]["importance"] for answer in computed + omitted} == {0.75}
    assert [answer["appendMessage"]["importance"] for answer in literal + given] == [0.25, 0.25, 0.125, 0.125]


# --- an assistant's empty reply; ids with a "." ----------------------------------------------------


async def test_an_assistant_may_reply_with_nothing_a_user_or_system_may_not(gql: GraphQLClient) -> None:
    reply = {"input": {"sessionId": "claude-opus-4.1-mfvh4wna", "role": "ASSISTANT", "text": ""}}
    first, second = [(await gql.data(APPEND, reply))["appendMessage"] for _ in range(2)]
    assert (
        without_id(first)
        == without_id(second)
        == {
            "sessionId": "claude-opus-4.1-mfvh4wna",
            "role": "ASSISTANT",
            "text": "",
            "importance": 0.55,
        }
    )
    before = await models.Message.all().order_by("id").values()

    for role in ("USER", "SYSTEM"):
        error = await error_twice(gql, APPEND, {"input": {**reply["input"], "role": role}})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "text"}
        assert error["message"] == "text must be 1 to 100000 characters"

    assert await models.Message.all().order_by("id").values() == before


async def test_ids_may_hold_a_dot_everywhere_ids_are_read(gql: GraphQLClient) -> None:
    persona = await gql.data(CREATE_PERSONA, {"input": {"id": "gpt-4.1-nano", "name": "Nano", "prompt": "Be brief."}})
    assert persona["createPersona"]["id"] == "gpt-4.1-nano"
    created = "mutation ($input: CreateSessionInput!) { createSession(input: $input) { id personaId } }"
    session = await gql.data(created, {"input": {"id": "chat.2025.09", "personaId": "gpt-4.1-nano"}})
    assert session["createSession"] == {"id": "chat.2025.09", "personaId": "gpt-4.1-nano"}
    touched = "mutation ($id: ID) { touchSession(id: $id) { id } }"
    assert (await gql.data(touched, {"id": "." * 64}))["touchSession"]["id"] == "." * 64

    read = await gql.twice("query ($id: ID!) { session(id: $id) { id persona { id } } }", {"id": "chat.2025.09"})
    assert read["session"] == {"id": "chat.2025.09", "persona": {"id": "gpt-4.1-nano"}}
    assert (await gql.twice(PERSONA, {"id": "gpt-4.1-nano"}))["persona"]["id"] == "gpt-4.1-nano"
    deleted = await gql.data("mutation ($ids: [ID!]!) { deleteSessions(ids: $ids) }", {"ids": ["chat.2025.09", "x.y"]})
    assert deleted == {"deleteSessions": ["chat.2025.09"]}


# --- the persona's generation settings ------------------------------------------------------------


async def test_a_persona_s_settings_are_created_read_and_absent_by_default(gql: GraphQLClient) -> None:
    with_settings = {"input": {"id": "coder", "name": "Coder", "prompt": "Code.", **KALITO_SETTINGS}}
    created = await gql.data(CREATE_PERSONA, with_settings)
    assert created["createPersona"] == {"id": "coder", **KALITO_SETTINGS}
    plain = await gql.data(CREATE_PERSONA, {"input": {"id": "plain", "name": "Plain", "prompt": "Hi."}})
    assert plain["createPersona"] == {"id": "plain", **NO_SETTINGS}

    assert (await gql.twice(PERSONA, {"id": "coder"}))["persona"] == {"id": "coder", **KALITO_SETTINGS}
    assert (await gql.twice(PERSONA, {"id": "plain"}))["persona"] == {"id": "plain", **NO_SETTINGS}
    # and the defaults of a fresh database have none
    assert (await gql.twice(PERSONA, {"id": "default-cloud"}))["persona"] == {"id": "default-cloud", **NO_SETTINGS}
    stored = await models.Persona.get(id="coder")
    assert (stored.stop_sequences, stored.suggested_models) == (
        ["\n\nUser:", "</s>"],
        KALITO_SETTINGS["suggestedModels"],
    )


async def test_a_persona_s_settings_at_their_limits_are_accepted(gql: GraphQLClient) -> None:
    highest = {
        "temperature": 2,
        "maxTokens": 1_000_000,
        "topP": 1,
        "repeatPenalty": 2,
        "stopSequences": ["s" * 100] * 16,
        "suggestedModels": [f"{index:0>100}" for index in range(32)],
    }
    lowest = {"temperature": 0, "maxTokens": 1, "topP": -0.0, "repeatPenalty": 0, "stopSequences": ["\n"]}

    for settings in (highest, lowest):
        variables = {"input": {"id": "edge", "name": "Edge", "prompt": "p", **settings}}
        answers = [await gql(UPDATE_PERSONA if index else CREATE_PERSONA, variables) for index in range(2)]
        for answer in answers:
            assert "errors" not in answer, answer
            persona = answer["data"]["updatePersona" if answer is answers[1] else "createPersona"]
            assert {name: persona[name] for name in settings} == settings
        await models.Persona.filter(id="edge").delete()


async def test_updating_settings_changes_those_given_and_null_clears_them(gql: GraphQLClient) -> None:
    await gql.data(CREATE_PERSONA, {"input": {"id": "coder", "name": "Coder", "prompt": "Code.", **KALITO_SETTINGS}})

    changed = [
        await gql.data(UPDATE_PERSONA, {"input": {"id": "coder", "temperature": 0.9, "stopSequences": ["END"]}})
        for _ in range(2)
    ]
    assert changed[0] == changed[1]
    assert changed[0]["updatePersona"] == {
        **KALITO_SETTINGS,
        "id": "coder",
        "temperature": 0.9,
        "stopSequences": ["END"],
    }

    # null clears: the scalars to null, the lists to []; a variable inside a list is read
    query = (
        'mutation ($model: String!) { updatePersona(input: {id: "coder", temperature: null, maxTokens: null, '
        'topP: null, repeatPenalty: null, stopSequences: null, suggestedModels: [$model, "llama3.2"]}) '
        f"{{ id {SETTINGS} }} }}"
    )
    cleared = [await gql.data(query, {"model": "qwen2.5"}) for _ in range(2)]
    assert cleared[0] == cleared[1]
    assert cleared[0]["updatePersona"] == {**NO_SETTINGS, "id": "coder", "suggestedModels": ["qwen2.5", "llama3.2"]}
    stored = await models.Persona.get(id="coder")
    assert (stored.temperature, stored.stop_sequences) == (None, [])


# --- Session.metadata -----------------------------------------------------------------------------


async def test_metadata_is_created_read_back_and_empty_by_default(gql: GraphQLClient) -> None:
    metadata = {"kalito.session_type": "care", "topic": "Poe ☃", "empty": ""}

    created = await gql.data(CREATE_SESSION, {"input": {"id": "care.1", "metadata": metadata}})
    plain = await gql.data(CREATE_SESSION, {"input": {"id": "plain"}})
    nulled = await gql.data(CREATE_SESSION, {"input": {"id": "nulled", "metadata": None}})

    assert created == {"createSession": {"id": "care.1", "metadata": metadata}}
    assert plain == {"createSession": {"id": "plain", "metadata": {}}}
    assert nulled == {"createSession": {"id": "nulled", "metadata": {}}}
    assert (await gql.twice(SESSION, {"id": "care.1"}))["session"]["metadata"] == metadata
    assert (await gql.twice(SESSION, {"id": "plain"}))["session"]["metadata"] == {}
    assert (await models.Session.by_id(models.ONE_USER, "care.1")).metadata == metadata  # type: ignore[union-attr]


async def test_metadata_in_a_literal_in_a_variable_alone_and_inside_the_input(gql: GraphQLClient) -> None:
    literal = (
        'mutation ($id: ID!) { createSession(input: {id: $id, metadata: {topic: "Poe", mood: "dark"}}) { metadata } }'
    )
    alone = "mutation ($id: ID!, $metadata: JSON) { createSession(input: {id: $id, metadata: $metadata}) { metadata } }"
    expected = {"topic": "Poe", "mood": "dark"}

    answers = [await gql.data(literal, {"id": f"literal-{index}"}) for index in range(2)]
    answers += [await gql.data(alone, {"id": f"alone-{index}", "metadata": expected}) for index in range(2)]
    answers += [
        await gql.data(CREATE_SESSION, {"input": {"id": f"input-{index}", "metadata": expected}}) for index in range(2)
    ]

    assert [answer["createSession"]["metadata"] for answer in answers] == [expected] * 6
    read = 'query ($id: ID!) { a: session(id: $id) { metadata } b: session(id: "literal-1") { metadata } }'
    assert await gql.twice(read, {"id": "alone-0"}) == {"a": {"metadata": expected}, "b": {"metadata": expected}}


async def test_an_update_replaces_the_whole_map_null_clears_it_and_omitted_leaves_it(gql: GraphQLClient) -> None:
    await gql.data(CREATE_SESSION, {"input": {"id": "s1", "metadata": {"a": "1", "b": "2"}}})

    replaced = [await gql.data(UPDATE_SESSION, {"input": {"id": "s1", "metadata": {"c": "3"}}}) for _ in range(2)]
    assert replaced[0] == replaced[1] == {"updateSession": {"id": "s1", "metadata": {"c": "3"}}}
    renamed = [await gql.data(UPDATE_SESSION, {"input": {"id": "s1", "name": "Renamed"}}) for _ in range(2)]
    assert renamed[0]["updateSession"]["metadata"] == {"c": "3"}
    cleared = [await gql.data(UPDATE_SESSION, {"input": {"id": "s1", "metadata": None}}) for _ in range(2)]
    assert cleared[0] == cleared[1] == {"updateSession": {"id": "s1", "metadata": {}}}

    assert (await gql.twice(SESSION, {"id": "s1"}))["session"]["metadata"] == {}
    assert (await models.Session.get(id="s1")).metadata == {}


async def test_metadata_at_its_limits_is_accepted(gql: GraphQLClient) -> None:
    largest = {f"{index:0>64}": "v" * 512 for index in range(16)}

    await gql.data(CREATE_SESSION, {"input": {"id": "big", "metadata": largest}})

    assert (await gql.twice(SESSION, {"id": "big"}))["session"]["metadata"] == largest
    assert (await models.Session.by_id(models.ONE_USER, "big")).metadata == largest  # type: ignore[union-attr]
    # the event payload round-trips it, as another process reads it (beyond NOTIFY's limit, the id alone)
    row = await models.Session.by_id(models.ONE_USER, "big")
    assert row is not None
    event = models.SessionEvent(models.SessionEventKind.UPDATED, "big", "", row)
    assert models.SessionEvent.from_payload(event.to_payload()) in (event, models.SessionEvent(event.kind, "big", ""))
    smaller = models.SessionRow(**{**dict(zip(row.names, row, strict=True)), "metadata": {"k": "v"}})
    small = models.SessionEvent(models.SessionEventKind.UPDATED, "big", "", smaller)
    assert models.SessionEvent.from_payload(small.to_payload()) == small
