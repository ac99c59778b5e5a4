"""Request limits: document depth, aliases, fields, tokens, directives and a directive repeated at one
location (one error each, before validation), batches, body size, the query time limit, and
production's silence about names.

Refusals that never reach the database run on SQLite only (`SQLITE_ONLY`); whatever executes
runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, parse
from tortoise import connections

import models
from models.default_personas import DEFAULT_PERSONAS
from schema import OperationRecord
from schema.limits import measure
from server import create_app
from settings import Settings
from support.live_server import live_server

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_with(db: str, database_url: str) -> ClientFactory:
    """`async with client_with(max_aliases=3) as http:` a client of an app with those settings."""

    @contextlib.asynccontextmanager
    async def client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(Settings(database_url=database_url, **overrides))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kalito.test") as http:
            yield http

    return client


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refusal(body: dict[str, Any]) -> str:
    """The message of a document refused by a limit: one error, the limit's code, no data."""
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}, error
    message: str = error["message"]
    return message


# --- depth ------------------------------------------------------------------------------------

DEPTH_3 = "{ sessions { edges { node { id } } } }"
DEPTH_4 = "{ sessions { edges { node { persona { name } } } } }"
DEPTH_4_THROUGH_FRAGMENTS = """
{ sessions { ...Edges } }
fragment Edges on SessionConnection { edges { ...Node } }
fragment Node on SessionEdge { node { persona { name } } }
"""
# The deepest query this schema has (6): the default limit lets it run.
DEEPEST = "{ sessions { edges { node { messages { edges { node { text } } } } } } }"


async def test_a_query_deeper_than_the_limit_is_refused_with_one_error(client_with: ClientFactory) -> None:
    async with client_with(max_query_depth=3) as http:
        assert "4 levels deep" in refusal(await post(http, DEPTH_4))
        assert await post(http, DEPTH_3) == {"data": {"sessions": {"edges": []}}}


async def test_depth_is_counted_through_fragments(client_with: ClientFactory) -> None:
    async with client_with(max_query_depth=3) as http:
        assert "4 levels deep" in refusal(await post(http, DEPTH_4_THROUGH_FRAGMENTS))


async def test_the_default_depth_lets_the_deepest_query_of_the_schema_run(client_with: ClientFactory) -> None:
    async with client_with() as http:
        assert await post(http, DEEPEST) == {"data": {"sessions": {"edges": []}}}


@SQLITE_ONLY
async def test_depth_is_checked_before_validation(client_with: ClientFactory) -> None:
    # Unknown fields, too deep: the one error is the limit's, not a validation error per field.
    async with client_with() as http:
        message = refusal(await post(http, "{ a { b { c { d { e { f { g { h { i { j { k { l } } } } } } } } } } } }"))
    assert "11 levels deep" in message


@SQLITE_ONLY
async def test_graphiqls_introspection_query_passes_the_depth_and_field_limits(client_with: ClientFactory) -> None:
    # graphql-core's fullest introspection query is 14 levels deep (introspection adds no depth)
    # and has 230 fields with its fragments spread (the default field limit is 300).
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    async with client_with(max_query_depth=2) as http:
        body = await post(http, query)
    assert "errors" not in body, body["errors"]
    assert body["data"]["__schema"]["queryType"] == {"name": "Query", "kind": "OBJECT"}


