"""A page of sessions with their personas, message counts and last messages costs a fixed
number of SQL statements, whatever the page size (no N+1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

import models

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient, SQLCounter

SESSIONS_WITH_MESSAGES = """
query ($first: Int, $messagesFirst: Int, $messagesLast: Int) {
  sessions(first: $first) {
    edges {
      node {
        id
        persona { name }
        messageCount
        messages(first: $messagesFirst, last: $messagesLast) {
          edges { node { text } }
          pageInfo { hasNextPage hasPreviousPage }
          totalCount
        }
      }
    }
  }
}
"""

LONG_AGO = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
SESSION_COUNT = 100
MESSAGES_PER_SESSION = 4
PERSONAS = {"default-cloud": None, "default-local": None, "chef": "Chef"}
# The sessions page, the personas, the message counts (messageCount: every branch), the message
# pages and their totalCount (the active branch, api.md §9): one each.
MOST_STATEMENTS = 5


def session_id(number: int) -> str:
    return f"chat-{number:03d}"


def persona_of(number: int) -> str | None:
    """Most sessions have one of three personas; every fifth has none."""
    return None if number % 5 == 0 else list(PERSONAS)[number % 3]


def texts_of(number: int) -> list[str]:
    """Session 0 has no messages; the others have a few, oldest first."""
    return [] if number == 0 else [f"{session_id(number)} #{index}" for index in range(MESSAGES_PER_SESSION)]


@pytest.fixture
async def many_conversations(db: str) -> dict[str, str | None]:
    """SESSION_COUNT saved sessions, newest first by number, with their messages; answers the
    name of each persona."""
    await models.Persona.create(id="chef", name="Chef", prompt="You cook.", created_at=LONG_AGO, updated_at=LONG_AGO)
    await models.Session.bulk_create(
        [
            models.Session(
                id=session_id(number),
                name=f"Conversation {number}",
                persona_id=persona_of(number),
                saved=True,
                created_at=LONG_AGO,
                updated_at=LONG_AGO - timedelta(minutes=number),
            )
            for number in range(SESSION_COUNT)
        ]
    )
    await models.Message.bulk_create(
        [
            models.Message(
                session_id=session_id(number),
                role=models.MessageRole.USER,
                text=text,
                created_at=LONG_AGO + timedelta(seconds=index),
            )
            for number in range(SESSION_COUNT)
            for index, text in enumerate(texts_of(number))
        ]
    )
    names = {row.id: row.name for row in await models.Persona.all()}
    return {persona_id: names[persona_id] for persona_id in PERSONAS}


def expected_node(number: int, persona_names: dict[str, str | None], shown: slice) -> dict[str, object]:
    texts = texts_of(number)
    persona_id = persona_of(number)
    page = texts[shown]
    return {
        "id": session_id(number),
        "persona": None if persona_id is None else {"name": persona_names[persona_id]},
        "messageCount": len(texts),
        "messages": {
            "edges": [{"node": {"text": text}} for text in page],
            "pageInfo": {
                "hasNextPage": shown.start is None and len(page) < len(texts),
                "hasPreviousPage": shown.start is not None and len(page) < len(texts),
            },
            "totalCount": len(texts),
        },
    }


@pytest.mark.parametrize(
    ("messages_arguments", "shown"),
    [
        pytest.param({"messagesLast": 3}, slice(-3, None), id="last-3"),
        pytest.param({"messagesFirst": 2}, slice(None, 2), id="first-2"),
        pytest.param({}, slice(None, 20), id="default-page"),
    ],
)
async def test_a_page_of_sessions_with_messages_costs_the_same_few_statements_at_any_size(
    gql: GraphQLClient,
    many_conversations: dict[str, str | None],
    sql_counter: SQLCounter,
    messages_arguments: dict[str, Any],
    shown: slice,
) -> None:
    statements: dict[int, list[str]] = {}
    for page_size in (10, SESSION_COUNT):
        sql_counter.reset()
        data = await gql.data(SESSIONS_WITH_MESSAGES, {"first": page_size, **messages_arguments})
        statements[page_size] = list(sql_counter.statements)

        assert [edge["node"] for edge in data["sessions"]["edges"]] == [
            expected_node(number, many_conversations, shown) for number in range(page_size)
        ]

    assert len(statements[10]) == len(statements[SESSION_COUNT]) <= MOST_STATEMENTS, statements[10]
