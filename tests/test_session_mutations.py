"""The session mutations (api.md §3): create, update, save, touch, delete and purge."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

import models
from settings import Settings
from tests.operations import session_writes

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient

SESSION_FIELDS = "id name model recap personaId saved createdAt updatedAt"

CREATE_SESSION = f"""
mutation ($input: CreateSessionInput!) {{
  createSession(input: $input) {{ {SESSION_FIELDS} persona {{ id }} }}
}}
"""
_, UPDATE_SESSION, SAVE_SESSION, TOUCH_SESSION = session_writes(SESSION_FIELDS)
DELETE_SESSION = "mutation ($id: ID!) { deleteSession(id: $id) }"
DELETE_SESSIONS = "mutation ($ids: [ID!]!) { deleteSessions(ids: $ids) }"
PURGE = "mutation ($idleSeconds: Int) { purgeEphemeralSessions(idleSeconds: $idleSeconds) }"

# A moment in the past with millisecond precision, as the API stores and shows it.
LONG_AGO = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
LONG_AGO_TEXT = "2025-09-16T10:08:36.188Z"
TEST_TTL = 3_600


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest) -> Settings:
    """The app's settings with a known TTL; a test may ask for another with indirect parametrization."""
    return Settings(database_url=database_url, ephemeral_ttl_seconds=getattr(request, "param", TEST_TTL))


async def a_session(session_id: str, **columns: Any) -> models.Session:
    """A session row as a test arranges it: written long ago unless told otherwise."""
    values = {"name": "Groceries", "created_at": LONG_AGO, "updated_at": LONG_AGO, **columns}
    return await models.Session.create(id=session_id, **values)


async def row(session_id: str) -> dict[str, Any]:
    return await models.Session.get(id=session_id).values()


async def all_rows() -> list[dict[str, Any]]:
    return await models.Session.all().order_by("id").values()


async def stored_ids() -> list[str]:
    # values(), not values_list(flat=True): Tortoise 1.1 types the flat list as one of tuples
    return [stored["id"] for stored in await models.Session.all().order_by("id").values("id")]


async def make_idle(session_id: str, seconds: int) -> None:
    await models.Session.filter(id=session_id).update(updated_at=datetime.now(UTC) - timedelta(seconds=seconds))


def as_api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_api_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- createSession -----------------------------------------------------------------------


async def test_create_with_no_input_makes_an_ephemeral_new_chat_with_a_generated_uuid(
    gql: GraphQLClient, db: str
) -> None:
    created = (await gql.data(CREATE_SESSION, {"input": {}}))["createSession"]

    assert uuid.UUID(created["id"]).version == 4
    assert created == {
        "id": created["id"],
        "name": "New Chat",
        "model": None,
        "recap": None,
        "personaId": None,
        "persona": None,
        "saved": False,
        "createdAt": created["createdAt"],
        "updatedAt": created["createdAt"],
    }
    stored = await models.Session.get(id=created["id"])
    assert (stored.name, stored.saved, as_api_time(stored.updated_at)) == (
        "New Chat",
        False,
        created["updatedAt"],
    )


async def test_create_keeps_a_client_made_id_and_the_given_fields(gql: GraphQLClient, db: str) -> None:
    client_id = str(uuid.uuid4())
    variables = {"input": {"id": client_id, "name": "Trip plans", "model": "llama3.1:8b", "personaId": "default-local"}}

    created = (await gql.data(CREATE_SESSION, variables))["createSession"]

    assert created == {
        "id": client_id,
        "name": "Trip plans",
        "model": "llama3.1:8b",
        "recap": None,
        "personaId": "default-local",
        "persona": {"id": "default-local"},
        "saved": False,
        "createdAt": created["createdAt"],
        "updatedAt": created["createdAt"],
    }
    assert await models.Session.filter(id=client_id, name="Trip plans", persona_id="default-local").exists()


