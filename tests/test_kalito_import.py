"""import-kalito (api.md §8): a Kalito database arrives whole, once, or not at all; what the API
cannot hold is reported, never dropped in silence; the user's file is never written to.

Every value is read back through HTTP (each read sent twice: strawberry's answer, then the
compiled plan's) and compared with what the file holds, for each Kalito schema in the wild.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import models
from importers.kalito import import_kalito
from importers.kalito_file import NotAKalitoDatabase
from support import REPOSITORY_ROOT
from support.kalito import (
    NOVEMBER_2025,
    SAMPLE_SESSION_ID,
    SAVED_SESSION_ID,
    SCHEMAS,
    SEPTEMBER_2025,
    KalitoFile,
    KalitoSchema,
    Row,
    read_rows,
    write_many_messages,
    write_realistic_sample,
)
from tests.conftest import GraphQLClient
from tests.operations import PURGE_EPHEMERAL
from web.sweeper import sweep_forever

PIN_FIELDS = "id sessionId content sourceMessageId importance type createdAt"
SUMMARY_FIELDS = "id sessionId text messageCount startMessageId endMessageId importance createdAt"
MESSAGE_FIELDS = "id sessionId role text model tokenUsage importance createdAt"
SESSION_WITH_HISTORY = f"""
query Imported($id: ID!) {{
  session(id: $id) {{
    id name model recap personaId saved createdAt updatedAt metadata messageCount
    messages(first: 100) {{ edges {{ node {{ {MESSAGE_FIELDS} }} }} }}
    pins {{ {PIN_FIELDS} }}
    summaries {{ {SUMMARY_FIELDS} }}
  }}
}}
"""
PERSONA_FIELDS = (
    "id name prompt description icon category defaultModel isDefault createdAt updatedAt "
    "temperature maxTokens topP repeatPenalty stopSequences suggestedModels"
)
PERSONAS = f"{{ personas {{ {PERSONA_FIELDS} }} }}"
# The columns of a Kalito session that have a field of their own; the others go into metadata.
SESSION_FIELD_COLUMNS = {"id", "name", "model", "recap", "persona_id", "created_at", "updated_at", "saved"}
PIN_TYPES = {"manual", "auto", "code", "concept", "system"}
TABLES = ("personas", "sessions", "messages", "pins", "summaries")


def kalito_time(value: str) -> str:
    """Kalito's two timestamp spellings, as the API writes them."""
    return value.replace(" ", "T") + ("" if value.endswith("Z") else ".000Z")


def optional(value: object) -> object:
    """An empty string reads as absent (api.md §8)."""
    return None if value == "" else value


