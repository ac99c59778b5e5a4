"""A real Apollo Client 4 against the real server process, on SQLite and on PostgreSQL.

The flow itself is tests/e2e/apollo/flow.mjs (create an ephemeral session, save it, list it,
rename it with compare-and-set, read the rename from Apollo's normalized cache, hit CONFLICT
with a stale updatedAt, delete it, hit NOT_FOUND). This test starts `uvicorn server:app` on a
fresh database, installs the pinned npm packages when they are not there, and runs the flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import asyncpg
import httpx
import pytest

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
APOLLO_DIR = Path(__file__).resolve().parent / "e2e" / "apollo"
POSTGRES_URL = os.environ.get("KALITO_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")

STARTUP_SECONDS = 30
NPM_CI_SECONDS = 300
FLOW_SECONDS = 120

NODE = shutil.which("node")
NPM = shutil.which("npm")
pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="Node.js and npm are not installed: the Apollo Client e2e test needs them",
)


def postgres_answers() -> bool:
    url = urlparse(POSTGRES_URL)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 5432), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run_on_postgres(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def throwaway_postgres_database() -> Iterator[str]:
    name = f"kalito_apollo_{uuid.uuid4().hex}"
    asyncio.run(run_on_postgres(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rstrip("/").rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(run_on_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres", marks=pytest.mark.skipif(not postgres_answers(), reason="PostgreSQL does not answer")
        ),
    ]
)
def server_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'kalito.db'}"
    else:
        with throwaway_postgres_database() as url:
            yield url


def server_environment(database_url: str) -> dict[str, str]:
    """The caller's environment without any KALITO_* setting but the database."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KALITO_")}
    env["KALITO_DATABASE_URL"] = database_url
    return env


def tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@pytest.fixture
def server_url(server_database_url: str, tmp_path: Path) -> Iterator[str]:
    """`uvicorn server:app` on a free port, answering /healthz; stopped afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    argv = [sys.executable, "-m", "uvicorn", "server:app", "--host", "127.0.0.1", "--port", str(port)]
    argv.append("--no-access-log")
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv,
            cwd=REPOSITORY_ROOT,
            env=server_environment(server_database_url),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the server exited with {process.returncode} before answering:\n{tail(log)}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"the server did not answer GET /healthz with 200 within {STARTUP_SECONDS}s:\n"
                        + tail(log)
                    )
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    print(f"server log:\n{tail(log)}")  # shown by pytest when the test fails


@contextlib.contextmanager
def exclusive(name: str) -> Iterator[None]:
    """An inter-process lock, so parallel test workers do not run `npm ci` at the same time."""
    if sys.platform == "win32":  # pragma: no cover - the suite runs on Linux
        yield
        return
    import fcntl

    with open(Path(tempfile.gettempdir()) / name, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def node_modules_current() -> bool:
    """Installed, and from the committed lockfile (npm writes node_modules/.package-lock.json)."""
    installed = APOLLO_DIR / "node_modules" / ".package-lock.json"
    lockfile = APOLLO_DIR / "package-lock.json"
    return installed.exists() and installed.stat().st_mtime >= lockfile.stat().st_mtime


@pytest.fixture(scope="session")
def apollo_packages() -> Path:
    """The pinned npm packages of tests/e2e/apollo, installed with `npm ci` when missing."""
    assert NPM is not None
    lock_name = f"kalito-apollo-npm-ci-{hashlib.sha256(bytes(APOLLO_DIR)).hexdigest()[:16]}.lock"
    with exclusive(lock_name):
        if not node_modules_current():
            env = {
                **os.environ,
                "npm_config_fund": "false",
                "npm_config_audit": "false",
                "npm_config_update_notifier": "false",
            }
            try:
                installed = subprocess.run(
                    [NPM, "ci", "--no-fund", "--no-audit"],
                    cwd=APOLLO_DIR,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=NPM_CI_SECONDS,
                )
            except subprocess.TimeoutExpired as timeout:
                pytest.fail(f"`npm ci` in {APOLLO_DIR} took more than {NPM_CI_SECONDS}s:\n{timeout.stderr!r}")
            assert installed.returncode == 0, (
                f"`npm ci` in {APOLLO_DIR} failed ({installed.returncode}):\n"
                f"{installed.stdout}\n{installed.stderr}"
            )
    return APOLLO_DIR


def pinned_apollo_version() -> str:
    manifest = json.loads((APOLLO_DIR / "package.json").read_text())
    return str(manifest["dependencies"]["@apollo/client"])


def run_flow(directory: Path, url: str) -> dict[str, Any]:
    assert NODE is not None
    env = {name: value for name, value in os.environ.items() if not name.startswith("KALITO_")}
    try:
        flow = subprocess.run(
            [NODE, "flow.mjs", url],
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=FLOW_SECONDS,
        )
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(
            f"the Apollo Client flow did not finish within {FLOW_SECONDS}s:\n"
            f"{timeout.stdout!r}\n{timeout.stderr!r}"
        )
    assert flow.returncode == 0, (
        f"the Apollo Client flow failed ({flow.returncode}):\nstdout:\n{flow.stdout}\nstderr:\n{flow.stderr}"
    )
    lines = flow.stdout.strip().splitlines()
    assert lines, f"the flow printed no summary; stderr:\n{flow.stderr}"
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary


def test_apollo_client_flow(apollo_packages: Path, server_url: str) -> None:
    endpoint = f"{server_url}/graphql"
    summary = run_flow(apollo_packages, endpoint)

    assert summary["ok"] is True
    assert summary["apolloClient"] == pinned_apollo_version()
    assert summary["apolloClient"].startswith("4.")
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
    ]
    assert steps["createSession"] == {"step": "createSession", "id": summary["sessionId"], "saved": False}
    # A fresh database: the ephemeral session is not in the sidebar, the saved one is.
    assert steps["sessions (default filter)"]["totalCount"] == 0
    assert steps["sessions (default filter)"]["listed"] is False
    assert steps["sessions (after save)"]["totalCount"] == 1
    assert steps["sessions (after save)"]["listed"] is True
    assert steps["updateSession"]["cacheOnlyName"] == steps["updateSession"]["name"]
    assert steps["updateSession (stale expectedUpdatedAt)"]["code"] == "CONFLICT"
    assert steps["session (after delete)"]["session"] is None
    assert steps["deleteSession (again)"]["code"] == "NOT_FOUND"
