"""A real Apollo Client 4 against the real server process, on SQLite and on PostgreSQL.

The flow is tests/e2e/apollo/flow.mjs: create an ephemeral session, list (not there), save,
list (there), rename with compare-and-set and read the rename from Apollo's normalized cache,
hit CONFLICT with the stale updatedAt, delete, read null, delete again for NOT_FOUND; then follow
one session's events over WebSocket (GraphQLWsLink) while writing to it over HTTP.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.databases import server_database
from support.live_server import live_server
from tests.databases import EACH_DATABASE

APOLLO_DIR = Path(__file__).resolve().parent / "e2e" / "apollo"
NODE, NPM = shutil.which("node") or "", shutil.which("npm") or ""
pytestmark = pytest.mark.skipif(not (NODE and NPM), reason="Node.js and npm are not installed")


@pytest.fixture(scope="session")
def apollo_packages() -> Path:
    """The pinned npm packages (`make test` installs them; a bare pytest run does it here)."""
    if not (APOLLO_DIR / "node_modules" / "@apollo" / "client").is_dir():
        subprocess.run([NPM, "ci", "--no-fund", "--no-audit"], cwd=APOLLO_DIR, check=True, timeout=300)
    return APOLLO_DIR


@pytest.fixture(params=EACH_DATABASE)
def server_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with (
        server_database(request.param, tmp_path) as database_url,
        live_server({"KALITO_DATABASE_URL": database_url}, tmp_path) as url,
    ):
        yield url


def run_flow(url: str) -> dict[str, Any]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("KALITO_")}
    flow = subprocess.run([NODE, "flow.mjs", url], cwd=APOLLO_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert flow.returncode == 0, f"the Apollo Client flow failed:\n{flow.stdout}\n{flow.stderr}"
    summary: dict[str, Any] = json.loads(flow.stdout.strip().splitlines()[-1])
    return summary


def test_apollo_client_flow(apollo_packages: Path, server_url: str) -> None:
    endpoint = f"{server_url}/graphql"
    summary = run_flow(endpoint)

    pinned = json.loads((APOLLO_DIR / "package.json").read_text())["dependencies"]["@apollo/client"]
    assert summary["ok"] is True
    assert summary["apolloClient"] == pinned and pinned.startswith("4.")
    assert summary["url"] == endpoint
    # Apollo Client 4 asks for application/graphql-response+json, and gets it on every answer.
    assert summary["contentTypes"] == ["application/graphql-response+json; charset=utf-8"]

    steps = {step["step"]: step for step in summary["steps"]}
    assert list(steps) == [
        "createSession",
        "sessions (default filter)",
        "saveSession",
        "sessions (after save)",
        "updateSession",
        "updateSession (stale expectedUpdatedAt)",
        "deleteSession",
        "session (after delete)",
        "deleteSession (again)",
        "sessionEvents",
    ]
    assert steps["createSession"] == {"step": "createSession", "id": summary["sessionId"], "saved": False}
    # A fresh database: the ephemeral session is not in the sidebar, the saved one is.
    assert (steps["sessions (default filter)"]["totalCount"], steps["sessions (default filter)"]["listed"]) == (
        0,
        False,
    )
    assert (steps["sessions (after save)"]["totalCount"], steps["sessions (after save)"]["listed"]) == (1, True)
    assert steps["updateSession"]["cacheOnlyName"] == steps["updateSession"]["name"]
    assert steps["updateSession (stale expectedUpdatedAt)"]["code"] == "CONFLICT"
    assert steps["session (after delete)"]["session"] is None
    assert steps["deleteSession (again)"]["code"] == "NOT_FOUND"
    # Over Apollo's GraphQLWsLink: one event per committed write, none for the refused one.
    first, *then = steps["sessionEvents"]["kinds"]
    assert first in ("CREATED", "UPDATED")  # touchSession until the subscription is live
    assert then == ["SAVED", "UPDATED", "UPDATED", "DELETED"]