def message_id(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def expected_pin_type(pin: Row) -> str:
    for column in ("pin_type", "type"):
        if pin.get(column) in PIN_TYPES:
            return str(pin[column]).upper()
    return "MANUAL"


def expected_session(path: Path, session: Row) -> dict[str, Any]:
    """The session as the API must answer it, from the file alone."""
    messages = read_rows(path, "SELECT * FROM messages WHERE session_id = ? ORDER BY created_at, id", [session["id"]])
    pins = read_rows(
        path,
        "SELECT * FROM semantic_pins WHERE session_id = ? ORDER BY importance_score DESC, created_at DESC",
        [session["id"]],
    )
    summaries = read_rows(
        path, "SELECT * FROM conversation_summaries WHERE session_id = ? ORDER BY created_at DESC", [session["id"]]
    )
    return {
        "id": session["id"],
        "name": "Untitled Chat" if session["name"] is None else session["name"],
        "model": session["model"],
        "recap": session["recap"],
        "personaId": session["persona_id"],
        "saved": bool(session["saved"]),
        "createdAt": session["created_at"],
        "updatedAt": session["updated_at"],
        "metadata": {
            f"kalito.{column}": str(value)
            for column, value in session.items()
            if column not in SESSION_FIELD_COLUMNS and value not in (None, "")
        },
        "messageCount": len(messages),
        "messages": {
            "edges": [
                {
                    "node": {
                        "id": str(message["id"]),
                        "sessionId": message["session_id"],
                        "role": message["role"].upper(),
                        "text": message["text"],
                        "model": optional(message["model_id"]),
                        "tokenUsage": message["token_usage"],
                        "importance": message["importance_score"],
                        "createdAt": message["created_at"],
                    }
                }
                for message in messages
            ]
        },
        "pins": [
            {
                "id": pin["id"],
                "sessionId": pin["session_id"],
                "content": pin["content"],
                "sourceMessageId": message_id(pin["source_message_id"]),
                "importance": pin["importance_score"],
                "type": expected_pin_type(pin),
                "createdAt": kalito_time(pin["created_at"]),
            }
            for pin in pins
        ],
        "summaries": [
            {
                "id": summary["id"],
                "sessionId": summary["session_id"],
                "text": summary["summary"],
                "messageCount": summary["message_count"],
                "startMessageId": message_id(summary["start_message_id"]),
                "endMessageId": message_id(summary["end_message_id"]),
                "importance": summary["importance_score"],
                "createdAt": kalito_time(summary["created_at"]),
            }
            for summary in summaries
        ],
    }


def expected_persona(persona: Row) -> dict[str, Any]:
    return {
        "id": persona["id"],
        "name": persona["name"],
        "prompt": persona["prompt"],
        "description": optional(persona["description"]),
        "icon": optional(persona["icon"]),
        "category": optional(persona["category"]),
        "defaultModel": optional(persona["default_model"]),
        "isDefault": bool(persona["is_default"]),
        "createdAt": kalito_time(persona["created_at"]),
        "updatedAt": kalito_time(persona["updated_at"]),
        "temperature": persona["temperature"],
        "maxTokens": persona["maxTokens"],
        "topP": persona["topP"],
        "repeatPenalty": persona["repeatPenalty"],
        "stopSequences": json.loads(persona["stopSequences"] or "[]"),
        "suggestedModels": json.loads(persona["suggested_models"] or "[]"),
    }


async def everything(gql: GraphQLClient, path: Path) -> list[dict[str, Any]]:
    """What the API answers for every session of the file, and the personas."""
    ids = [row["id"] for row in read_rows(path, "SELECT id FROM sessions ORDER BY id")]
    return [*[await gql.twice(SESSION_WITH_HISTORY, {"id": id}) for id in ids], await gql.twice(PERSONAS)]


@pytest.fixture(params=SCHEMAS, ids=lambda schema: schema.name)
def schema(request: pytest.FixtureRequest) -> KalitoSchema:
    schema: KalitoSchema = request.param
    return schema


@pytest.fixture
def sample(schema: KalitoSchema, tmp_path: Path) -> Path:
    """The realistic sample in each Kalito schema, alone in its folder."""
    folder = tmp_path / "kalito"
    folder.mkdir()
    return write_realistic_sample(folder / "kalito.db", schema)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


async def test_every_value_of_the_sample_reads_back_as_the_file_holds_it(
    db: str, gql: GraphQLClient, sample: Path, schema: KalitoSchema
) -> None:
    report = await import_kalito(sample)

    assert report.complete and not report.refused
    counts = {table: len(read_rows(sample, f"SELECT id FROM {table}")) for table in ("sessions", "personas")}
    assert dict(report.imported) == {
        "personas": counts["personas"],
        "sessions": 2,
        "messages": 15,  # the empty reply included
        "pins": 3,
        "summaries": 1,
    }
    for session in read_rows(sample, "SELECT * FROM sessions"):
        assert await gql.twice(SESSION_WITH_HISTORY, {"id": session["id"]}) == {
            "session": expected_session(sample, session)
        }
    personas = sorted(
        (expected_persona(persona) for persona in read_rows(sample, "SELECT * FROM personas")),
        key=lambda persona: (persona["name"], persona["id"]),
    )
    assert (await gql.twice(PERSONAS))["personas"] == personas


async def test_the_report_says_where_each_column_without_a_field_went(
    db: str, gql: GraphQLClient, sample: Path, schema: KalitoSchema
) -> None:
    report = await import_kalito(sample)

    if schema is NOVEMBER_2025:
        assert report.kept_in_metadata == {
            "kalito.session_type": 2,  # 'chat' by the column's default, 'care' for the care session
            "kalito.patient_id": 1,
            "kalito.care_category": 1,
        }
        assert report.unmapped == {
            ("personas", "eldercare_specialty"): 1,
            ("personas", "patient_context"): 5,  # DEFAULT 0 on every row
            ("semantic_pins", "medical_category"): 1,
            ("semantic_pins", "patient_id"): 0,
            ("semantic_pins", "urgency_level"): 3,  # DEFAULT 'normal'
        }
        saved = await gql.twice("query ($id: ID!) { session(id: $id) { metadata } }", {"id": SAVED_SESSION_ID})
        assert saved["session"]["metadata"] == {
            "kalito.session_type": "care",
            "kalito.patient_id": "patient-7",
            "kalito.care_category": "reading",
        }
    else:
        assert not report.kept_in_metadata and not report.unmapped
    lines = report.lines()
    assert lines[:5] == [f"imported {report.imported[table]} {table}" for table in TABLES]
    for (table, column), count in report.unmapped.items():
        assert f"not imported, no field for it: {table}.{column} ({count} non-null values)" in lines


async def test_an_older_pins_type_column_is_read_where_pin_type_names_none(
    db: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    with KalitoFile(tmp_path / "kalito-source.db", SEPTEMBER_2025) as kalito:
        session = kalito.session(id="pins", name="Pins", saved=1)
        for number, (pin_type, older) in enumerate(
            [("concept", "code"), ("user", "code"), ("user", "manual"), (None, None), ("medical", None), ("AUTO", None)]
        ):
            kalito.pin(session["id"], f"pin {number}", id=f"pin-{number}", pin_type=pin_type, type=older)

    report = await import_kalito(kalito.path)

    data = await gql.twice('{ session(id: "pins") { pins { id type } } }')
    assert {pin["id"]: pin["type"] for pin in data["session"]["pins"]} == {
        "pin-0": "CONCEPT",
        "pin-1": "CODE",
        "pin-2": "MANUAL",
        "pin-3": "MANUAL",
        "pin-4": "MANUAL",
        "pin-5": "AUTO",
    }
    assert report.notes == {"pins whose type 'medical' is none of the five: imported as MANUAL": 1}
    assert report.complete


async def test_empty_strings_read_as_absent_and_an_assistant_may_have_said_nothing(
    db: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    with KalitoFile(tmp_path / "kalito-source.db", NOVEMBER_2025) as kalito:
        persona = kalito.persona(
            name="Blank", description="", icon="", category="", default_model="", suggested_models="", stopSequences=""
        )
        kalito.session(id="blank", model="", recap="", persona_id="", session_type="", patient_id="")
        kalito.message("blank", "user", "Hello?", model_id="")
        kalito.message("blank", "assistant", None, importance_score=None)
        kalito.message("blank", "assistant", "", token_usage="")

    report = await import_kalito(kalito.path)

    assert report.complete
    data = await gql.twice(
        '{ session(id: "blank") { model recap personaId metadata '
        "messages { edges { node { role text model tokenUsage importance } } } } }"
    )
    assert data["session"] == {
        "model": None,
        "recap": None,
        "personaId": None,
        "metadata": {},
        "messages": {
            "edges": [
                {"node": {"role": "USER", "text": "Hello?", "model": None, "tokenUsage": None, "importance": 0.7}},
                # NULL importance: Kalito's heuristic, as the API computes it for a message without one
                {"node": {"role": "ASSISTANT", "text": "", "model": None, "tokenUsage": 0, "importance": 0.55}},
                {"node": {"role": "ASSISTANT", "text": "", "model": None, "tokenUsage": None, "importance": 0.55}},
            ]
        },
    }
    blank = await gql.twice(
        "query ($id: ID!) { persona(id: $id) "
        "{ description icon category defaultModel stopSequences suggestedModels } }",
        {"id": persona["id"]},
    )
    assert blank["persona"] == {
        "description": None,
        "icon": None,
        "category": None,
        "defaultModel": None,
        "stopSequences": [],
        "suggestedModels": [],
    }


async def test_what_the_api_cannot_hold_is_reported_by_table_id_and_reason(
    db: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    with KalitoFile(tmp_path / "kalito-source.db", NOVEMBER_2025) as kalito:
        kalito.execute("ALTER TABLE messages ADD COLUMN attachments TEXT")  # a column no Kalito has yet
        kalito.persona(id="hot", name="Hot", temperature=5.0, suggested_models="qwen, mistral")
        kalito.persona(id="no prompt!", name="Bad id")
        kalito.session(id="kept", persona_id="no-such-persona", care_category="x" * 600)
        kalito.session(id="bad id!")
        kalito.session(id="unnamed", saved=0, name=None)
        kalito.message("kept", "user", "message 1", id=1, attachments="[]")
        kalito.message("nowhere", "assistant", "message 2", id=2)
        kalito.message("kept", "tool", "message 3", id=3)
        kalito.message("kept", "user", "", id=4)
        kalito.message("bad id!", "user", "message 5", id=5)
        kalito.message("unnamed", "assistant", "message 6", id=6, token_usage=-3)
        kalito.pin("kept", "", id="pin-empty")
        kalito.pin("kept", "sourced elsewhere", id="pin-dangling", source_message_id="6")
        kalito.pin("kept", "too important", id="pin-important", importance_score=1.5)
        kalito.summary("kept", "a span", [], id="summary-negative", message_count=-1)

    report = await import_kalito(kalito.path)

    assert not report.complete
    assert report.refused == {
        ("personas", "temperature must be a finite number from 0 to 2: imported without it"): 1,
        ("personas", "suggested_models is not a JSON list of strings: imported without it"): 1,
        ("personas", "id must be 1 to 64 characters of A-Z, a-z, 0-9, _, - and ."): 1,
        ("sessions", "kalito.care_category not kept: metadata values must be at most 512 characters"): 1,
        ("sessions", "id must be 1 to 64 characters of A-Z, a-z, 0-9, _, - and ."): 1,
        ("messages", "its session is not in the file"): 1,
        ("messages", "its session could not be held"): 1,
        ("messages", "unknown role 'tool'"): 1,
        ("messages", "text must be 1 to 100000 characters"): 1,
        ("messages", "tokenUsage must be 0 or more: imported without it"): 1,
        ("pins", "content must be 1 to 20000 characters"): 1,
        ("pins", "importance must be a finite number from 0 to 1: imported without it"): 1,
        ("summaries", "messageCount must be 0 or more"): 1,
    }
    assert report.examples["messages", "unknown role 'tool'"] == ["3"]
    assert report.examples["sessions", "id must be 1 to 64 characters of A-Z, a-z, 0-9, _, - and ."] == ["bad id!"]
    assert report.notes == {
        "sessions without a name imported as Untitled Chat": 1,
        "sessions whose persona the file lacks: its id kept in metadata as kalito.persona_id": 1,
        "pins whose sourceMessageId names no message of their session: kept without it": 1,
    }
    assert report.unmapped[("messages", "attachments")] == 1
    assert any(
        line.startswith("could not be held: 1 messages: unknown role 'tool' (e.g. 3)") for line in report.lines()
    )

    kept = await gql.twice(
        '{ session(id: "kept") { personaId saved metadata messages { edges { node { id } } } '
        "pins { id sourceMessageId importance } } }"
    )
    assert kept["session"] == {
        "personaId": None,
        "saved": True,
        "metadata": {"kalito.session_type": "chat", "kalito.persona_id": "no-such-persona"},
        "messages": {"edges": [{"node": {"id": "1"}}]},
        "pins": [
            {"id": "pin-important", "sourceMessageId": None, "importance": 0.8},  # the newer first
            {"id": "pin-dangling", "sourceMessageId": None, "importance": 0.8},
        ],
    }
    unnamed = await gql.twice('{ session(id: "unnamed") { name saved messages { edges { node { id tokenUsage } } } } }')
    assert unnamed["session"] == {
        "name": "Untitled Chat",
        "saved": False,
        "messages": {"edges": [{"node": {"id": "6", "tokenUsage": None}}]},
    }
    hot = await gql.twice('{ persona(id: "hot") { temperature suggestedModels maxTokens } }')
    assert hot["persona"] == {"temperature": None, "suggestedModels": [], "maxTokens": 1000}


async def test_a_second_import_changes_nothing_and_a_later_one_brings_only_what_is_new(
    db: str, gql: GraphQLClient, sample: Path
) -> None:
    await import_kalito(sample)
    before = await everything(gql, sample)

    again = await import_kalito(sample)

    assert sum(again.imported.values()) == 0 and again.complete
    personas = len(read_rows(sample, "SELECT id FROM personas"))
    assert again.present == {"personas": personas, "sessions": 2, "messages": 15, "pins": 3, "summaries": 1}
    assert await everything(gql, sample) == before

    with KalitoFile.reopen(sample) as kalito:  # Kalito went on: one more message
        kalito.message(SAVED_SESSION_ID, "assistant", "One more thing: read The Raven aloud too.", id=500)
    later = await import_kalito(sample)

    assert +later.imported == {"messages": 1}
    data = await gql.twice(
        "query ($id: ID!) { session(id: $id) { updatedAt messages(last: 1) { edges { node { id } } } } }",
        {"id": SAVED_SESSION_ID},
    )
    assert data["session"]["messages"] == {"edges": [{"node": {"id": "500"}}]}


async def test_the_file_and_its_folder_are_left_byte_for_byte_as_they_were(
    db: str, gql: GraphQLClient, sample: Path
) -> None:
    """Kalito keeps WAL mode; the newest writes may be in the -wal file still. They arrive, and
    nothing appears beside the user's file (SQLite would create -wal and -shm on opening it)."""
    closed = folder_bytes(sample.parent)
    assert set(closed) == {"kalito.db"}
    await import_kalito(sample)
    assert folder_bytes(sample.parent) == closed

    # Kalito still running: a session written to the -wal, not yet into the file.
    kalito = sqlite3.connect(sample, isolation_level=None)
    try:
        kalito.execute("PRAGMA wal_autocheckpoint = 0")
        kalito.execute(
            "INSERT INTO sessions (id, name, model, created_at, updated_at, saved) VALUES (?, ?, ?, ?, ?, 1)",
            ("in-the-wal", "Only in the WAL", "gpt-4.1-nano", "2025-11-02T09:00:00.000Z", "2025-11-02T09:00:00.000Z"),
        )
        running = folder_bytes(sample.parent)
        assert {"kalito.db-wal", "kalito.db-shm"} <= set(running)

        report = await import_kalito(sample)

        assert folder_bytes(sample.parent) == running
    finally:
        kalito.close()
    assert +report.imported == {"sessions": 1}
    data = await gql.twice('{ session(id: "in-the-wal") { name updatedAt } }')
    assert data["session"] == {"name": "Only in the WAL", "updatedAt": "2025-11-02T09:00:00.000Z"}


async def test_an_imported_ephemeral_session_idles_from_its_import_not_from_2025(
    db: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    """Kalito never expired anything: the sweep (and purgeEphemeralSessions) count an imported
    ephemeral session's idleness from the import, and its updatedAt stays Kalito's."""
    with KalitoFile(tmp_path / "kalito-source.db", SEPTEMBER_2025) as kalito:
        kalito.session(id="old", saved=0, created_at="2025-09-13T10:41:26.956Z")
        kalito.message("old", "user", "Still here?")
    [before] = read_rows(kalito.path, "SELECT updated_at FROM sessions")
    await gql.data('mutation { createSession(input: {id: "native"}) { id } }')
    await models.Session.filter(id="native").update(updated_at=datetime(2025, 9, 13, tzinfo=UTC))

    report = await import_kalito(kalito.path)
    assert report.idle_clock_restarted == 1
    assert any("their idle clock starts at this import" in line for line in report.lines())

    purged = await gql.data(PURGE_EPHEMERAL, {"idleSeconds": 3600})
    assert purged == {"purgeEphemeralSessions": 1}  # the session made here, idle since 2025
    survivor = await gql.twice('{ session(id: "old") { saved updatedAt messageCount } }')
    assert survivor["session"] == {"saved": False, "updatedAt": before["updated_at"], "messageCount": 1}

    await asyncio.sleep(0.01)
    assert await gql.data(PURGE_EPHEMERAL, {"idleSeconds": 0}) == {"purgeEphemeralSessions": 1}
    assert await gql.data('{ session(id: "old") { id } }') == {"session": None}
    assert await models.SessionImport.all().count() == 0  # gone with its session


async def test_the_servers_ttl_sweep_spares_what_an_import_just_brought_in(
    db: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    """As a new user meets it: the server's own sweep, minutes after the import."""
    with KalitoFile(tmp_path / "kalito-source.db", SEPTEMBER_2025) as kalito:
        kalito.session(id="from-kalito", saved=0)
        kalito.message("from-kalito", "user", "Remember me?")
    await import_kalito(kalito.path)
    await gql.data('mutation { createSession(input: {id: "idle-here"}) { id } }')
    await models.Session.filter(id="idle-here").update(updated_at=datetime(2025, 9, 13, tzinfo=UTC))

    sweeper = asyncio.create_task(sweep_forever(ttl_seconds=60, interval_seconds=0.01))
    try:
        async with asyncio.timeout(10):
            while await models.Session.exists(id="idle-here"):  # a sweep has run
                await asyncio.sleep(0.01)
    finally:
        sweeper.cancel()
    kept = await gql.twice('{ session(id: "from-kalito") { saved messageCount } }')
    assert kept["session"] == {"saved": False, "messageCount": 1}


async def test_the_seeded_defaults_are_replaced_only_while_untouched(db: str, gql: GraphQLClient, sample: Path) -> None:
    await gql.data('mutation { updatePersona(input: {id: "default-local", name: "My Local"}) { id } }')
    edited = await gql.twice('{ persona(id: "default-local") { name prompt updatedAt } }')

    report = await import_kalito(sample)

    assert report.present == {"personas": 1}
    assert await gql.twice('{ persona(id: "default-local") { name prompt updatedAt } }') == edited
    [cloud] = read_rows(sample, "SELECT * FROM personas WHERE id = 'default-cloud'")
    answer = await gql.twice(f'{{ persona(id: "default-cloud") {{ {PERSONA_FIELDS} }} }}')
    assert answer["persona"] == expected_persona(cloud)


async def test_new_messages_get_ids_after_the_imported_ones(db: str, gql: GraphQLClient, sample: Path) -> None:
    await import_kalito(sample)
    appended = await gql.data(
        'mutation Append($id: ID!) { appendMessage(input: {sessionId: $id, role: USER, text: "and now?"}) { id } }',
        {"id": SAMPLE_SESSION_ID},
    )
    [last] = read_rows(sample, "SELECT MAX(id) AS id FROM messages")
    assert int(appended["appendMessage"]["id"]) > last["id"] == 152


@pytest.mark.parametrize("content", [b"", b"not a database at all", b"SQLite format 3\x00" + b"\x00" * 200])
async def test_a_file_that_is_not_a_kalito_database_is_refused_and_nothing_is_written(
    db: str, tmp_path: Path, content: bytes
) -> None:
    folder = tmp_path / "source"
    folder.mkdir()
    bad = folder / "bad.db"
    bad.write_bytes(content)
    sessions_before = await models.Session.all().count()
    with pytest.raises(NotAKalitoDatabase):
        await import_kalito(bad)
    assert await models.Session.all().count() == sessions_before
    assert bad.read_bytes() == content and [path.name for path in folder.iterdir()] == ["bad.db"]


async def test_a_database_without_kalitos_tables_is_refused(db: str, tmp_path: Path) -> None:
    with KalitoFile(tmp_path / "other.db") as other:
        other.execute("DROP TABLE messages")
    with pytest.raises(NotAKalitoDatabase, match="no messages table"):
        await import_kalito(other.path)


async def test_a_file_without_the_memory_tables_imports_its_conversations(
    db: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    with KalitoFile(tmp_path / "kalito-source.db") as kalito:
        kalito.session(id="early", saved=1)
        kalito.message("early", "user", "Before pins existed")
        kalito.execute("DROP TABLE semantic_pins")
        kalito.execute("DROP TABLE conversation_summaries")
    report = await import_kalito(kalito.path)
    assert +report.imported == {"sessions": 1, "messages": 1} and report.complete


async def test_a_hundred_thousand_messages_arrive_in_order(db: str, gql: GraphQLClient, tmp_path: Path) -> None:
    source = write_many_messages(tmp_path / "kalito-source.db", messages=100_000, sessions=100)

    report = await import_kalito(source)

    assert report.imported["messages"] == 100_000 and report.complete
    data = await gql.twice('{ session(id: "s7") { messageCount messages(last: 2) { edges { node { id } } } } }')
    assert data["session"] == {
        "messageCount": 1000,
        "messages": {"edges": [{"node": {"id": "99807"}}, {"node": {"id": "99907"}}]},
    }


def run_command(path: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "import-kalito", str(path)],
        cwd=REPOSITORY_ROOT,
        env={"KALITO_DATABASE_URL": f"sqlite://{target}", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_names_a_bad_file_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    finished = run_command(bad, tmp_path / "target.db")
    assert finished.returncode == 1
    assert "not an SQLite database" in finished.stderr and "nothing was imported" in finished.stderr


def test_the_command_prints_what_it_imported(tmp_path: Path) -> None:
    finished = run_command(write_realistic_sample(tmp_path / "kalito-source.db"), tmp_path / "target.db")
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines()[:5] == [
        "imported 4 personas",
        "imported 2 sessions",
        "imported 15 messages",
        "imported 3 pins",
        "imported 1 summaries",
    ]


def test_the_command_exits_3_when_some_of_the_file_could_not_be_held(tmp_path: Path) -> None:
    with KalitoFile(tmp_path / "kalito-source.db") as kalito:
        kalito.session(id="chat", saved=1)
        kalito.message("chat", "tool", "a tool's output", id=7)
    finished = run_command(kalito.path, tmp_path / "target.db")
    assert finished.returncode == 3
    assert "could not be held: 1 messages: unknown role 'tool' (e.g. 7)" in finished.stdout
    assert "could not be held" in finished.stderr
