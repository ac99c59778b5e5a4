"""A session's persona is loaded in batches: a page costs the same SQL whatever its size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import models

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient, SQLCounter

SESSIONS_WITH_PERSONAS = """
query SessionsWithPersonas($first: Int) {
  sessions(first: $first) {
    edges { node { id persona { id name } } }
  }
}
"""

SESSION_WITH_PERSONA = """
query SessionWithPersona($id: ID!) {
  session(id: $id) { id personaId persona { id name } }
}
"""

BASE = datetime(2025, 9, 16, 10, 0, tzinfo=UTC)
# Every fourth session has no persona; the others cycle through these.
EXTRA_PERSONAS = {"writer": "Writer", "coder": "Coder", "tutor": "Tutor"}
PERSONA_CYCLE = [None, "default-cloud", "default-local", "writer", "coder", "tutor"]


async def add_personas() -> dict[str, str]:
    """The extra personas, and the names of every persona by id."""
    moment = BASE
    for persona_id, name in EXTRA_PERSONAS.items():
        await models.Persona.create(
            id=persona_id, name=name, prompt="Be helpful.", created_at=moment, updated_at=moment
        )
    return {persona.id: persona.name for persona in await models.Persona.all()}


async def add_sessions(count: int) -> list[str | None]:
    """`count` saved sessions, each newer than the one before; answers their persona ids in that order."""
    personas = [PERSONA_CYCLE[index % len(PERSONA_CYCLE)] for index in range(count)]
    await models.Session.bulk_create(
        [
            models.Session(
                id=f"s{index:03d}",
                name="chat",
                saved=True,
                persona_id=persona_id,
                created_at=BASE + timedelta(minutes=index),
                updated_at=BASE + timedelta(minutes=index),
            )
            for index, persona_id in enumerate(personas)
        ]
    )
    return personas


def expected_page(personas: list[str | None], names: dict[str, str]) -> dict[str, Any]:
    """The page, newest first, each session with its persona."""
    nodes = [
        {
            "id": f"s{index:03d}",
            "persona": None if persona_id is None else {"id": persona_id, "name": names[persona_id]},
        }
        for index, persona_id in enumerate(personas)
    ]
    return {"sessions": {"edges": [{"node": node} for node in reversed(nodes)]}}


async def statements_for_page(gql: GraphQLClient, sql_counter: SQLCounter, size: int) -> list[str]:
    names = await add_personas()
    personas = await add_sessions(size)

    sql_counter.reset()
    data = await gql.data(SESSIONS_WITH_PERSONAS, {"first": size})
    statements = list(sql_counter.statements)

    assert data == expected_page(personas, names)
    return statements


async def test_a_page_of_sessions_with_personas_costs_the_same_sql_whatever_its_size(
    gql: GraphQLClient, sql_counter: SQLCounter
) -> None:
    small = await statements_for_page(gql, sql_counter, 5)
    await models.Session.all().delete()
    await models.Persona.filter(id__in=list(EXTRA_PERSONAS)).delete()

    large = await statements_for_page(gql, sql_counter, 50)

    assert len(large) == len(small), (small, large)


async def test_personas_of_a_page_are_loaded_in_one_statement(gql: GraphQLClient, sql_counter: SQLCounter) -> None:
    statements = await statements_for_page(gql, sql_counter, 50)

    persona_reads = [statement for statement in statements if '"personas"' in statement]
    assert len(persona_reads) == 1, statements


async def test_a_page_without_personas_reads_no_personas(gql: GraphQLClient, sql_counter: SQLCounter) -> None:
    await models.Session.create(id="alone", name="chat", saved=True, created_at=BASE, updated_at=BASE)

    sql_counter.reset()
    data = await gql.data(SESSIONS_WITH_PERSONAS, {"first": 10})

    assert data == {"sessions": {"edges": [{"node": {"id": "alone", "persona": None}}]}}
    assert not [statement for statement in sql_counter.statements if '"personas"' in statement]


async def test_session_persona_is_null_when_it_has_none(gql: GraphQLClient) -> None:
    await models.Session.create(id="alone", name="chat", created_at=BASE, updated_at=BASE)

    data = await gql.data(SESSION_WITH_PERSONA, {"id": "alone"})

    assert data == {"session": {"id": "alone", "personaId": None, "persona": None}}


async def test_session_persona_is_its_persona(gql: GraphQLClient) -> None:
    await models.Session.create(id="local", name="chat", persona_id="default-local", created_at=BASE, updated_at=BASE)
    name = (await models.Persona.get(id="default-local")).name

    data = await gql.data(SESSION_WITH_PERSONA, {"id": "local"})

    assert data == {
        "session": {"id": "local", "personaId": "default-local", "persona": {"id": "default-local", "name": name}}
    }