@SQLITE_ONLY
async def test_introspections_own_cycle_is_bounded_by_graphql_core(client_with: ClientFactory) -> None:
    # What lets the depth limit ignore introspection: graphql-core's MaxIntrospectionDepthRule.
    async with client_with() as http:
        body = await post(http, "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }")
    assert [error["extensions"]["code"] for error in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "introspection depth" in body["errors"][0]["message"]


# --- aliases ----------------------------------------------------------------------------------


def typename_aliases(count: int) -> str:
    return "{ " + " ".join(f"a{index}: __typename" for index in range(count)) + " }"


@SQLITE_ONLY
async def test_more_aliases_than_the_limit_are_refused_typename_included(client_with: ClientFactory) -> None:
    async with client_with(max_aliases=30) as http:
        assert "31 aliases" in refusal(await post(http, typename_aliases(31)))
        assert await post(http, typename_aliases(30)) == {"data": {f"a{index}": "Query" for index in range(30)}}


@SQLITE_ONLY
async def test_aliases_count_wherever_their_fragment_is_spread(client_with: ClientFactory) -> None:
    query = """
    { one: personas { ...Names } two: personas { ...Names } }
    fragment Names on Persona { a: name b: name }
    """
    async with client_with(max_aliases=5) as http:
        assert "6 aliases" in refusal(await post(http, query))


@SQLITE_ONLY
@pytest.mark.parametrize(("leaf", "counted"), [("a: __typename", "aliases"), ("__typename", "fields")])
async def test_fragments_spreading_fragments_are_measured_in_linear_time(
    client_with: ClientFactory, leaf: str, counted: str
) -> None:
    # Each fragment spreads the next twice: 2**40 leaves. A limiter that walks a fragment again
    # at every spread (strawberry's) never finishes this 500-token document.
    links = 40
    query = "{ ...F0 }\n" + "\n".join(
        f"fragment F{index} on Query {{ ...F{index + 1} ...F{index + 1} }}" for index in range(links)
    )
    query += f"\nfragment F{links} on Query {{ {leaf} }}"
    async with client_with() as http:
        assert f"{2**links} {counted}" in refusal(await post(http, query))


CYCLE_OF_TWO = "fragment A on Query { a: __typename ...B } fragment B on Query { b: __typename ...A }"
SELF_SPREAD = "fragment A on Query { __typename ...A }"
# A reaches the cycle C, D without being in it.
CHAIN_TO_A_CYCLE = """
fragment A on Query { ...B }
fragment B on Query { __typename ...C }
fragment C on Query { ...D }
fragment D on Query { ...C }
"""


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("fragments", "message"),
    [
        pytest.param(CYCLE_OF_TWO, "The fragments A, B form a cycle (A → B → A).", id="two-fragments"),
        pytest.param(SELF_SPREAD, "The fragment A forms a cycle (A → A).", id="self-spread"),
        pytest.param(CHAIN_TO_A_CYCLE, "The fragments C, D form a cycle (C → D → C).", id="reached-through-a-chain"),
    ],
)
async def test_a_fragment_cycle_is_refused_before_validation_naming_it(
    client_with: ClientFactory, fragments: str, message: str
) -> None:
    # Refused as a cycle in so many words: graphql-core's NoFragmentCyclesRule says "Cannot
    # spread fragment 'A' within itself via 'B'.", which vamp-graphql-audit takes for a server
    # that accepts cyclic fragments (CRITICAL).
    async with client_with() as http:
        assert refusal(await post(http, "{ ...A } " + fragments)) == message


@SQLITE_ONLY
async def test_a_thousand_spreads_of_a_cycle_get_one_error(client_with: ClientFactory) -> None:
    # One error naming the cycle, not the alias limit that a and b, counted at each spread, pass.
    query = "{ " + "...A " * 1000 + "} " + CYCLE_OF_TWO
    async with client_with() as http:
        assert refusal(await post(http, query)) == "The fragments A, B form a cycle (A → B → A)."


# --- fields -----------------------------------------------------------------------------------


def repeated_typenames(count: int, around: str = "{ %s }") -> str:
    return around % " ".join(["__typename"] * count)


@SQLITE_ONLY
async def test_graphql_cops_field_duplication_gets_one_error(client_with: ClientFactory) -> None:
    # graphql-cop's "Field Duplication" check: 500 times `__typename`, answered before this limit.
    async with client_with() as http:
        assert refusal(await post(http, repeated_typenames(500))) == "The document has 500 fields; the limit is 300."