async def test_create_with_saved_true_makes_a_saved_session(gql: GraphQLClient, db: str) -> None:
    created = (await gql.data(CREATE_SESSION, {"input": {"id": "kept", "saved": True}}))["createSession"]

    assert created["saved"] is True
    assert (await models.Session.get(id="kept")).saved is True


async def test_create_with_an_existing_id_is_a_conflict_and_leaves_the_row_alone(gql: GraphQLClient, db: str) -> None:
    await a_session("taken", model="gpt-4o", recap="About groceries", saved=True)
    before = await all_rows()

    error = await gql.error(CREATE_SESSION, {"input": {"id": "taken", "name": "Intruder", "saved": False}})

    assert error["extensions"]["code"] == "CONFLICT"
    assert await all_rows() == before


async def test_create_with_a_persona_id_that_names_no_persona_is_bad_user_input(gql: GraphQLClient, db: str) -> None:
    error = await gql.error(CREATE_SESSION, {"input": {"id": "orphan", "personaId": "no-such-persona"}})

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "personaId"
    assert await models.Session.all().count() == 0


# --- updateSession -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "column_changes"),
    [
        pytest.param({"name": "Weekly groceries"}, {"name": "Weekly groceries"}, id="name"),
        pytest.param({"model": "gpt-4o-mini"}, {"model": "gpt-4o-mini"}, id="model"),
        pytest.param({"recap": "Bought milk."}, {"recap": "Bought milk."}, id="recap"),
        pytest.param({"personaId": "default-local"}, {"persona_id": "default-local"}, id="personaId"),
        pytest.param({"saved": False}, {"saved": False}, id="saved"),
        pytest.param({"name": "Both", "model": "phi3"}, {"name": "Both", "model": "phi3"}, id="name-and-model"),
    ],
)
async def test_update_changes_exactly_the_given_fields(
    gql: GraphQLClient, db: str, given: dict[str, Any], column_changes: dict[str, Any]
) -> None:
    await a_session("s1", model="gpt-4o", recap="About groceries", persona_id="default-cloud", saved=True)
    before = await row("s1")

    updated = (await gql.data(UPDATE_SESSION, {"input": {"id": "s1", **given}}))["updateSession"]

    after = await row("s1")
    assert after == {**before, **column_changes, "updated_at": after["updated_at"]}
    assert after["updated_at"] > before["updated_at"]
    assert updated == {
        "id": "s1",
        "name": after["name"],
        "model": after["model"],
        "recap": after["recap"],
        "personaId": after["persona_id"],
        "saved": after["saved"],
        "createdAt": LONG_AGO_TEXT,
        "updatedAt": as_api_time(after["updated_at"]),
    }


@pytest.mark.parametrize(("field", "column"), [("model", "model"), ("recap", "recap"), ("personaId", "persona_id")])
async def test_update_with_explicit_null_clears_a_nullable_field(
    gql: GraphQLClient, db: str, field: str, column: str
) -> None:
    await a_session("s1", model="gpt-4o", recap="About groceries", persona_id="default-cloud")
    before = await row("s1")

    updated = (await gql.data(UPDATE_SESSION, {"input": {"id": "s1", field: None}}))["updateSession"]

    assert updated[field] is None
    after = await row("s1")
    assert after == {**before, column: None, "updated_at": after["updated_at"]}


@pytest.mark.parametrize("field", ["name", "saved"])
async def test_update_with_null_for_a_required_field_is_bad_user_input(gql: GraphQLClient, db: str, field: str) -> None:
    await a_session("s1", saved=True)
    before = await all_rows()

    error = await gql.error(UPDATE_SESSION, {"input": {"id": "s1", field: None}})

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert await all_rows() == before


async def test_update_with_no_fields_still_bumps_updated_at(gql: GraphQLClient, db: str) -> None:
    await a_session("s1")

    updated = (await gql.data(UPDATE_SESSION, {"input": {"id": "s1"}}))["updateSession"]

    assert parse_api_time(updated["updatedAt"]) > LONG_AGO
    assert (await models.Session.get(id="s1")).name == "Groceries"


