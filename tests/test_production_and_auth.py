"""Production mode (no GraphiQL, no introspection, CSRF-safe GETs) and the API token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

import models
from server import create_app
from settings import Settings

TOKEN = "correct horse battery staple"
PERSONAS = "{ personas { id } }"
INTROSPECTION = "{ __schema { queryType { name } } }"
CREATE = 'mutation { createSession(input: {id: "intruder"}) { id } }'


async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://kalito.test") as client:
        yield client


@pytest.fixture
async def production(db: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(Settings(database_url=database_url, production=True)):
        yield client


@pytest.fixture
async def guarded(db: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(Settings(database_url=database_url, api_token=TOKEN)):
        yield client


async def test_production_serves_no_graphiql(production: httpx.AsyncClient) -> None:
    response = await production.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()


async def test_production_refuses_introspection(production: httpx.AsyncClient) -> None:
    response = await production.post("/graphql", json={"query": INTROSPECTION})
    body = response.json()
    assert "data" not in body
    assert {error["extensions"]["code"] for error in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection has been disabled" in body["errors"][0]["message"]


async def test_development_allows_introspection(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": INTROSPECTION})
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_a_production_get_without_a_preflight_header_is_refused(production: httpx.AsyncClient) -> None:
    response = await production.get("/graphql", params={"query": PERSONAS})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "headers",
    [
        {"Apollo-Require-Preflight": "true"},
        {"X-Apollo-Operation-Name": "Personas"},
        {"Content-Type": "application/json"},
    ],
)
async def test_a_production_get_that_proves_it_is_not_cross_site_runs(
    production: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await production.get("/graphql", params={"query": PERSONAS}, headers=headers)
    assert response.json() == {"data": {"personas": [{"id": "default-cloud"}, {"id": "default-local"}]}}


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"],
)
async def test_without_the_token_a_request_is_unauthenticated_and_changes_nothing(
    guarded: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await guarded.post("/graphql", json={"query": CREATE}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json() == {
        "errors": [{"message": "A valid bearer token is required", "extensions": {"code": "UNAUTHENTICATED"}}]
    }
    assert not await models.Session.exists(id="intruder")


async def test_with_the_token_a_request_runs(guarded: httpx.AsyncClient) -> None:
    response = await guarded.post("/graphql", json={"query": CREATE}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.json() == {"data": {"createSession": {"id": "intruder"}}}


async def test_health_stays_open_with_a_token_set(guarded: httpx.AsyncClient) -> None:
    response = await guarded.get("/healthz")
    assert response.status_code == 200
