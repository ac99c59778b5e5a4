"""Observability: the request id, one JSON log line per operation, and Prometheus metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import string
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

import models
from server import create_app
from settings import Settings
from support.live_server import live_server
from tests.ws_client import connected
from web.logs import JsonFormatter, TextFormatter, configure_logging
from web.metrics import ANONYMOUS, MAX_OPERATION_NAMES, OTHER

PERSONAS = "query Personas { personas { id } }"
CREATE = "mutation Create($input: CreateSessionInput!) { createSession(input: $input) { id } }"
SESSION = "query One($id: ID!) { session(id: $id) { id } }"
APOLLO_ACCEPT = "application/graphql-response+json, application/json;q=0.9"
UUID4_HEX = r"[0-9a-f]{32}"


class JsonLines(logging.Handler):
    """The lines a logger writes, formatted as the server formats them, parsed back."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.written: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.written.append(self.format(record))

    @property
    def lines(self) -> list[dict[str, Any]]:
        assert all("\n" not in line for line in self.written)
        return [json.loads(line) for line in self.written]


def json_lines(logger_name: str) -> Iterator[JsonLines]:
    logger = logging.getLogger(logger_name)
    handler = JsonLines()
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


@pytest.fixture
def operation_log() -> Iterator[JsonLines]:
    yield from json_lines("kalito.operations")


@pytest.fixture
def error_log() -> Iterator[JsonLines]:
    yield from json_lines("kalito.errors")


async def post(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    request_id: str | bytes | None = None,
    accept: str = "application/json",
) -> httpx.Response:
    headers: dict[str, Any] = {"Accept": accept}
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    return await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics answer, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def sample(exposition: str, name: str, **labels: str) -> float | None:
    return samples(exposition).get((name, frozenset(labels.items())))


def label_values(exposition: str, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for sample_name, labels in samples(exposition) if sample_name == name}


async def scrape(http: httpx.AsyncClient) -> str:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


@pytest.fixture
async def app(db: str, settings: Settings) -> Starlette:
    return create_app(settings)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Like the `http` fixture, for tests that also reach into the app (its broker)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kalito.test") as client:
        yield client


# --- the request id ---------------------------------------------------------------------------


async def test_a_sane_request_id_is_kept_and_sent_back(http: httpx.AsyncClient, operation_log: JsonLines) -> None:
    response = await post(http, PERSONAS, request_id="checkout-7f3a/retry:2")

    assert response.headers["x-request-id"] == "checkout-7f3a/retry:2"
    [line] = operation_log.lines
    assert line["request_id"] == "checkout-7f3a/retry:2"


async def test_a_request_without_an_id_gets_a_new_one_each_time(http: httpx.AsyncClient) -> None:
    first = (await post(http, PERSONAS)).headers["x-request-id"]
    second = (await http.get("/healthz")).headers["x-request-id"]

    assert first != second
    for request_id in (first, second):
        assert len(request_id) == 32
        assert set(request_id) <= set(string.hexdigits.lower())


@pytest.mark.parametrize(
    "insane",
    [
        "x" * 129,  # longer than 128
        "two words",  # a space
        "line\x01break",  # a control character
        "caf\xe9".encode("latin-1"),  # not ASCII
        "",
    ],
    ids=["too-long", "space", "control", "not-ascii", "empty"],
)
async def test_an_insane_request_id_is_replaced(
    http: httpx.AsyncClient, operation_log: JsonLines, insane: str | bytes
) -> None:
    response = await post(http, PERSONAS, request_id=insane)

    replaced = response.headers["x-request-id"]
    assert replaced != insane
    assert len(replaced) == 32
    assert set(replaced) <= set(string.hexdigits.lower())
    assert [line["request_id"] for line in operation_log.lines] == [replaced]


async def test_the_longest_sane_request_id_is_kept(http: httpx.AsyncClient) -> None:
    longest = "a" * 128
    assert (await post(http, PERSONAS, request_id=longest)).headers["x-request-id"] == longest