async def test_each_update_moves_updated_at_strictly_forward(gql: GraphQLClient, db: str) -> None:
    await a_session("s1")

    first = (await gql.data(UPDATE_SESSION, {"input": {"id": "s1", "name": "One"}}))["updateSession"]
    second = (await gql.data(UPDATE_SESSION, {"input": {"id": "s1", "name": "Two"}}))["updateSession"]

    assert LONG_AGO < parse_api_time(first["updatedAt"]) < parse_api_time(second["updatedAt"])
    assert as_api_time((await models.Session.get(id="s1")).updated_at) == second["updatedAt"]


async def test_update_with_matching_expected_updated_at_succeeds(gql: GraphQLClient, db: str) -> None:
    await a_session("s1")

    updated = (
        await gql.data(UPDATE_SESSION, {"input": {"id": "s1", "name": "Checked", "expectedUpdatedAt": LONG_AGO_TEXT}})
    )["updateSession"]

    assert updated["name"] == "Checked"
    assert (await models.Session.get(id="s1")).name == "Checked"


async def test_update_with_the_updated_at_of_a_previous_answer_succeeds(gql: GraphQLClient, db: str) -> None:
    await a_session("s1")
    first = (await gql.data(UPDATE_SESSION, {"input": {"id": "s1", "name": "One"}}))["updateSession"]

    variables = {"input": {"id": "s1", "name": "Two", "expectedUpdatedAt": first["updatedAt"]}}
    second = (await gql.data(UPDATE_SESSION, variables))["updateSession"]

    assert second["name"] == "Two"


async def test_update_with_stale_expected_updated_at_is_a_conflict(gql: GraphQLClient, db: str) -> None:
    await a_session("s1", model="gpt-4o")
    before = await all_rows()
    stale = "2025-09-16T10:08:36.187Z"  # one millisecond before the row's updatedAt

    variables = {"input": {"id": "s1", "name": "Lost", "expectedUpdatedAt": stale}}
    error = await gql.error(UPDATE_SESSION, variables)

    assert error["extensions"]["code"] == "CONFLICT"
    # the moment as the API writes a DateTime, as the client sent it
    assert error["message"] == f"session 's1' changed since {stale}"
    assert await gql.error(UPDATE_SESSION, variables) == error  # the compiled plan's answer
    assert await all_rows() == before


async def test_update_of_an_unknown_session_is_not_found(gql: GraphQLClient, db: str) -> None:
    error = await gql.error(UPDATE_SESSION, {"input": {"id": "missing", "name": "Ghost"}})

    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await models.Session.all().count() == 0


async def test_update_with_a_persona_id_that_names_no_persona_is_bad_user_input(gql: GraphQLClient, db: str) -> None:
    await a_session("s1", persona_id="default-cloud")
    before = await all_rows()

    error = await gql.error(UPDATE_SESSION, {"input": {"id": "s1", "personaId": "no-such-persona"}})

    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "personaId")
    assert await all_rows() == before


# --- saveSession -------------------------------------------------------------------------


async def test_save_marks_an_existing_session_saved_and_leaves_the_rest(gql: GraphQLClient, db: str) -> None:
    await a_session("s1", model="gpt-4o", recap="About groceries")
    before = await row("s1")

    saved = (await gql.data(SAVE_SESSION, {"id": "s1"}))["saveSession"]

    after = await row("s1")
    assert after == {**before, "saved": True, "updated_at": after["updated_at"]}
    assert after["updated_at"] > before["updated_at"]
    assert saved == {
        "id": "s1",
        "name": "Groceries",
        "model": "gpt-4o",
        "recap": "About groceries",
        "personaId": None,
        "saved": True,
        "createdAt": LONG_AGO_TEXT,
        "updatedAt": as_api_time(after["updated_at"]),
    }


async def test_save_with_name_and_recap_sets_them(gql: GraphQLClient, db: str) -> None:
    await a_session("s1", recap="Old recap")

    saved = (await gql.data(SAVE_SESSION, {"id": "s1", "name": "Kept chat", "recap": "New recap"}))["saveSession"]

    assert (saved["name"], saved["recap"], saved["saved"]) == ("Kept chat", "New recap", True)
    stored = await models.Session.get(id="s1")
    assert (stored.name, stored.recap, stored.saved) == ("Kept chat", "New recap", True)