@SQLITE_ONLY
async def test_fields_up_to_the_default_limit_are_answered(client_with: ClientFactory) -> None:
    async with client_with() as http:
        assert "301 fields" in refusal(await post(http, repeated_typenames(301)))
        assert await post(http, repeated_typenames(300)) == {"data": {"__typename": "Query"}}


@SQLITE_ONLY
async def test_introspection_fields_count_like_any_others(client_with: ClientFactory) -> None:
    # Not bounded by graphql-core's MaxIntrospectionDepthRule, unlike introspection's depth.
    async with client_with() as http:
        assert "302 fields" in refusal(await post(http, repeated_typenames(301, "{ __schema { %s } }")))


# Fragments spread three times, one inside the other: 3 root fields + 3 * (name + id) = 9.
FIELDS_THROUGH_FRAGMENTS = """
{ a: personas { ...Persona } b: personas { ...Persona } c: personas { ...Persona } }
fragment Persona on Persona { name ...Id }
fragment Id on Persona { id }
"""


async def test_fields_count_wherever_their_fragment_is_spread(client_with: ClientFactory) -> None:
    personas = [{"name": persona["name"], "id": persona["id"]} for persona in DEFAULT_PERSONAS]
    async with client_with(max_fields=8) as http:
        assert "9 fields" in refusal(await post(http, FIELDS_THROUGH_FRAGMENTS))
    async with client_with(max_fields=9) as http:
        assert await post(http, FIELDS_THROUGH_FRAGMENTS) == {"data": {"a": personas, "b": personas, "c": personas}}


# --- directives -------------------------------------------------------------------------------


@SQLITE_ONLY
async def test_a_thousand_repeated_directives_get_one_error(client_with: ClientFactory) -> None:
    # Validation alone would answer a hundred errors, one per repeated @include, then give up.
    query = "{ personas " + "@include(if: true) " * 1000 + "{ id } }"
    async with client_with() as http:
        assert "1000 directives" in refusal(await post(http, query))


@SQLITE_ONLY
async def test_directives_up_to_the_limit_run(client_with: ClientFactory) -> None:
    within = "{ " + " ".join(f"a{index}: __typename @include(if: true)" for index in range(3)) + " }"
    async with client_with(max_directives=3) as http:
        assert await post(http, within) == {"data": {"a0": "Query", "a1": "Query", "a2": "Query"}}
        assert "4 directives" in refusal(await post(http, within.replace("}", "x: __typename @skip(if: false) }")))


def repeated(name: str) -> str:
    return f"The directive @{name} is repeated at one location; it may appear once per location."


@SQLITE_ONLY
async def test_graphql_cops_directive_overloading_gets_one_error(client_with: ClientFactory) -> None:
    # graphql-cop's "Directive Overloading" check: validation answers ten "Unknown directive".
    async with client_with() as http:
        assert refusal(await post(http, "query { __typename " + "@aa" * 10 + " }")) == repeated("aa")


@SQLITE_ONLY
@pytest.mark.parametrize(
    "query",
    [
        pytest.param("query Q @aa @aa { __typename }", id="operation"),
        pytest.param("query Q($v: Int @aa @aa) { __typename }", id="variable-definition"),
        pytest.param("{ __typename @aa @aa }", id="field"),
        pytest.param("{ ...F @aa @aa } fragment F on Query { __typename }", id="fragment-spread"),
        pytest.param("{ ... on Query @aa @aa { __typename } }", id="inline-fragment"),
        pytest.param("{ ...F } fragment F on Query @aa @aa { __typename }", id="fragment-definition"),
        pytest.param("{ __typename @aa @include(if: true) @aa }", id="apart"),
    ],
)
async def test_a_directive_repeated_at_any_location_is_refused(client_with: ClientFactory, query: str) -> None:
    async with client_with() as http:
        assert refusal(await post(http, query)) == repeated("aa")


