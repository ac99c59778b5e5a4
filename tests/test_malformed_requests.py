"""Malformed requests get a 4xx (or a GraphQL error) with a JSON body and a code: never a 5xx,
never a stack trace.

Pure HTTP refusals (the body, the method) run on SQLite only; requests that reach GraphQL run
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import models
from settings import Settings

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
JSON_HEADERS = {"content-type": "application/json"}
CREATE = 'mutation { createSession(input: {id: "malformed"}) { id } }'
DEEP = 100_000


def assert_refused_cleanly(response: httpx.Response, status: int = 400) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert errors
    assert all(isinstance(error["extensions"]["code"], str) for error in errors), errors
    return errors


# --- bodies that are not a JSON request ---------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"query": "{ __typename }", "variables": {"a": "\xff\xfe"}}', id="invalid-utf8"),
        pytest.param(b'{"query": "\xc3\x28"}', id="invalid-utf8-continuation"),
        pytest.param(b'{"query": "\xed\xa0\x80"}', id="utf8-encoded-surrogate"),
        pytest.param(b'{"query": "{ __typename }"}\xff', id="trailing-invalid-utf8"),
        pytest.param(b"[" * DEEP, id="100k-deep-array"),
        pytest.param(b'{"a":' * DEEP, id="100k-deep-object"),
        pytest.param(
            b'{"query": "{ __typename }", "variables": ' + b'{"a":' * DEEP + b"1" + b"}" * (DEEP + 1), id="deep"
        ),
        pytest.param(b"[" * DEEP + b"]" * DEEP, id="100k-deep-array-closed"),
        pytest.param(b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}", id="5000-digit-number"),
        pytest.param(b'{"query": "{ __typename }"', id="truncated"),
        pytest.param(b'{"query": "{ __typename }"} {}', id="two-values"),
        pytest.param(b"", id="empty"),
        pytest.param(json.dumps({"query": CREATE}).encode("utf-16-le"), id="utf-16"),
        pytest.param(b"\xef\xbb\xbf" + json.dumps({"query": CREATE}).encode(), id="utf-8-bom"),
    ],
)
async def test_a_body_that_is_not_json_is_400(http: httpx.AsyncClient, body: bytes) -> None:
    assert_refused_cleanly(await http.post("/graphql", content=body, headers=JSON_HEADERS))
    assert not await models.Session.exists(id="malformed")


@SQLITE_ONLY
async def test_a_100k_deep_array_is_400_with_batching_on(db: str, database_url: str) -> None:
    from tests.test_production_and_auth import client_for

    async for http in client_for(Settings(database_url=database_url, batch_max_operations=10)):
        for body in (b"[" * DEEP, b"[" * DEEP + b"]" * DEEP):
            assert_refused_cleanly(await http.post("/graphql", content=body, headers=JSON_HEADERS))


@SQLITE_ONLY
@pytest.mark.parametrize(
    "request_body",
    [
        pytest.param({"query": 5}, id="query-a-number"),
        pytest.param({"query": ["{ __typename }"]}, id="query-a-list"),
        pytest.param({"query": "{ __typename }", "variables": []}, id="variables-a-list"),
        pytest.param({"query": "{ __typename }", "variables": "{}"}, id="variables-a-string"),
        pytest.param({"query": "{ __typename }", "extensions": 1}, id="extensions-a-number"),
        pytest.param({"query": "{ __typename }", "operationName": 5}, id="operation-name-a-number"),
        pytest.param({"query": "{ __typename }", "operationName": ["a"]}, id="operation-name-a-list"),
        pytest.param({"query": None}, id="query-null"),
    ],
)
async def test_a_request_object_with_fields_of_the_wrong_type_is_400(
    http: httpx.AsyncClient, request_body: dict[str, Any]
) -> None:
    assert_refused_cleanly(await http.post("/graphql", json=request_body))


@SQLITE_ONLY
async def test_get_variables_nested_100k_deep_are_400(http: httpx.AsyncClient) -> None:
    # a URL has room for a few thousand levels; Python's json gives up at about a thousand
    response = await http.get("/graphql", params={"query": "{ __typename }", "variables": "[" * 5000})
    assert_refused_cleanly(response)


# --- methods --------------------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
async def test_another_method_is_405_in_json_allowing_get_and_post(http: httpx.AsyncClient, method: str) -> None:
    response = await http.request(method, "/graphql", json={"query": CREATE})
    assert_refused_cleanly(response, status=405)
    assert response.headers["allow"] == "GET, POST"
    assert not await models.Session.exists(id="malformed")


# --- documents ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_over_plain_http_is_400_pointing_to_the_websocket(
    http: httpx.AsyncClient, method: str
) -> None:
    query = "subscription { sessionEvents { kind } }"
    if method == "GET":
        response = await http.get("/graphql", params={"query": query})
    else:
        response = await http.post("/graphql", json={"query": query})
    [error] = assert_refused_cleanly(response)
    assert "WebSocket" in error["message"]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{" * DEEP, id="100k-open-braces"),
        pytest.param("{ a" + " { a" * 3000 + " }" * 3001, id="3000-deep-selection"),
        pytest.param("{ personas(x: " + "[" * 3000 + "]" * 3000 + ") { id } }", id="3000-deep-list"),
        pytest.param('{ session(id: "' + "\\u0000" + '") { id } }', id="nul-escape"),
        pytest.param('{ session(id: "\\ud800") { id } }', id="lone-surrogate-escape"),
        pytest.param("{ __typename } \x00", id="nul-character"),
        pytest.param(
            "{ ...F0 }\n"
            + "\n".join(f"fragment F{index} on Query {{ ...F{index + 1} }}" for index in range(1800))
            + "\nfragment F1800 on Query { __typename }",
            id="1800-fragment-chain",
        ),
    ],
)
async def test_a_pathological_document_gets_coded_errors(http: httpx.AsyncClient, query: str) -> None:
    response = await http.post("/graphql", json={"query": query})
    errors = assert_refused_cleanly(response, status=200)
    assert all(error["extensions"]["code"] != "INTERNAL_SERVER_ERROR" for error in errors), errors


# --- variables of the wrong type --------------------------------------------------------------

SESSIONS = "query($first: Int, $filter: SessionFilter) { sessions(first: $first, filter: $filter) { totalCount } }"
APPEND = "mutation($input: AppendMessageInput!) { appendMessage(input: $input) { id } }"
DELETE_MANY = "mutation($ids: [ID!]!) { deleteSessions(ids: $ids) }"
MESSAGE = {"sessionId": "malformed", "role": "USER", "text": "hi"}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param(SESSIONS, {"first": "ten"}, id="int-a-string"),
        pytest.param(SESSIONS, {"first": 1.5}, id="int-a-fraction"),
        pytest.param(SESSIONS, {"first": 2**40}, id="int-past-32-bits"),
        pytest.param(SESSIONS, {"first": [1]}, id="int-a-list"),
        pytest.param(SESSIONS, {"first": {"a": 1}}, id="int-an-object"),
        pytest.param(SESSIONS, {"filter": "saved"}, id="input-a-string"),
        pytest.param(SESSIONS, {"filter": [{"saved": True}]}, id="input-a-list"),
        pytest.param(SESSIONS, {"filter": {"saved": "yes"}}, id="boolean-a-string"),
        pytest.param(SESSIONS, {"filter": {"updatedAfter": 12}}, id="datetime-a-number"),
        pytest.param(SESSIONS, {"filter": {"updatedAfter": "yesterday"}}, id="datetime-not-iso"),
        pytest.param(SESSIONS, {"filter": {"updatedAfter": {"a": [1]}}}, id="datetime-an-object"),
        pytest.param(APPEND, {"input": {**MESSAGE, "role": 1}}, id="enum-a-number"),
        pytest.param(APPEND, {"input": {**MESSAGE, "text": None}}, id="non-null-null"),
        pytest.param(APPEND, {"input": {**MESSAGE, "tokenUsage": "12"}}, id="int-field-a-string"),
        pytest.param(APPEND, {"input": {**MESSAGE, "sessionId": {"id": "x"}}}, id="id-an-object"),
        pytest.param(APPEND, {"input": {**MESSAGE, "sessionId": 1.5}}, id="id-a-fraction"),
        pytest.param(APPEND, {"input": None}, id="required-input-null"),
        pytest.param(APPEND, {}, id="required-input-missing"),
        pytest.param(DELETE_MANY, {"ids": [["malformed"]]}, id="list-of-lists"),
        pytest.param(DELETE_MANY, {"ids": [None]}, id="list-of-null"),
        pytest.param(DELETE_MANY, {"ids": json.loads("[" * 500 + "]" * 500)}, id="list-500-deep"),
    ],
)
async def test_a_variable_of_the_wrong_type_is_bad_user_input_and_writes_nothing(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> None:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    errors = assert_refused_cleanly(response, status=200)
    assert {error["extensions"]["code"] for error in errors} <= {"BAD_USER_INPUT", "NOT_FOUND"}, errors
    assert not await models.Message.exists(session_id="malformed")