async def test_save_of_an_unknown_id_creates_a_saved_session(gql: GraphQLClient, db: str) -> None:
    saved = (await gql.data(SAVE_SESSION, {"id": "fresh", "name": "From the agent"}))["saveSession"]

    assert saved == {
        "id": "fresh",
        "name": "From the agent",
        "model": None,
        "recap": None,
        "personaId": None,
        "saved": True,
        "createdAt": saved["createdAt"],
        "updatedAt": saved["createdAt"],
    }
    assert await models.Session.filter(id="fresh", saved=True).count() == 1


async def test_save_of_an_unknown_id_without_a_name_is_a_new_chat(gql: GraphQLClient, db: str) -> None:
    saved = (await gql.data(SAVE_SESSION, {"id": "fresh"}))["saveSession"]

    assert (saved["name"], saved["saved"]) == ("New Chat", True)


# --- touchSession ------------------------------------------------------------------------


async def test_touch_without_an_id_creates_a_transient_session_with_a_generated_id(gql: GraphQLClient, db: str) -> None:
    touched = (await gql.data(TOUCH_SESSION, {}))["touchSession"]

    assert uuid.UUID(touched["id"]).version == 4
    assert touched == {
        "id": touched["id"],
        "name": "New Chat",
        "model": None,
        "recap": None,
        "personaId": None,
        "saved": False,
        "createdAt": touched["createdAt"],
        "updatedAt": touched["createdAt"],
    }
    assert (await models.Session.get(id=touched["id"])).saved is False


async def test_touch_of_an_unknown_id_creates_a_transient_session_with_that_id(gql: GraphQLClient, db: str) -> None:
    touched = (await gql.data(TOUCH_SESSION, {"id": "agent-run-1", "model": "llama3"}))["touchSession"]

    assert (touched["id"], touched["saved"], touched["model"]) == ("agent-run-1", False, "llama3")
    assert await models.Session.filter(id="agent-run-1", saved=False, model="llama3").exists()


async def test_touch_of_a_saved_session_keeps_it_saved_and_bumps_updated_at(gql: GraphQLClient, db: str) -> None:
    await a_session("s1", model="gpt-4o", recap="About groceries", persona_id="default-cloud", saved=True)
    before = await row("s1")

    touched = (await gql.data(TOUCH_SESSION, {"id": "s1"}))["touchSession"]

    after = await row("s1")
    assert after == {**before, "updated_at": after["updated_at"]}
    assert after["updated_at"] > before["updated_at"]
    assert (touched["saved"], touched["updatedAt"]) == (True, as_api_time(after["updated_at"]))


async def test_touch_of_an_ephemeral_session_keeps_it_ephemeral(gql: GraphQLClient, db: str) -> None:
    await a_session("s1")

    touched = (await gql.data(TOUCH_SESSION, {"id": "s1"}))["touchSession"]

    assert touched["saved"] is False
    assert (await models.Session.get(id="s1")).saved is False


async def test_touch_sets_model_and_persona_when_given(gql: GraphQLClient, db: str) -> None:
    await a_session("s1", model="gpt-4o", persona_id="default-cloud", saved=True)
    before = await row("s1")

    touched = (await gql.data(TOUCH_SESSION, {"id": "s1", "model": "phi3", "personaId": "default-local"}))[
        "touchSession"
    ]

    after = await row("s1")
    assert after == {
        **before,
        "model": "phi3",
        "persona_id": "default-local",
        "updated_at": after["updated_at"],
    }
    assert (touched["model"], touched["personaId"]) == ("phi3", "default-local")


async def test_touch_with_a_persona_id_that_names_no_persona_is_bad_user_input(gql: GraphQLClient, db: str) -> None:
    error = await gql.error(TOUCH_SESSION, {"id": "s1", "personaId": "no-such-persona"})

    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "personaId")
    assert await models.Session.all().count() == 0


