"""A page of sessions with their pins, summaries and memory contexts costs a fixed number of SQL
statements whatever its size, on strawberry's path (DataLoaders) and on the compiled plan's
(one load per level), and both answer the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import models
from server import create_app
from settings import Settings
from tests.conftest import SQLCounter
from web.graphql_view import GraphQLView

PAGE = """
query Memory($first: Int!, $budget: Int) {
  sessions(first: $first) {
    edges {
      node {
        id
        pins { id importance }
        summaries { id messageCount }
        memoryContext(maxTokens: $budget) {
          recentMessages { id text }
          pins { id }
          summaries { id }
          totalTokens
        }
      }
    }
  }
}
"""
# Two budgets in one document: one batch on strawberry's path, one load per field on a plan's.
TWO_BUDGETS = """
query TwoBudgets($first: Int!) {
  sessions(first: $first) {
    edges { node { id small: memoryContext(maxTokens: 5) { totalTokens } large: memoryContext { totalTokens } } }
  }
}
"""
LONG_AGO = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
SESSION_COUNT = 50
# The sessions page; the pins; the summaries; the memory contexts' messages, pins and summaries.
PAGE_STATEMENTS = 6


@pytest.fixture
async def many_memories(db: str) -> None:
    """SESSION_COUNT saved sessions, newest first by number, each with 10 messages, 6 pins and
    4 summaries (session 0 with none)."""
    await models.Session.bulk_create(
        [
            models.Session(
                id=f"s{number:02d}",
                name="chat",
                saved=True,
                created_at=LONG_AGO,
                updated_at=LONG_AGO - timedelta(minutes=number),
            )
            for number in range(SESSION_COUNT)
        ]
    )
    remembering = range(1, SESSION_COUNT)
    await models.Message.bulk_create(
        [
            models.Message(
                session_id=f"s{number:02d}",
                role=models.MessageRole.USER,
                text=f"message {index} of {number}",
                created_at=LONG_AGO + timedelta(seconds=index),
            )
            for number in remembering
            for index in range(10)
        ]
    )
    await models.chain_every_session()
    await models.Pin.bulk_create(
        [
            models.Pin(
                id=f"pin-{number}-{index}",
                session_id=f"s{number:02d}",
                content=f"fact {index}",
                importance=index / 10,
                created_at=LONG_AGO,
            )
            for number in remembering
            for index in range(6)
        ]
    )
    await models.Summary.bulk_create(
        [
            models.Summary(
                id=f"summary-{number}-{index}",
                session_id=f"s{number:02d}",
                text=f"summary {index}",
                message_count=2,
                created_at=LONG_AGO + timedelta(seconds=index),
            )
            for number in remembering
            for index in range(4)
        ]
    )


@pytest.fixture
async def app_and_client(db: str, settings: Settings) -> AsyncIterator[tuple[GraphQLView, httpx.AsyncClient]]:
    app = create_app(settings)
    endpoints = (getattr(route, "endpoint", None) for route in app.routes)
    view = next(endpoint for endpoint in endpoints if isinstance(endpoint, GraphQLView))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kalito.test") as client:
        yield view, client


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def statements_per_path(
    app_and_client: tuple[GraphQLView, httpx.AsyncClient],
    sql_counter: SQLCounter,
    query: str,
    variables: dict[str, Any],
) -> tuple[dict[str, Any], list[int]]:
    """The answer (the same on both paths) and the statements of each: strawberry's (the first
    send), then the plan's (the second)."""
    view, client = app_and_client
    answers, counts = [], []
    for _ in range(2):
        sql_counter.reset()
        answers.append(await post(client, query, variables))
        counts.append(len(sql_counter.statements))
    assert view.schema.compiled is not None and view.schema.compiled.plan_for(query, None) is not None
    assert answers[0] == answers[1]
    return answers[0], counts


@pytest.mark.usefixtures("many_memories")
async def test_a_page_of_sessions_with_their_memory_costs_the_same_few_statements_at_any_size(
    app_and_client: tuple[GraphQLView, httpx.AsyncClient], sql_counter: SQLCounter
) -> None:
    counts = {}
    for size in (5, SESSION_COUNT):
        answer, counts[size] = await statements_per_path(
            app_and_client, sql_counter, PAGE, {"first": size, "budget": 500}
        )
        nodes = [edge["node"] for edge in answer["data"]["sessions"]["edges"]]
        assert len(nodes) == size
        for node in nodes[1:]:
            number = int(node["id"][1:])
            assert [pin["id"] for pin in node["pins"]] == [f"pin-{number}-{index}" for index in range(5, -1, -1)]
            assert [summary["id"] for summary in node["summaries"]] == [
                f"summary-{number}-{index}" for index in range(3, -1, -1)
            ]
            context = node["memoryContext"]
            assert [message["text"] for message in context["recentMessages"]] == [
                f"message {index} of {number}" for index in range(2, 10)
            ]
            assert [pin["id"] for pin in context["pins"]] == [f"pin-{number}-{index}" for index in range(5, 0, -1)]
            assert [summary["id"] for summary in context["summaries"]] == [
                f"summary-{number}-{index}" for index in range(3, 0, -1)
            ]
        assert nodes[0] == {
            "id": "s00",
            "pins": [],
            "summaries": [],
            "memoryContext": {"recentMessages": [], "pins": [], "summaries": [], "totalTokens": 0},
        }
    print(f"statements (strawberry's path, the plan's): {counts}")
    assert counts[5] == counts[SESSION_COUNT] == [PAGE_STATEMENTS, PAGE_STATEMENTS]


@pytest.mark.usefixtures("many_memories")
async def test_two_budgets_on_a_page_cost_one_batch_each_at_most(
    app_and_client: tuple[GraphQLView, httpx.AsyncClient], sql_counter: SQLCounter
) -> None:
    counts = {}
    for size in (5, SESSION_COUNT):
        answer, counts[size] = await statements_per_path(app_and_client, sql_counter, TWO_BUDGETS, {"first": size})
        for edge in answer["data"]["sessions"]["edges"][1:]:
            assert edge["node"]["small"]["totalTokens"] <= 5 < edge["node"]["large"]["totalTokens"]
    print(f"statements (strawberry's path, the plan's): {counts}")
    # The plan loads each field once for the level; strawberry's DataLoader loads both budgets in
    # one batch when their loads are dispatched together (for a small page), else one batch each.
    for strawberry_path, planned in counts.values():
        assert 1 + 3 <= strawberry_path <= 1 + 3 + 3
        assert planned == 1 + 3 + 3