async def test_a_refused_request_carries_the_request_id_too(db: str, database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, api_token="s3cret"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kalito.test") as client:
        response = await client.post("/graphql", json={"query": PERSONAS}, headers={"X-Request-ID": "no-token-1"})

    assert response.status_code == 401
    assert response.headers["x-request-id"] == "no-token-1"


# --- one log line per operation ---------------------------------------------------------------


async def test_an_operation_writes_one_json_line_with_its_facts(
    http: httpx.AsyncClient, operation_log: JsonLines
) -> None:
    await post(http, PERSONAS, request_id="req-1")

    [line] = operation_log.lines
    assert isinstance(line.pop("duration_ms"), float)
    assert isinstance(line.pop("ts"), str)
    assert isinstance(line.pop("pid"), int)
    assert line == {
        "level": "info",
        "logger": "kalito.operations",
        "message": "query Personas: ok",
        "request_id": "req-1",
        "operation": "Personas",
        "type": "query",
        "outcome": "ok",
        "error_codes": [],
        "status": 200,
    }


async def test_a_refused_input_is_logged_with_its_code(http: httpx.AsyncClient, operation_log: JsonLines) -> None:
    response = await post(http, CREATE, {"input": {"id": "has spaces"}})

    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    [line] = operation_log.lines
    assert (line["operation"], line["type"], line["outcome"], line["error_codes"], line["status"]) == (
        "Create",
        "mutation",
        "BAD_USER_INPUT",
        ["BAD_USER_INPUT"],
        200,
    )


async def test_a_document_that_does_not_parse_is_logged_with_its_code_and_status(
    http: httpx.AsyncClient, operation_log: JsonLines
) -> None:
    response = await post(http, "query Broken {", accept=APOLLO_ACCEPT)

    assert response.status_code == 400
    [line] = operation_log.lines
    assert (line["type"], line["outcome"], line["error_codes"], line["status"]) == (
        "unknown",
        "GRAPHQL_PARSE_FAILED",
        ["GRAPHQL_PARSE_FAILED"],
        400,
    )


async def test_a_request_refused_before_graphql_runs_gets_one_line(
    http: httpx.AsyncClient, operation_log: JsonLines
) -> None:
    response = await http.post(
        "/graphql", content=json.dumps({"query": PERSONAS}), headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 415
    [line] = operation_log.lines
    assert (line["operation"], line["outcome"], line["status"], line["request_id"]) == (
        None,
        "refused",
        415,
        response.headers["x-request-id"],
    )


async def test_an_unexpected_failure_is_one_json_line_with_request_id_and_traceback(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, operation_log: JsonLines, error_log: JsonLines
) -> None:
    async def broken_by_id(cls: type[models.Session], owner: models.Owner, session_id: str) -> models.Session | None:
        raise RuntimeError("secret SQL detail")

    monkeypatch.setattr(models.Session, "by_id", classmethod(broken_by_id))

    await post(http, SESSION, {"id": "any"}, request_id="req-boom")

    [error] = error_log.lines
    assert (error["level"], error["request_id"]) == ("error", "req-boom")
    assert error["traceback"].startswith("Traceback")
    assert "RuntimeError: secret SQL detail" in error["traceback"]
    [line] = operation_log.lines
    assert (line["level"], line["outcome"], line["request_id"]) == ("error", "INTERNAL_SERVER_ERROR", "req-boom")


def test_text_format_is_one_readable_line() -> None:
    record = logging.makeLogRecord(
        {"name": "kalito.operations", "levelname": "INFO", "msg": "query Personas: ok", "outcome": "ok", "status": 200}
    )

    line = TextFormatter().format(record)

    assert "\n" not in line
    assert line.endswith("INFO kalito.operations query Personas: ok outcome=ok status=200")


def test_configuring_logging_twice_installs_one_handler_and_only_when_none_is_configured() -> None:
    logger = logging.getLogger("kalito")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        logger.handlers.clear()
        logger.propagate = False  # hide pytest's root handlers: as under uvicorn, nothing is configured
        configure_logging("json", "debug")
        configure_logging("text", "warning")
        [handler] = logger.handlers
        assert isinstance(handler.formatter, TextFormatter)
        assert logger.level == logging.WARNING

        logger.handlers.clear()
        operators = logging.NullHandler()
        logger.addHandler(operators)
        configure_logging("json", "info")
        assert logger.handlers == [operators]  # a setup made by someone else is left alone
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


# --- metrics ----------------------------------------------------------------------------------


async def test_metrics_count_operations_by_name_type_and_outcome(http: httpx.AsyncClient) -> None:
    for _ in range(3):
        await post(http, PERSONAS)
    await post(http, CREATE, {"input": {"id": "counted", "saved": True}})
    await post(http, CREATE, {"input": {"id": "has spaces"}})
    await post(http, "{ personas { id } }")
    await post(http, "query Broken {")

    metrics = await scrape(http)

    total = "kalito_operations_total"
    assert sample(metrics, total, operation="Personas", type="query", outcome="ok") == 3
    assert sample(metrics, total, operation="Create", type="mutation", outcome="ok") == 1
    assert sample(metrics, total, operation="Create", type="mutation", outcome="BAD_USER_INPUT") == 1
    assert sample(metrics, total, operation=ANONYMOUS, type="query", outcome="ok") == 1
    assert sample(metrics, total, operation=OTHER, type="unknown", outcome="GRAPHQL_PARSE_FAILED") == 1
    buckets = "kalito_operation_duration_seconds_bucket"
    assert sample(metrics, buckets, operation="Personas", type="query", le="+Inf") == 3
    assert sample(metrics, "kalito_operation_duration_seconds_count", operation="Create", type="mutation") == 2
    assert len(label_values(metrics, buckets, "le")) > 5
    assert not [name for name, _ in samples(metrics) if name.endswith("_created")]  # no twin series


async def test_operation_names_are_capped_so_random_names_cannot_grow_memory(http: httpx.AsyncClient) -> None:
    names = [f"Op{random.getrandbits(64):016x}" for _ in range(1_000)]
    for name in names:
        await post(http, f"query {name} {{ __typename }}")
    # A document that does not validate names nothing real: never a label of its own.
    await post(http, "query Invented { noSuchField }")

    metrics = await scrape(http)

    labels = label_values(metrics, "kalito_operations_total", "operation")
    assert labels == {*names[:MAX_OPERATION_NAMES], OTHER}
    assert sample(metrics, "kalito_operations_total", operation=OTHER, type="query", outcome="ok") == (
        len(names) - MAX_OPERATION_NAMES
    )
    assert label_values(metrics, "kalito_operation_duration_seconds_count", "operation") == labels


async def test_the_database_pool_is_measured(http: httpx.AsyncClient, db: str) -> None:
    await post(http, PERSONAS)

    metrics = await scrape(http)

    backend = {"sqlite": "sqlite", "postgres": "postgresql"}[db]
    maximum = sample(metrics, "kalito_db_pool_max_connections", backend=backend)
    open_ = sample(metrics, "kalito_db_pool_open_connections", backend=backend)
    idle = sample(metrics, "kalito_db_pool_idle_connections", backend=backend)
    assert maximum is not None and open_ is not None and idle is not None
    assert 1 <= open_ <= maximum
    assert 0 <= idle <= open_
    if backend == "sqlite":
        assert (maximum, open_, idle) == (1, 1, 1)  # one connection, not in use while scraped


async def test_active_subscriptions_are_read_from_the_broker(app: Starlette, client: httpx.AsyncClient) -> None:
    assert sample(await scrape(client), "kalito_active_subscriptions") == 0
    first = app.state.broker.subscribe(None, models.ONE_USER)
    second = app.state.broker.subscribe("some-session", models.ONE_USER)
    assert sample(await scrape(client), "kalito_active_subscriptions") == 2
    await first.aclose()
    await second.aclose()
    assert sample(await scrape(client), "kalito_active_subscriptions") == 0


async def test_process_metrics_are_included(http: httpx.AsyncClient) -> None:
    metrics = await scrape(http)

    assert sample(metrics, "process_resident_memory_bytes")
    assert sample(metrics, "process_open_fds")
    assert sample(metrics, "process_cpu_seconds_total") is not None


async def test_metrics_need_the_token_when_one_is_set(db: str, database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, api_token="s3cret"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kalito.test") as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/healthz")).status_code == 200
        with_token = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert with_token.status_code == 200
    assert "kalito_active_subscriptions" in with_token.text


# --- the real server process ------------------------------------------------------------------


def test_uvicorn_writes_json_lines_and_serves_metrics(tmp_path: Path) -> None:
    env = {"KALITO_DATABASE_URL": f"sqlite://{tmp_path / 'kalito.db'}"}
    with live_server(env, tmp_path) as url:
        for number in range(3):
            response = httpx.post(
                f"{url}/graphql", json={"query": PERSONAS}, headers={"X-Request-ID": f"live-{number}"}, timeout=10
            )
            assert response.headers["x-request-id"] == f"live-{number}"
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
    assert sample(metrics, "kalito_operations_total", operation="Personas", type="query", outcome="ok") == 3
    assert sample(metrics, "kalito_db_pool_max_connections", backend="sqlite") == 1
    assert sample(metrics, "process_resident_memory_bytes")
    operations = [line for line in json_log_lines(tmp_path) if line["logger"] == "kalito.operations"]
    assert [(line["request_id"], line["operation"], line["status"]) for line in operations] == [
        ("live-0", "Personas", 200),
        ("live-1", "Personas", 200),
        ("live-2", "Personas", 200),
    ]


def json_log_lines(log_dir: Path) -> list[dict[str, Any]]:
    """The JSON lines a live server wrote (uvicorn's own lines are text)."""
    [log] = log_dir.glob("server-*.log")
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


async def test_a_websocket_connection_has_one_request_id_for_all_its_operations(tmp_path: Path) -> None:
    env = {"KALITO_DATABASE_URL": f"sqlite://{tmp_path / 'kalito.db'}"}
    with live_server(env, tmp_path) as url:
        async with connected(url, headers={"X-Request-ID": "ws-connection-1"}) as socket:
            assert socket.connection.response is not None
            assert socket.connection.response.headers["X-Request-ID"] == "ws-connection-1"
            await socket.subscribe("personas", PERSONAS)
            assert (await socket.next_message("personas"))["type"] == "next"
            await socket.session_events("events")
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                assert sample(await scrape(http), "kalito_active_subscriptions") == 1
                await socket.complete("events")
                await socket.ping()
                deadline = time.monotonic() + 15
                while sample(await scrape(http), "kalito_active_subscriptions") != 0:
                    assert time.monotonic() < deadline, "the completed subscription is still counted"
                    await asyncio.sleep(0.1)
        deadline = time.monotonic() + 15
        while len(operations := [line for line in json_log_lines(tmp_path) if line.get("operation")]) < 2:
            assert time.monotonic() < deadline, operations
            await asyncio.sleep(0.1)
    assert [(line["request_id"], line["operation"], line["type"], line["outcome"]) for line in operations] == [
        ("ws-connection-1", "Personas", "query", "ok"),
        ("ws-connection-1", "Events", "subscription", "ok"),
    ]
    assert all("status" not in line for line in operations)


STALE_COUNT = """
from prometheus_client import CollectorRegistry, Counter
counter = Counter("kalito_operations", "", ["operation", "type", "outcome"], registry=CollectorRegistry())
counter.labels("Personas", "query", "ok").inc(1000)
"""


def test_with_a_multiprocess_directory_a_scrape_counts_every_worker_of_this_run(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {"KALITO_DATABASE_URL": f"sqlite://{tmp_path / 'kalito.db'}", "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    # A run before this one left its counts behind: `serve` must start from zero.
    subprocess.run([sys.executable, "-c", STALE_COUNT], env={**os.environ, **env}, check=True)
    assert list(directory.iterdir())
    command = [sys.executable, "-m", "cli", "serve", "--workers", "2", "--host", "127.0.0.1", "--port", "{port}"]
    with live_server(env, tmp_path, command) as url:
        sent = 0
        pids: set[int] = set()
        # A new connection each time, so the kernel spreads them; stop once both workers have served.
        while len(pids) < 2 and sent < 200:
            httpx.post(f"{url}/graphql", json={"query": PERSONAS}, headers={"Connection": "close"}, timeout=10)
            sent += 1
            pids = {line["pid"] for line in json_log_lines(tmp_path) if line["logger"] == "kalito.operations"}
        assert len(pids) == 2, "every request went to one worker"
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
    assert sample(metrics, "kalito_operations_total", operation="Personas", type="query", outcome="ok") == sent
    assert sample(metrics, "kalito_operation_duration_seconds_count", operation="Personas", type="query") == sent
