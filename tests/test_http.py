"""The GraphQL endpoint over HTTP: media types, status codes, GET, refused bodies, CORS, masking."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import models
from settings import Settings

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient

SESSION = """
query Session($id: ID!) {
  session(id: $id) { id name }
}
"""

CREATE_SESSION = """
mutation CreateSession($id: ID!) {
  createSession(input: {id: $id, saved: true}) { id }
}
"""

DELETE_SESSION = """
mutation DeleteSession($id: ID!) {
  deleteSession(id: $id)
}
"""

TWO_SESSIONS = """
query TwoSessions($kept: ID!, $broken: ID!) {
  kept: session(id: $kept) { id name }
  broken: session(id: $broken) { id name }
}
"""

SESSIONS_PAGE = """
query SessionsPage($first: Int) {
  sessions(first: $first) { totalCount }
}
"""

PARSE_ERROR = "query { session(id: "
VALIDATION_ERROR = 'query { session(id: "a") { noSuchField } }'

APOLLO_ACCEPT = "application/graphql-response+json,application/json;q=0.9"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


async def post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, accept: str | None = None
) -> httpx.Response:
    headers = {"accept": accept} if accept else {}
    return await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


async def session_exists(session_id: str) -> bool:
    return await models.Session.exists(id=session_id)


# --- POST and media types -------------------------------------------------------------------


async def test_post_with_json_answers_json(http: httpx.AsyncClient) -> None:
    response = await post(http, CREATE_SESSION, {"id": "posted"})

    assert (response.status_code, media_type(response)) == (200, "application/json")
    assert response.json() == {"data": {"createSession": {"id": "posted"}}}
    assert await session_exists("posted")


async def test_post_with_a_charset_in_the_content_type_works(http: httpx.AsyncClient) -> None:
    body = json.dumps({"query": CREATE_SESSION, "variables": {"id": "charset"}})

    response = await http.post("/graphql", content=body, headers={"content-type": "application/json; charset=utf-8"})

    assert response.json() == {"data": {"createSession": {"id": "charset"}}}


async def test_a_body_sent_in_pieces_is_read_whole_the_first_time_and_once_planned(http: httpx.AsyncClient) -> None:
    await post(http, CREATE_SESSION, {"id": "pieces"})
    body = json.dumps({"query": SESSION, "variables": {"id": "pieces"}}).encode()

    async def in_pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 7):
            yield body[start : start + 7]

    for _ in range(2):  # strawberry answers the first; the plan it leaves answers the second
        response = await http.post("/graphql", content=in_pieces(), headers={"content-type": "application/json"})
        assert response.json() == {"data": {"session": {"id": "pieces", "name": "New Chat"}}}


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
async def test_the_answer_is_application_json_unless_the_client_asks_otherwise(
    http: httpx.AsyncClient, accept: str | None
) -> None:
    response = await post(http, SESSION, {"id": "none"}, accept=accept)

    assert (response.status_code, media_type(response)) == (200, "application/json")
    assert response.json() == {"data": {"session": None}}


@pytest.mark.parametrize("accept", [APOLLO_ACCEPT, GRAPHQL_RESPONSE_JSON])
async def test_the_answer_is_graphql_response_json_when_the_client_accepts_it(
    http: httpx.AsyncClient, accept: str
) -> None:
    response = await post(http, SESSION, {"id": "none"}, accept=accept)

    assert (response.status_code, media_type(response)) == (200, GRAPHQL_RESPONSE_JSON)
    assert response.json() == {"data": {"session": None}}


# --- status codes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code"),
    [(PARSE_ERROR, "GRAPHQL_PARSE_FAILED"), (VALIDATION_ERROR, "GRAPHQL_VALIDATION_FAILED")],
)
async def test_with_graphql_response_json_a_request_error_is_400_without_data(
    http: httpx.AsyncClient, query: str, code: str
) -> None:
    response = await post(http, query, accept=APOLLO_ACCEPT)

    assert (response.status_code, media_type(response)) == (400, GRAPHQL_RESPONSE_JSON)
    body = response.json()
    assert "data" not in body
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]


@pytest.mark.parametrize(
    ("query", "code"),
    [(PARSE_ERROR, "GRAPHQL_PARSE_FAILED"), (VALIDATION_ERROR, "GRAPHQL_VALIDATION_FAILED")],
)
async def test_with_application_json_a_request_error_is_200_without_data(
    http: httpx.AsyncClient, query: str, code: str
) -> None:
    response = await post(http, query, accept="application/json")

    assert (response.status_code, media_type(response)) == (200, "application/json")
    body = response.json()
    assert "data" not in body
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]


async def test_a_variable_of_the_wrong_type_is_a_request_error(http: httpx.AsyncClient) -> None:
    response = await post(http, SESSIONS_PAGE, {"first": "ten"}, accept=APOLLO_ACCEPT)

    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("accept", [APOLLO_ACCEPT, "application/json"])
async def test_a_field_error_is_200_with_data(http: httpx.AsyncClient, accept: str) -> None:
    response = await post(http, DELETE_SESSION, {"id": "nobody"}, accept=accept)

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None  # deleteSession is non-null: the error nulls the whole data
    assert [(error["path"], error["extensions"]["code"]) for error in body["errors"]] == [
        (["deleteSession"], "NOT_FOUND")
    ]


async def test_a_field_error_keeps_the_rest_of_the_data(http: httpx.AsyncClient) -> None:
    await models.Session.create_session(models.ONE_USER, "kept", name="Kept")

    response = await post(http, TWO_SESSIONS, {"kept": "kept", "broken": "not an id!"}, accept=APOLLO_ACCEPT)

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"kept": {"id": "kept", "name": "Kept"}, "broken": None}
    assert [(error["path"], error["extensions"]["code"]) for error in body["errors"]] == [
        (["broken"], "BAD_USER_INPUT")
    ]


# --- GET --------------------------------------------------------------------------------------


async def test_a_query_over_get_works_with_json_variables(http: httpx.AsyncClient) -> None:
    await models.Session.create_session(models.ONE_USER, "viaget", name="Via GET")

    response = await http.get("/graphql", params={"query": SESSION, "variables": json.dumps({"id": "viaget"})})

    assert (response.status_code, media_type(response)) == (200, "application/json")
    assert response.json() == {"data": {"session": {"id": "viaget", "name": "Via GET"}}}


async def test_a_query_over_get_answers_graphql_response_json_when_asked(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/graphql",
        params={"query": SESSION, "variables": json.dumps({"id": "none"})},
        headers={"accept": APOLLO_ACCEPT},
    )

    assert (response.status_code, media_type(response)) == (200, GRAPHQL_RESPONSE_JSON)
    assert response.json() == {"data": {"session": None}}


async def test_a_mutation_over_get_is_405_allowing_post_and_changes_nothing(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": CREATE_SESSION, "variables": json.dumps({"id": "viaget"})})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert [error["extensions"]["code"] for error in response.json()["errors"]]
    assert not await session_exists("viaget")


async def test_a_get_with_malformed_variables_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": SESSION, "variables": "{not json"})

    assert 400 <= response.status_code < 500
    assert all("code" in error["extensions"] for error in response.json()["errors"])


# --- bodies a browser sends without a preflight -----------------------------------------------


@pytest.mark.parametrize(
    "request_kwargs",
    [
        pytest.param(
            {
                "content": json.dumps({"query": CREATE_SESSION, "variables": {"id": "csrf"}}),
                "headers": {"content-type": "text/plain"},
            },
            id="text/plain",
        ),
        pytest.param(
            {"data": {"query": CREATE_SESSION, "variables": json.dumps({"id": "csrf"})}},
            id="form-urlencoded",
        ),
        pytest.param(
            {
                "data": {"operations": json.dumps({"query": CREATE_SESSION, "variables": {"id": "csrf"}}), "map": "{}"},
                "files": {"unused": ("a.txt", b"x", "text/plain")},
            },
            id="multipart",
        ),
        pytest.param(
            {"content": json.dumps({"query": CREATE_SESSION, "variables": {"id": "csrf"}})},
            id="no content type",
        ),
    ],
)
async def test_a_post_that_needs_no_preflight_is_refused_and_never_executed(
    http: httpx.AsyncClient, request_kwargs: dict[str, Any]
) -> None:
    response = await http.post("/graphql", **request_kwargs)

    assert 400 <= response.status_code < 500
    assert [error["extensions"]["code"] for error in response.json()["errors"]]
    assert not await session_exists("csrf")


@pytest.mark.parametrize("body", ["{not json", "", "[1, 2", "[]", "[{}]", '"query"', "42", "null", " true"])
async def test_a_body_that_is_not_a_json_request_is_400_with_a_code(http: httpx.AsyncClient, body: str) -> None:
    response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})

    assert (response.status_code, media_type(response)) == (400, "application/json")
    assert response.json()["errors"][0]["extensions"]["code"]


async def test_a_post_without_a_query_is_400_with_a_code(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"variables": {}})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"]


# --- GraphiQL and health --------------------------------------------------------------------


async def test_a_browser_getting_graphql_is_shown_graphiql(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})

    assert (response.status_code, media_type(response)) == (200, "text/html")
    assert "graphiql" in response.text.lower()


async def test_healthz_answers_ok_when_the_database_answers(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


# --- CORS -----------------------------------------------------------------------------------


async def preflight(http: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await http.options(
        "/graphql",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )


class TestWithoutCorsOrigins:
    """The default: no origin may read an answer from a browser page on another origin."""

    async def test_a_preflight_is_refused(self, http: httpx.AsyncClient) -> None:
        response = await preflight(http, "http://app.example")

        assert response.status_code == 405
        assert not any(name.startswith("access-control-") for name in response.headers)

    async def test_a_request_from_another_origin_gets_no_cors_header(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/graphql",
            json={"query": SESSION, "variables": {"id": "none"}},
            headers={"origin": "http://app.example"},
        )

        assert response.json() == {"data": {"session": None}}
        assert not any(name.startswith("access-control-") for name in response.headers)


class TestCors:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(database_url=database_url, cors_origins=("http://app.example",))

    async def test_a_preflight_from_an_allowed_origin_is_allowed(self, http: httpx.AsyncClient) -> None:
        response = await preflight(http, "http://app.example")

        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "http://app.example"
        assert "POST" in response.headers["access-control-allow-methods"]
        assert "content-type" in response.headers["access-control-allow-headers"].lower()

    async def test_a_preflight_from_another_origin_is_not_allowed(self, http: httpx.AsyncClient) -> None:
        response = await preflight(http, "http://evil.example")

        assert response.status_code >= 400
        assert "access-control-allow-origin" not in response.headers

    async def test_a_request_from_an_allowed_origin_may_read_the_answer(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/graphql",
            json={"query": SESSION, "variables": {"id": "none"}},
            headers={"origin": "http://app.example"},
        )

        assert response.json() == {"data": {"session": None}}
        assert response.headers["access-control-allow-origin"] == "http://app.example"

    async def test_a_request_from_another_origin_gets_no_cors_header(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/graphql",
            json={"query": SESSION, "variables": {"id": "none"}},
            headers={"origin": "http://evil.example"},
        )

        assert "access-control-allow-origin" not in response.headers


# --- masking --------------------------------------------------------------------------------


async def test_an_unexpected_failure_is_masked_for_the_client_and_logged_in_full(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_by_id(cls: type[models.Session], owner: models.Owner, session_id: str) -> models.Session | None:
        raise RuntimeError("secret SQL detail")

    monkeypatch.setattr(models.Session, "by_id", classmethod(broken_by_id))
    caplog.set_level(logging.ERROR, logger="kalito.errors")

    response = await post(http, SESSION, {"id": "any"}, accept=APOLLO_ACCEPT)

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"session": None}
    [error] = body["errors"]
    assert (error["path"], error["extensions"]) == (["session"], {"code": "INTERNAL_SERVER_ERROR"})
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    [record] = [record for record in caplog.records if record.name == "kalito.errors"]
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError
    assert "secret SQL detail" in caplog.text
    assert "Traceback" in caplog.text


async def test_expected_errors_are_not_logged_as_failures(gql: GraphQLClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kalito.errors")

    error = await gql.error(DELETE_SESSION, {"id": "nobody"})

    assert error["extensions"]["code"] == "NOT_FOUND"
    assert [record for record in caplog.records if record.name == "kalito.errors"] == []


# --- every error has a code -----------------------------------------------------------------


ERROR_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("POST", {"json": {"query": PARSE_ERROR}}),
    ("POST", {"json": {"query": VALIDATION_ERROR}}),
    ("POST", {"json": {"query": "query($id: ID!) { session(id: $id) { id } }", "variables": {}}}),
    ("POST", {"json": {"query": SESSIONS_PAGE, "variables": {"first": "ten"}}}),
    ("POST", {"json": {"query": SESSIONS_PAGE, "variables": {"first": 0}}}),
    ("POST", {"json": {"query": DELETE_SESSION, "variables": {"id": "nobody"}}}),
    ("POST", {"json": {"query": DELETE_SESSION, "variables": {"id": "not an id!"}}}),
    ("POST", {"json": {"query": SESSION, "operationName": "Nope", "variables": {"id": "a"}}}),
    ("POST", {"json": {"variables": {}}}),
    ("POST", {"content": "{not json", "headers": {"content-type": "application/json"}}),
    ("POST", {"content": "{}", "headers": {"content-type": "text/plain"}}),
    ("GET", {"params": {"query": CREATE_SESSION, "variables": json.dumps({"id": "a"})}}),
    ("GET", {"params": {"query": PARSE_ERROR}}),
]


@pytest.mark.parametrize("accept", [APOLLO_ACCEPT, "application/json"])
@pytest.mark.parametrize(("method", "request_kwargs"), ERROR_REQUESTS)
async def test_every_error_in_every_response_has_a_code(
    http: httpx.AsyncClient, method: str, request_kwargs: dict[str, Any], accept: str
) -> None:
    headers = {"accept": accept, **request_kwargs.get("headers", {})}

    response = await http.request(method, "/graphql", **{**request_kwargs, "headers": headers})

    errors = response.json()["errors"]
    assert errors
    assert all(isinstance(error["extensions"]["code"], str) for error in errors), errors


TWO_OPERATIONS = "query Names { personas { name } } query Ids { personas { id } }"


async def test_several_operations_without_an_operation_name_are_a_request_error(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": TWO_OPERATIONS}, headers={"Accept": "application/graphql-response+json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]


async def test_the_operation_name_picks_one_of_several_operations(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": TWO_OPERATIONS, "operationName": "Ids"})
    assert response.json() == {"data": {"personas": [{"id": "default-cloud"}, {"id": "default-local"}]}}