@SQLITE_ONLY
async def test_a_known_directive_repeated_on_a_field_is_refused_naming_it(client_with: ClientFactory) -> None:
    async with client_with() as http:
        assert refusal(await post(http, "{ __typename @include(if: true) @include(if: true) }")) == repeated("include")


@SQLITE_ONLY
async def test_a_repetition_in_a_fragment_spread_many_times_gets_one_error(client_with: ClientFactory) -> None:
    query = "{ " + "...F " * 20 + "} fragment F on Query { __typename @include(if: true) @include(if: true) @aa @aa }"
    async with client_with() as http:
        assert refusal(await post(http, query)) == repeated("include")


@SQLITE_ONLY
async def test_different_directives_at_one_location_and_one_directive_at_many_are_answered(
    client_with: ClientFactory,
) -> None:
    query = """
    { a: __typename @include(if: true) @skip(if: false) b: __typename @include(if: true) ...F @include(if: true) }
    fragment F on Query { c: __typename @include(if: true) }
    """
    async with client_with() as http:
        assert await post(http, query) == {"data": {"a": "Query", "b": "Query", "c": "Query"}}


def test_a_repeatable_directive_may_repeat() -> None:
    # The schema has no repeatable directive (graphql-core's UniqueDirectivesPerLocationRule
    # lets one repeat); measure() leaves it to validation the same way.
    document = parse("{ __typename @tag @tag @aa }")
    assert measure(document, repeatable={"tag"}).repeated_directive is None
    assert measure(document).repeated_directive == "tag"


# --- tokens -----------------------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize(
    "padding",
    [pytest.param(" __typename" * 30, id="fields"), pytest.param("\n# comment" * 30, id="comments")],
)
async def test_a_document_of_more_tokens_than_the_limit_is_refused(client_with: ClientFactory, padding: str) -> None:
    async with client_with(max_tokens=30) as http:
        assert "more than 30 tokens" in refusal(await post(http, "{ __typename" + padding + " }"))
        assert await post(http, "{ __typename }") == {"data": {"__typename": "Query"}}


@SQLITE_ONLY
async def test_a_document_nested_deeper_than_the_parser_recurses_is_refused_as_a_limit(
    client_with: ClientFactory,
) -> None:
    async with client_with() as http:
        assert "nested too deeply" in refusal(await post(http, "{ a" + " { a" * 5000 + " }" * 5001))


# --- page size (also in test_listing.py and test_messages.py) -----------------------------------


async def test_a_page_larger_than_one_hundred_is_bad_user_input_naming_the_argument(
    client_with: ClientFactory,
) -> None:
    async with client_with() as http:
        body = await post(http, "query($n: Int) { sessions(first: $n) { totalCount } }", {"n": 101})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


# --- batches ----------------------------------------------------------------------------------

CREATE = 'mutation { createSession(input: {id: "batched", saved: true}) { id } }'
RENAME_PERSONA = 'mutation { updatePersona(input: {id: "default-cloud", name: "Renamed"}) { name } }'
SESSION_PERSONA = '{ session(id: "batched") { persona { name } } }'


