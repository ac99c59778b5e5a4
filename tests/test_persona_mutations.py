"""Personas: the defaults of a fresh database, the persona queries and the persona mutations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

import models

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient

PERSONA_FIELDS = "id name prompt description icon category defaultModel isDefault createdAt updatedAt"

PERSONA = f"query ($id: ID!) {{ persona(id: $id) {{ {PERSONA_FIELDS} }} }}"
PERSONAS = "{ personas { id name isDefault } }"
CREATE_PERSONA = f"""
mutation ($input: CreatePersonaInput!) {{
  createPersona(input: $input) {{ {PERSONA_FIELDS} }}
}}
"""
UPDATE_PERSONA = f"""
mutation ($input: UpdatePersonaInput!) {{
  updatePersona(input: $input) {{ {PERSONA_FIELDS} }}
}}
"""
DELETE_PERSONA = "mutation ($id: ID!) { deletePersona(id: $id) }"
SESSION_PERSONA = "query ($id: ID!) { session(id: $id) { personaId persona { id } } }"

LONG_AGO = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
LONG_AGO_TEXT = "2025-09-16T10:08:36.188Z"


async def a_persona(persona_id: str, **columns: Any) -> models.Persona:
    values = {
        "name": "Chef",
        "prompt": "You cook.",
        "created_at": LONG_AGO,
        "updated_at": LONG_AGO,
        **columns,
    }
    return await models.Persona.create(id=persona_id, **values)


async def a_session(session_id: str, persona_id: str | None) -> models.Session:
    return await models.Session.create(
        id=session_id, name="Chat", persona_id=persona_id, created_at=LONG_AGO, updated_at=LONG_AGO
    )


async def persona_row(persona_id: str) -> dict[str, Any]:
    return await models.Persona.get(id=persona_id).values()


async def all_personas() -> list[dict[str, Any]]:
    return await models.Persona.all().order_by("id").values()


def as_api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- the defaults and the queries --------------------------------------------------------


async def test_a_fresh_database_has_the_two_kalito_default_personas(gql: GraphQLClient, db: str) -> None:
    data = await gql.data(PERSONAS)

    assert data == {
        "personas": [
            {"id": "default-cloud", "name": "Default Cloud Assistant", "isDefault": True},
            {"id": "default-local", "name": "Local Assistant", "isDefault": True},
        ]
    }


async def test_personas_lists_every_persona_by_name(gql: GraphQLClient, db: str) -> None:
    await a_persona("zeta", name="Zebra keeper")
    await a_persona("alpha", name="Baker")

    data = await gql.data(PERSONAS)

    assert [persona["name"] for persona in data["personas"]] == [
        "Baker",
        "Default Cloud Assistant",
        "Local Assistant",
        "Zebra keeper",
    ]


async def test_persona_by_id_answers_every_field(gql: GraphQLClient, db: str) -> None:
    await a_persona("chef", description="Cooks", icon="🍳", category="kitchen", default_model="llama3")

    data = await gql.data(PERSONA, {"id": "chef"})

    assert data == {
        "persona": {
            "id": "chef",
            "name": "Chef",
            "prompt": "You cook.",
            "description": "Cooks",
            "icon": "🍳",
            "category": "kitchen",
            "defaultModel": "llama3",
            "isDefault": False,
            "createdAt": LONG_AGO_TEXT,
            "updatedAt": LONG_AGO_TEXT,
        }
    }


async def test_persona_by_unknown_id_is_null(gql: GraphQLClient, db: str) -> None:
    assert await gql.data(PERSONA, {"id": "missing"}) == {"persona": None}


# --- createPersona -----------------------------------------------------------------------


async def test_create_persona_with_every_field(gql: GraphQLClient, db: str) -> None:
    variables = {
        "input": {
            "id": "coder",
            "name": "Coder",
            "prompt": "You write code.",
            "description": "Helps with code",
            "icon": "💻",
            "category": "work",
            "defaultModel": "qwen2.5-coder",
        }
    }

    created = (await gql.data(CREATE_PERSONA, variables))["createPersona"]

    assert created == {
        **variables["input"],
        "isDefault": False,
        "createdAt": created["createdAt"],
        "updatedAt": created["createdAt"],
    }
    stored = await models.Persona.get(id="coder")
    assert (stored.name, stored.default_model, stored.is_default) == ("Coder", "qwen2.5-coder", False)


async def test_create_persona_without_an_id_generates_one_and_leaves_the_options_empty(
    gql: GraphQLClient, db: str
) -> None:
    created = (await gql.data(CREATE_PERSONA, {"input": {"name": "Plain", "prompt": "Be plain."}}))["createPersona"]

    assert uuid.UUID(created["id"])
    assert created == {
        "id": created["id"],
        "name": "Plain",
        "prompt": "Be plain.",
        "description": None,
        "icon": None,
        "category": None,
        "defaultModel": None,
        "isDefault": False,
        "createdAt": created["createdAt"],
        "updatedAt": created["createdAt"],
    }
    assert await models.Persona.filter(id=created["id"]).exists()


@pytest.mark.parametrize("existing_id", ["chef", "default-cloud"])
async def test_create_persona_with_an_existing_id_is_a_conflict_and_leaves_it_alone(
    gql: GraphQLClient, db: str, existing_id: str
) -> None:
    await a_persona("chef")
    before = await all_personas()

    error = await gql.error(CREATE_PERSONA, {"input": {"id": existing_id, "name": "Intruder", "prompt": "x"}})

    assert error["extensions"]["code"] == "CONFLICT"
    assert await all_personas() == before


# --- updatePersona -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "column_changes"),
    [
        pytest.param({"name": "Head chef"}, {"name": "Head chef"}, id="name"),
        pytest.param({"prompt": "You bake."}, {"prompt": "You bake."}, id="prompt"),
        pytest.param({"description": "Bakes"}, {"description": "Bakes"}, id="description"),
        pytest.param({"icon": "🥐"}, {"icon": "🥐"}, id="icon"),
        pytest.param({"category": "bakery"}, {"category": "bakery"}, id="category"),
        pytest.param({"defaultModel": "mistral"}, {"default_model": "mistral"}, id="defaultModel"),
    ],
)
async def test_update_persona_changes_exactly_the_given_fields(
    gql: GraphQLClient, db: str, given: dict[str, Any], column_changes: dict[str, Any]
) -> None:
    await a_persona("chef", description="Cooks", icon="🍳", category="kitchen", default_model="llama3")
    before = await persona_row("chef")

    updated = (await gql.data(UPDATE_PERSONA, {"input": {"id": "chef", **given}}))["updatePersona"]

    after = await persona_row("chef")
    assert after == {**before, **column_changes, "updated_at": after["updated_at"]}
    assert after["updated_at"] > before["updated_at"]
    assert updated == {
        "id": "chef",
        "name": after["name"],
        "prompt": after["prompt"],
        "description": after["description"],
        "icon": after["icon"],
        "category": after["category"],
        "defaultModel": after["default_model"],
        "isDefault": False,
        "createdAt": LONG_AGO_TEXT,
        "updatedAt": as_api_time(after["updated_at"]),
    }


@pytest.mark.parametrize(
    ("field", "column"),
    [
        ("description", "description"),
        ("icon", "icon"),
        ("category", "category"),
        ("defaultModel", "default_model"),
    ],
)
async def test_update_persona_with_explicit_null_clears_an_optional_field(
    gql: GraphQLClient, db: str, field: str, column: str
) -> None:
    await a_persona("chef", description="Cooks", icon="🍳", category="kitchen", default_model="llama3")
    before = await persona_row("chef")

    updated = (await gql.data(UPDATE_PERSONA, {"input": {"id": "chef", field: None}}))["updatePersona"]

    assert updated[field] is None
    after = await persona_row("chef")
    assert after == {**before, column: None, "updated_at": after["updated_at"]}


@pytest.mark.parametrize("field", ["name", "prompt"])
async def test_update_persona_with_null_for_a_required_field_is_bad_user_input(
    gql: GraphQLClient, db: str, field: str
) -> None:
    await a_persona("chef")
    before = await all_personas()

    error = await gql.error(UPDATE_PERSONA, {"input": {"id": "chef", field: None}})

    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert await all_personas() == before


async def test_update_of_an_unknown_persona_is_not_found(gql: GraphQLClient, db: str) -> None:
    before = await all_personas()

    error = await gql.error(UPDATE_PERSONA, {"input": {"id": "missing", "name": "Ghost"}})

    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await all_personas() == before


async def test_a_default_persona_can_be_edited_and_stays_a_default(gql: GraphQLClient, db: str) -> None:
    updated = (await gql.data(UPDATE_PERSONA, {"input": {"id": "default-local", "name": "My local"}}))["updatePersona"]

    assert (updated["name"], updated["isDefault"]) == ("My local", True)
    assert (await models.Persona.get(id="default-local")).name == "My local"


# --- deletePersona -----------------------------------------------------------------------


async def test_delete_persona_returns_its_id_and_removes_it(gql: GraphQLClient, db: str) -> None:
    await a_persona("chef")

    data = await gql.data(DELETE_PERSONA, {"id": "chef"})

    assert data == {"deletePersona": "chef"}
    assert not await models.Persona.exists(id="chef")
    assert await models.Persona.all().count() == 2


async def test_deleting_a_persona_sets_persona_id_to_null_on_its_sessions(gql: GraphQLClient, db: str) -> None:
    await a_persona("chef")
    await a_session("cooking-1", "chef")
    await a_session("cooking-2", "chef")
    await a_session("other", "default-cloud")
    await a_session("without", None)

    await gql.data(DELETE_PERSONA, {"id": "chef"})

    personas_of_sessions = await models.Session.all().order_by("id").values_list("id", "persona_id")
    assert personas_of_sessions == [
        ("cooking-1", None),
        ("cooking-2", None),
        ("other", "default-cloud"),
        ("without", None),
    ]
    assert await models.Session.all().count() == 4


async def test_a_session_of_a_deleted_persona_shows_no_persona(gql: GraphQLClient, db: str) -> None:
    await a_persona("chef")
    await a_session("cooking", "chef")
    await gql.data(DELETE_PERSONA, {"id": "chef"})

    data = await gql.data(SESSION_PERSONA, {"id": "cooking"})

    assert data == {"session": {"personaId": None, "persona": None}}


@pytest.mark.parametrize("default_id", ["default-cloud", "default-local"])
async def test_a_default_persona_cannot_be_deleted(gql: GraphQLClient, db: str, default_id: str) -> None:
    await a_session("s1", default_id)
    before = await all_personas()

    error = await gql.error(DELETE_PERSONA, {"id": default_id})

    assert error["extensions"]["code"] == "CONFLICT"
    assert await all_personas() == before
    assert (await models.Session.get(id="s1")).persona_id == default_id


async def test_delete_of_an_unknown_persona_is_not_found(gql: GraphQLClient, db: str) -> None:
    error = await gql.error(DELETE_PERSONA, {"id": "missing"})

    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await models.Persona.all().count() == 2
