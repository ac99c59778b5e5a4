"""The real thing: the server process with its lifespan, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.databases import migrated_postgres_database
from support.live_server import live_server
from tests.databases import ON_POSTGRES

CREATE = """
mutation Create($input: CreateSessionInput!) { createSession(input: $input) { id saved } }
"""
SESSION = "query One($id: ID!) { session(id: $id) { id } }"


def post(url: str, query: str, variables: dict[str, object]) -> dict[str, object]:
    response = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=10)
    response.raise_for_status()
    body: dict[str, object] = response.json()
    assert "errors" not in body, body
    return body


def test_uvicorn_serves_graphiql_health_and_the_default_personas(tmp_path: Path) -> None:
    database = tmp_path / "kalito.db"
    with live_server({"KALITO_DATABASE_URL": f"sqlite://{database}"}, tmp_path) as url:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok", "database": "up"}
        page = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        body = post(url, "{ personas { id isDefault } }", {})
        assert body["data"] == {
            "personas": [{"id": "default-cloud", "isDefault": True}, {"id": "default-local", "isDefault": True}]
        }
    assert database.exists()
    journal = sqlite3.connect(database).execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


@ON_POSTGRES
def test_uvicorn_serves_on_postgresql(tmp_path: Path) -> None:
    with (
        migrated_postgres_database() as database_url,
        live_server({"KALITO_DATABASE_URL": database_url}, tmp_path) as url,
    ):
        post(url, CREATE, {"input": {"id": "on-postgres", "saved": True}})
        assert post(url, SESSION, {"id": "on-postgres"})["data"] == {"session": {"id": "on-postgres"}}


def test_the_console_command_serves_and_keeps_data_across_restarts(tmp_path: Path) -> None:
    env = {"KALITO_DATABASE_URL": f"sqlite://{tmp_path / 'kalito.db'}"}
    command = [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    with live_server(env, tmp_path, command) as url:
        post(url, CREATE, {"input": {"id": "kept-across-restarts", "saved": True}})
    with live_server(env, tmp_path, command) as url:
        assert post(url, SESSION, {"id": "kept-across-restarts"})["data"] == {"session": {"id": "kept-across-restarts"}}


def test_the_sweep_purges_idle_ephemeral_sessions_and_keeps_saved_ones(tmp_path: Path) -> None:
    env = {
        "KALITO_DATABASE_URL": f"sqlite://{tmp_path / 'kalito.db'}",
        "KALITO_EPHEMERAL_TTL_SECONDS": "1",
        "KALITO_PURGE_INTERVAL_SECONDS": "1",
    }
    with live_server(env, tmp_path) as url:
        post(url, CREATE, {"input": {"id": "ephemeral"}})
        post(url, CREATE, {"input": {"id": "saved", "saved": True}})
        deadline = time.monotonic() + 20
        while post(url, SESSION, {"id": "ephemeral"})["data"] != {"session": None}:
            if time.monotonic() > deadline:
                pytest.fail("the idle ephemeral session was never purged")
            time.sleep(0.2)
        assert post(url, SESSION, {"id": "saved"})["data"] == {"session": {"id": "saved"}}