async def test_a_batch_is_refused_by_default_and_nothing_runs(client_with: ClientFactory) -> None:
    async with client_with() as http:
        response = await http.post("/graphql", json=[{"query": CREATE}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert not await models.Session.exists(id="batched")


async def test_a_batch_runs_in_order_each_operation_with_fresh_loaders(client_with: ClientFactory) -> None:
    await models.Session.create_session(models.ONE_USER, "batched", persona_id="default-cloud", saved=True)
    batch = [{"query": SESSION_PERSONA}, {"query": RENAME_PERSONA}, {"query": SESSION_PERSONA}]
    async with client_with(batch_max_operations=3) as http:
        response = await http.post("/graphql", json=batch)
    assert response.status_code == 200
    assert [item["data"] for item in response.json()] == [
        {"session": {"persona": {"name": "Default Cloud Assistant"}}},
        {"updatePersona": {"name": "Renamed"}},
        {"session": {"persona": {"name": "Renamed"}}},  # not the first operation's cached persona
    ]


async def test_a_refused_operation_of_a_batch_answers_for_itself(client_with: ClientFactory) -> None:
    batch = [{"query": CREATE}, {"query": "query A { __typename } query B { __typename }"}]
    async with client_with(batch_max_operations=2) as http:
        response = await http.post("/graphql", json=batch)
    assert response.status_code == 200
    created, refused = response.json()
    assert created == {"data": {"createSession": {"id": "batched"}}}
    assert [error["extensions"]["code"] for error in refused["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]


@SQLITE_ONLY
@pytest.mark.parametrize(
    "batch",
    [
        pytest.param([{"query": CREATE}] * 3, id="too-many"),
        pytest.param([], id="empty"),
        pytest.param([1], id="not-an-object"),
        pytest.param([{"query": CREATE}, {"query": 5}], id="query-not-a-string"),
        pytest.param([{"variables": {}}], id="no-query"),
        pytest.param([{"query": CREATE, "variables": []}], id="variables-not-an-object"),
        pytest.param([{"query": CREATE, "operationName": 1}], id="operation-name-not-a-string"),
        pytest.param([{"query": CREATE, "extensions": "x"}], id="extensions-not-an-object"),
    ],
)
async def test_a_malformed_or_oversized_batch_is_refused_whole(client_with: ClientFactory, batch: list[Any]) -> None:
    async with client_with(batch_max_operations=2) as http:
        response = await http.post("/graphql", json=batch)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert not await models.Session.exists(id="batched")


# --- body size --------------------------------------------------------------------------------

LIMIT = 1024


def create_body(size: int, session_id: str = "batched") -> bytes:
    """A createSession request of exactly `size` bytes (padded with JSON whitespace)."""
    body = json.dumps({"query": CREATE.replace("batched", session_id)}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


async def in_chunks(body: bytes, size: int = 100) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def assert_payload_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "errors": [
            {"message": f"The request body is larger than {LIMIT} bytes", "extensions": {"code": "PAYLOAD_TOO_LARGE"}}
        ]
    }


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_over_the_limit_is_413_and_never_executed(client_with: ClientFactory, chunked: bool) -> None:
    body = create_body(LIMIT + 1)
    async with client_with(max_body_bytes=LIMIT) as http:
        content = in_chunks(body) if chunked else body
        response = await http.post("/graphql", content=content, headers={"content-type": "application/json"})
    assert_payload_too_large(response)
    assert not await models.Session.exists(id="batched")


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_of_exactly_the_limit_runs(client_with: ClientFactory, chunked: bool) -> None:
    body = create_body(LIMIT)
    async with client_with(max_body_bytes=LIMIT) as http:
        content = in_chunks(body) if chunked else body
        response = await http.post("/graphql", content=content, headers={"content-type": "application/json"})
    assert response.json() == {"data": {"createSession": {"id": "batched"}}}


async def test_the_default_body_limit_takes_the_longest_message_in_escaped_astral_characters(
    client_with: ClientFactory,
) -> None:
    text = "\U0001f600" * 100_000  # every character a \ud83d\ude00 escape: 1.2 MB of JSON
    query = "mutation($input: AppendMessageInput!) { appendMessage(input: $input) { id } }"
    body = json.dumps({"query": query, "variables": {"input": {"sessionId": "long", "role": "USER", "text": text}}})
    assert len(body) > 1_200_000
    async with client_with() as http:
        response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert "errors" not in response.json()
    [message] = await models.Message.filter(session_id="long")
    assert message.text == text


# --- the query time limit ---------------------------------------------------------------------


async def slow(*args: object, **kwargs: object) -> list[Any]:
    # Far past the limits these tests set; without the limit the query would answer [] after it.
    await asyncio.sleep(5)
    return []


async def test_a_query_past_the_time_limit_ends_with_operation_timeout(
    client_with: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client_with(operation_timeout_seconds=0.1) as http:
        with monkeypatch.context() as patch:
            patch.setattr(models.Persona, "all_in_order", slow)
            body = await post(http, "{ personas { id } }")
        assert body == {
            "errors": [
                {
                    "message": "The query did not finish within 0.1 seconds.",
                    "extensions": {"code": "OPERATION_TIMEOUT"},
                }
            ]
        }
        # and the server goes on answering
        assert await post(http, '{ persona(id: "default-cloud") { id } }') == {
            "data": {"persona": {"id": "default-cloud"}}
        }


async def test_a_timed_out_query_is_logged_and_counted_with_its_code(
    client_with: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models.Persona, "all_in_order", slow)
    records: list[OperationRecord] = []
    monkeypatch.setattr("server.log_operation", records.append)
    async with client_with(operation_timeout_seconds=0.1) as http:
        await post(http, "query Slow { personas { id } }")
        metrics = (await http.get("/metrics")).text
    assert [(record.name, record.error_codes) for record in records] == [("Slow", ("OPERATION_TIMEOUT",))]
    assert 'kalito_operations_total{operation="Slow",outcome="OPERATION_TIMEOUT",type="query"} 1.0' in metrics


async def test_a_nested_field_waiting_on_its_loader_times_out_too(
    client_with: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await models.Session.create_session(models.ONE_USER, "slow", persona_id="default-cloud", saved=True)
    monkeypatch.setattr(models.Persona, "by_ids", slow)
    async with client_with(operation_timeout_seconds=0.1) as http:
        body = await post(http, '{ session(id: "slow") { persona { name } } }')
    assert [error["extensions"]["code"] for error in body["errors"]] == ["OPERATION_TIMEOUT"]


async def test_a_mutation_is_not_cut_by_the_time_limit(
    client_with: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cutting a mutation short could leave half of it written; it runs to its end.
    create_session = models.Session.create_session

    async def slow_create(*args: Any, **kwargs: Any) -> models.SessionRow:
        await asyncio.sleep(0.3)
        return await create_session(*args, **kwargs)

    monkeypatch.setattr(models.Session, "create_session", slow_create)
    async with client_with(operation_timeout_seconds=0.05) as http:
        assert await post(http, CREATE) == {"data": {"createSession": {"id": "batched"}}}
    assert await models.Session.exists(id="batched")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_postgresql_statement_cut_by_the_time_limit_leaves_the_pool_usable(
    client_with: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def sleeping_in_the_database(*args: object) -> list[models.Persona]:
        await connections.get("default").execute_query("SELECT pg_sleep(5)")
        return []

    monkeypatch.setattr(models.Persona, "all_in_order", sleeping_in_the_database)
    async with client_with(operation_timeout_seconds=0.2) as http:
        body = await post(http, "{ personas { id } }")
        assert [error["extensions"]["code"] for error in body["errors"]] == ["OPERATION_TIMEOUT"]
        monkeypatch.undo()
        for _ in range(3):
            assert await post(http, "{ personas { id } }") == {
                "data": {"personas": [{"id": "default-cloud"}, {"id": "default-local"}]}
            }


# --- production: no "Did you mean ...?" -------------------------------------------------------


@SQLITE_ONLY
async def test_production_answers_no_extensions_and_masks_unexpected_errors(
    client_with: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> list[models.Persona]:
        raise RuntimeError("secret detail")

    async with client_with(production=True) as production:
        assert await post(production, "{ __typename }") == {"data": {"__typename": "Query"}}  # no tracing
        monkeypatch.setattr(models.Persona, "all_in_order", broken)
        response = await production.post("/graphql", json={"query": "{ personas { id } }"})
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret" not in response.text
    assert "RuntimeError" not in response.text


SUGGESTED: list[Any] = [
    pytest.param("{ sesions { totalCount } }", {}, id="field"),
    pytest.param('{ session(id: "a", idd: "a") { id } }', {}, id="argument"),
    pytest.param("{ personas @include(if: true, iff: true) { id } }", {}, id="directive-argument"),
    pytest.param("query($f: SessionFilte) { sessions(filter: $f) { totalCount } }", {}, id="type"),
    pytest.param("{ sessions(filter: {saveed: true}) { totalCount } }", {}, id="input-field-literal"),
    pytest.param("{ sessions(orderBy: UPDATED_AT_DES) { totalCount } }", {}, id="enum-literal"),
    pytest.param(
        "query($f: SessionFilter) { sessions(filter: $f) { totalCount } }",
        {"f": {"saveed": True}},
        id="input-field-variable",
    ),
    pytest.param(
        "query($o: SessionOrder) { sessions(orderBy: $o) { totalCount } }",
        {"o": "UPDATED_AT_DES"},
        id="enum-variable",
    ),
    pytest.param(
        "mutation($input: AppendMessageInput!) { appendMessage(input: $input) { id } }",
        {"input": {"sessionId": "s", "role": "USR", "text": "hi"}},
        id="nested-enum-variable",
    ),
]


@SQLITE_ONLY
@pytest.mark.parametrize(("query", "variables"), SUGGESTED)
async def test_production_hides_every_did_you_mean(
    client_with: ClientFactory, query: str, variables: dict[str, Any]
) -> None:
    async with client_with() as development:
        [hinted] = (await post(development, query, variables))["errors"]
    async with client_with(production=True) as production:
        [error] = (await post(production, query, variables))["errors"]

    assert "Did you mean" in hinted["message"]  # the case is one that suggests
    assert "Did you mean" not in error["message"]
    assert error["message"] == re.sub(r" Did you mean [^?]*\?", "", hinted["message"])  # the rest is kept
    assert error["extensions"] == hinted["extensions"]


# --- body size against a real uvicorn (httpx's ASGI transport is not a socket) ------------------


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("live")
    env = {"KALITO_DATABASE_URL": f"sqlite://{directory / 'kalito.db'}", "KALITO_MAX_BODY_BYTES": str(LIMIT)}
    with live_server(env, directory) as url:
        yield url


def raw_post(url: str, head: bytes, chunks: Iterable[bytes] = ()) -> http.client.HTTPResponse:
    """POST /graphql over a plain socket: `head` holds the extra header lines; `chunks` are sent
    with chunked transfer encoding, as a client that streams its body does."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    request = b"POST /graphql HTTP/1.1\r\nHost: kalito.test\r\nContent-Type: application/json\r\n" + head + b"\r\n"
    sock.sendall(request)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the server may answer before the end
        for chunk in chunks:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if chunks:
            sock.sendall(b"0\r\n\r\n")
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response


def test_uvicorn_refuses_a_declared_length_over_the_limit_before_reading_the_body(live_url: str) -> None:
    # No body follows: were the server to wait for it, this would never answer.
    response = raw_post(live_url, b"Content-Length: 10000000\r\n")
    assert response.status == 413
    assert response.getheader("connection") == "close"
    assert json.loads(response.read())["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}


def test_uvicorn_refuses_a_chunked_body_over_the_limit(live_url: str) -> None:
    body = create_body(LIMIT + 1, session_id="too-large")
    response = raw_post(live_url, b"Transfer-Encoding: chunked\r\n", [body[:500], body[500:1000], body[1000:]])
    assert response.status == 413
    assert json.loads(response.read())["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    unwritten = httpx.post(f"{live_url}/graphql", json={"query": '{ session(id: "too-large") { id } }'})
    assert unwritten.json() == {"data": {"session": None}}


def test_uvicorn_runs_a_chunked_body_within_the_limit(live_url: str) -> None:
    body = create_body(LIMIT)
    response = raw_post(live_url, b"Transfer-Encoding: chunked\r\n", [body[:500], body[500:]])
    assert response.status == 200
    assert json.loads(response.read()) == {"data": {"createSession": {"id": "batched"}}}