# --- deleteSession / deleteSessions ------------------------------------------------------


async def test_delete_removes_the_session_and_returns_its_id(gql: GraphQLClient, db: str) -> None:
    await a_session("gone", saved=True)
    await a_session("stays")

    data = await gql.data(DELETE_SESSION, {"id": "gone"})

    assert data == {"deleteSession": "gone"}
    assert await stored_ids() == ["stays"]


async def test_delete_of_an_unknown_session_is_not_found(gql: GraphQLClient, db: str) -> None:
    await a_session("stays")

    error = await gql.error(DELETE_SESSION, {"id": "missing"})

    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await models.Session.all().count() == 1


async def test_delete_many_deletes_those_that_exist_and_ignores_unknown_ids(gql: GraphQLClient, db: str) -> None:
    for session_id in ("a", "b", "c"):
        await a_session(session_id)

    data = await gql.data(DELETE_SESSIONS, {"ids": ["a", "missing", "c"]})

    assert data == {"deleteSessions": ["a", "c"]}
    assert await stored_ids() == ["b"]


@pytest.mark.parametrize(
    ("ids", "deleted"),
    [
        pytest.param([], [], id="none"),
        pytest.param(["missing", "also-missing"], [], id="only-unknown"),
        pytest.param(["a", "a"], ["a"], id="repeated"),
    ],
)
async def test_delete_many_answers_each_deleted_id_once(
    gql: GraphQLClient, db: str, ids: list[str], deleted: list[str]
) -> None:
    await a_session("a")
    await a_session("b")

    data = await gql.data(DELETE_SESSIONS, {"ids": ids})

    assert data == {"deleteSessions": deleted}
    assert await models.Session.all().count() == 2 - len(deleted)


# --- purgeEphemeralSessions --------------------------------------------------------------


async def test_purge_deletes_only_ephemeral_sessions_idle_longer_than_idle_seconds(gql: GraphQLClient, db: str) -> None:
    await a_session("idle-ephemeral")
    await a_session("busy-ephemeral")
    await a_session("idle-saved", saved=True)
    await make_idle("idle-ephemeral", 2 * 3_600)
    await make_idle("busy-ephemeral", 60)
    await make_idle("idle-saved", 2 * 3_600)

    data = await gql.data(PURGE, {"idleSeconds": 3_600})

    assert data == {"purgeEphemeralSessions": 1}
    assert await stored_ids() == ["busy-ephemeral", "idle-saved"]


async def test_purge_never_deletes_saved_sessions(gql: GraphQLClient, db: str) -> None:
    await a_session("ancient-saved", saved=True)  # updated long ago

    data = await gql.data(PURGE, {"idleSeconds": 0})

    assert data == {"purgeEphemeralSessions": 0}
    assert await models.Session.filter(id="ancient-saved").exists()


async def test_purge_without_idle_seconds_uses_the_configured_ttl(gql: GraphQLClient, db: str) -> None:
    await a_session("past-ttl")
    await a_session("within-ttl")
    await make_idle("past-ttl", TEST_TTL + 600)
    await make_idle("within-ttl", TEST_TTL - 600)

    data = await gql.data(PURGE)

    assert data == {"purgeEphemeralSessions": 1}
    assert await stored_ids() == ["within-ttl"]


@pytest.mark.parametrize("settings", [0], indirect=True)
async def test_purge_without_idle_seconds_deletes_nothing_when_expiry_is_off(gql: GraphQLClient, db: str) -> None:
    await a_session("ancient")  # updated long ago

    data = await gql.data(PURGE)

    assert data == {"purgeEphemeralSessions": 0}
    assert await models.Session.all().count() == 1


async def test_purge_with_negative_idle_seconds_is_bad_user_input(gql: GraphQLClient, db: str) -> None:
    await a_session("ancient")

    error = await gql.error(PURGE, {"idleSeconds": -1})

    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "idleSeconds")
    assert await models.Session.all().count() == 1
