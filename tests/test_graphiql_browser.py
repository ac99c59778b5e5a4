"""GraphiQL as a person uses it: a real headless Chromium (Debian's) opens the page the server
shows a browser at /graphql, a query is typed with the keyboard, the run button clicked, and the
result read from the page (tests/e2e/graphiql/run-query.mjs, with playwright-core). Every request
the page makes goes through a filter that aborts any for another host: the page must load all of
GraphiQL from this server, and works offline.

Without Chromium (or Node) the browser test is skipped, unless KALITO_REQUIRE_BROWSER=1 (as CI
sets) makes that a failure. The HTTP tests below it need neither.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server import create_app
from settings import Settings
from support import REPOSITORY_ROOT
from support.live_server import live_server
from web.graphiql import ASSETS_DIRECTORY

E2E_DIR = Path(__file__).resolve().parent / "e2e" / "graphiql"
CHROMIUM = os.environ.get("KALITO_CHROMIUM", "/usr/bin/chromium")
NODE, NPM = shutil.which("node"), shutil.which("npm")
BROWSER_HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
TYPED_QUERY = "{ sessions(filter: {saved: null}) { totalCount edges { node { id name } } } }"


@pytest.fixture
def chromium() -> str:
    missing = [
        what
        for what, present in [
            (f"Chromium ({CHROMIUM}: apt-get install chromium)", os.access(CHROMIUM, os.X_OK)),
            ("Node.js and npm", NODE is not None and NPM is not None),
        ]
        if not present
    ]
    if missing:
        reason = f"{' and '.join(missing)} not installed"
        if os.environ.get("KALITO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"KALITO_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def playwright_packages() -> Path:
    """playwright-core, pinned (`make test` installs it; a bare pytest run does it here). It
    drives the system's Chromium: it downloads no browser of its own."""
    assert NPM is not None
    if not (E2E_DIR / "node_modules" / "playwright-core").is_dir():
        subprocess.run([NPM, "ci", "--no-fund", "--no-audit"], cwd=E2E_DIR, check=True, timeout=300)
    return E2E_DIR


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    with live_server({"KALITO_DATABASE_URL": f"sqlite://{tmp_path / 'kalito.db'}"}, tmp_path) as url:
        yield url


def run_in_browser(endpoint: str, awaited: str, chromium: str, screenshot: Path) -> dict[str, Any]:
    assert NODE is not None
    env = {name: value for name, value in os.environ.items() if not name.startswith("KALITO_")}
    env["KALITO_CHROMIUM"] = chromium
    run = subprocess.run(
        [NODE, "run-query.mjs", endpoint, awaited, str(screenshot)],
        cwd=E2E_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, f"the browser run failed:\n{run.stdout}\n{run.stderr}"
    report: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return report


def test_a_query_typed_into_graphiql_in_chromium_shows_its_result(
    chromium: str, playwright_packages: Path, server_url: str, tmp_path: Path
) -> None:
    name = f"Café über GraphiQL {uuid.uuid4().hex[:8]}"
    create = "mutation($name: String) { createSession(input: {name: $name}) { id } }"
    created = httpx.post(f"{server_url}/graphql", json={"query": create, "variables": {"name": name}}).json()
    session_id = created["data"]["createSession"]["id"]

    report = run_in_browser(f"{server_url}/graphql", name, chromium, tmp_path / "graphiql.png")
    print(f"Chromium {report['chromium']} read from GraphiQL's result pane:\n{report['resultText']}")

    # What was typed is what the editor holds (no auto-closed bracket doubled), and what was
    # read from the result pane is the server's answer to it.
    assert (report["typed"], report["editorQuery"]) == (TYPED_QUERY, TYPED_QUERY)
    assert json.loads(report["resultText"]) == {
        "data": {"sessions": {"totalCount": 1, "edges": [{"node": {"id": session_id, "name": name}}]}}
    }
    # All of GraphiQL came from this server: no request left for another host, the page's
    # Content-Security-Policy blocked nothing it needs, and nothing failed in the page.
    assert report["external"] == []
    assert all(request.split(" ", 1)[1].startswith(server_url) for request in report["requested"])
    assert f"GET {server_url}/graphiql/vendor/graphiql.min.js" in report["requested"]
    assert (report["cspViolations"], report["consoleErrors"]) == ([], [])


# --- the page and its files over HTTP: no browser needed -----------------------------------------


async def client(production: bool) -> AsyncIterator[httpx.AsyncClient]:
    # Neither the page nor the files touch the database: no lifespan, no database.
    app = create_app(Settings(database_url="sqlite://:memory:", production=production))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kalito.test") as http:
        yield http


@pytest.fixture
async def development() -> AsyncIterator[httpx.AsyncClient]:
    async for http in client(production=False):
        yield http


@pytest.fixture
async def production() -> AsyncIterator[httpx.AsyncClient]:
    async for http in client(production=True):
        yield http


async def test_the_graphiql_page_loads_only_this_servers_files(development: httpx.AsyncClient) -> None:
    page = await development.get("/graphql", headers=BROWSER_HTML)

    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert {"default-src 'none'", "script-src 'self'", "connect-src 'self'"} <= set(policy.split("; "))
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert not [source for source in sources if not source.startswith(("/graphiql/", "data:"))]
    assert "<script>" not in page.text  # no inline script: the policy would block it
    for source in sources:
        if source.startswith("/graphiql/"):
            asset = await development.get(source)
            assert asset.status_code == 200, source
            assert asset.headers["content-type"].split(";")[0] in ("text/javascript", "text/css"), source
            assert asset.headers["cache-control"] == "no-cache"


def test_the_committed_graphiql_files_are_built_from_the_pinned_packages() -> None:
    """scripts/build_graphiql_assets.py writes the licences with the files: a pin changed without
    a rebuild leaves the old versions named there. (`--check` compares the bytes, with npm.)"""
    pins = json.loads((REPOSITORY_ROOT / "scripts" / "graphiql-assets" / "package.json").read_text())
    licences = (ASSETS_DIRECTORY / "vendor" / "LICENSES.md").read_text()
    for package in ("graphiql", "@graphiql/plugin-explorer", "react", "react-dom"):
        assert f"## {package} {pins['dependencies'][package]} (MIT)" in licences


async def test_production_serves_neither_graphiql_nor_its_files(production: httpx.AsyncClient) -> None:
    page = await production.get("/graphql", headers=BROWSER_HTML)
    asset = await production.get("/graphiql/vendor/graphiql.min.js")

    assert page.status_code != 200 and "graphiql" not in page.text.lower()
    assert asset.status_code == 404
