"""import-kalito: an existing Kalito database arrives whole, once, or not at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import models
from kalito_import import NotAKalitoDatabase, import_kalito
from support import REPOSITORY_ROOT
from support.kalito import (
    NOVEMBER_2025,
    SAMPLE_SESSION_ID,
    SCHEMAS,
    KalitoFile,
    KalitoSchema,
    read_rows,
    write_many_messages,
    write_realistic_sample,
)
from tests.conftest import GraphQLClient

SESSION_WITH_HISTORY = """
query Imported($id: ID!) {
  session(id: $id) {
    id name model recap personaId saved createdAt updatedAt messageCount
    messages(first: 100) { edges { node { id sessionId role text model tokenUsage createdAt } } }
  }
}
"""
PERSONAS = "{ personas { id name prompt description icon category defaultModel isDefault createdAt updatedAt } }"
EMPTY_TEXT = "text must be 1 to 100000 characters"
EMPTY_DEFAULT_MODEL = "defaultModel must be 1 to 100 characters"
# What the import refuses today of the realistic sample: its empty assistant reply, and the
# persona whose default model is '' (api.md §8 asks for both to be kept; the next issue does it).
SAMPLE_REFUSALS = {("messages", EMPTY_TEXT): 1, ("personas", EMPTY_DEFAULT_MODEL): 1}


def kalito_time(value: str) -> str:
    """Kalito's two timestamp spellings, as the API writes them."""
    return value.replace(" ", "T") + ("" if value.endswith("Z") else ".000Z")


@pytest.fixture(params=SCHEMAS, ids=lambda schema: schema.name)
def schema(request: pytest.FixtureRequest) -> KalitoSchema:
    schema: KalitoSchema = request.param
    return schema


@pytest.fixture
def sample(schema: KalitoSchema, tmp_path: Path) -> Path:
    """The realistic sample in each Kalito schema."""
    return write_realistic_sample(tmp_path / "kalito-source.db", schema)


async def test_the_sample_sessions_read_back_exactly_as_kalito_holds_them(
    db: str, gql: GraphQLClient, sample: Path
) -> None:
    report = await import_kalito(sample)
    assert report.skipped == SAMPLE_REFUSALS

    refused = set(report.examples["messages", EMPTY_TEXT])
    sessions = read_rows(sample, "SELECT * FROM sessions ORDER BY created_at")
    messages = [
        message
        for message in read_rows(sample, "SELECT * FROM messages ORDER BY created_at, id")
        if str(message["id"]) not in refused
    ]
    assert (report.imported["sessions"], report.imported["messages"]) == (len(sessions), len(messages)) == (2, 14)
    unnamed = sum(session["name"] is None for session in sessions)
    assert report.notes["sessions without a name imported as Untitled Chat"] == unnamed
    for session in sessions:
        own = [message for message in messages if message["session_id"] == session["id"]]
        data = await gql.data(SESSION_WITH_HISTORY, {"id": session["id"]})
        assert data["session"] == {
            "id": session["id"],
            "name": "Untitled Chat" if session["name"] is None else session["name"],
            "model": session["model"],
            "recap": session["recap"],
            "personaId": session["persona_id"],
            "saved": bool(session["saved"]),
            "createdAt": session["created_at"],
            "updatedAt": session["updated_at"],
            "messageCount": len(own),
            "messages": {
                "edges": [
                    {
                        "node": {
                            "id": str(message["id"]),
                            "sessionId": message["session_id"],
                            "role": message["role"].upper(),
                            "text": message["text"],
                            "model": message["model_id"],
                            "tokenUsage": message["token_usage"],
                            "createdAt": message["created_at"],
                        }
                    }
                    for message in own
                ]
            },
        }


async def test_the_sample_personas_replace_the_seeded_defaults_field_by_field(
    db: str, gql: GraphQLClient, sample: Path
) -> None:
    report = await import_kalito(sample)
    refused = set(report.examples["personas", EMPTY_DEFAULT_MODEL])
    assert refused == {"mistral-default"}
    expected = sorted(
        (
            {
                "id": persona["id"],
                "name": persona["name"],
                "prompt": persona["prompt"],
                "description": persona["description"],
                "icon": persona["icon"],
                "category": persona["category"],
                "defaultModel": persona["default_model"],
                "isDefault": bool(persona["is_default"]),
                "createdAt": kalito_time(persona["created_at"]),
                "updatedAt": kalito_time(persona["updated_at"]),
            }
            for persona in read_rows(sample, "SELECT * FROM personas")
            if persona["id"] not in refused
        ),
        key=lambda persona: (persona["name"], persona["id"]),
    )
    assert (await gql.data(PERSONAS))["personas"] == expected


async def test_a_second_import_changes_nothing(db: str, gql: GraphQLClient, tmp_path: Path) -> None:
    sample = write_realistic_sample(tmp_path / "kalito-source.db")
    await import_kalito(sample)
    session_ids = [row["id"] for row in read_rows(sample, "SELECT id FROM sessions")]

    async def everything() -> list[object]:
        return [*[await gql.data(SESSION_WITH_HISTORY, {"id": id}) for id in session_ids], await gql.data(PERSONAS)]

    before = await everything()

    report = await import_kalito(sample)

    assert sum(report.imported.values()) == 0
    assert report.skipped == {
        **SAMPLE_REFUSALS,
        ("personas", "already present"): 3,
        ("sessions", "already present"): 2,
        ("messages", "already present"): 14,
    }
    assert await everything() == before


async def test_orphans_unknown_personas_bad_rows_and_extra_columns_are_reported(
    db: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    with KalitoFile(tmp_path / "kalito-source.db", NOVEMBER_2025) as source:
        source.execute("ALTER TABLE messages ADD COLUMN attachments TEXT")  # a column no Kalito has yet
        source.session(id="kept", persona_id="no-such-persona", session_type="care", patient_id="patient-7")
        source.session(id="bad id!")
        source.session(id="ephemeral", saved=0, name=None)
        source.message("kept", "user", "message 1", id=1, attachments="[]")
        source.message("nowhere", "assistant", "message 2", id=2)
        source.message("kept", "tool", "message 3", id=3)
        source.message("kept", "assistant", "", id=4)
        source.message("bad id!", "user", "message 5", id=5)
        source.message("ephemeral", "assistant", "message 6", id=6, token_usage=42)

    report = await import_kalito(source.path)

    assert +report.imported == {"sessions": 2, "messages": 2}
    assert report.skipped == {
        ("sessions", "id must be 1 to 64 characters of A-Z, a-z, 0-9, _, - and ."): 1,  # §8 adds the "."
        ("messages", "its session is not in the database (orphan)"): 2,
        ("messages", "unknown role 'tool'"): 1,
        ("messages", EMPTY_TEXT): 1,
    }
    assert report.notes == {
        "sessions without a name imported as Untitled Chat": 1,
        "sessions kept without their unknown persona 'no-such-persona'": 1,
    }
    kept = await models.Session.get(id="kept")
    assert (kept.persona_id, kept.saved) == (None, True)
    ephemeral = await models.Session.get(id="ephemeral")
    assert (ephemeral.name, ephemeral.saved) == ("Untitled Chat", False)
    assert [message.id for message in await models.Message.all().order_by("id")] == [1, 6]


async def test_new_messages_get_ids_after_the_imported_ones(db: str, gql: GraphQLClient, tmp_path: Path) -> None:
    sample = write_realistic_sample(tmp_path / "kalito-source.db")
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
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    sessions_before = await models.Session.all().count()
    with pytest.raises(NotAKalitoDatabase):
        await import_kalito(bad)
    assert await models.Session.all().count() == sessions_before


async def test_a_database_without_kalitos_tables_is_refused(db: str, tmp_path: Path) -> None:
    with KalitoFile(tmp_path / "other.db") as other:
        other.execute("DROP TABLE messages")
    with pytest.raises(NotAKalitoDatabase, match="no messages table"):
        await import_kalito(other.path)


async def test_a_hundred_thousand_messages_arrive_in_order(db: str, gql: GraphQLClient, tmp_path: Path) -> None:
    source = write_many_messages(tmp_path / "kalito-source.db", messages=100_000, sessions=100)

    report = await import_kalito(source)

    assert report.imported["messages"] == 100_000 and not report.skipped
    data = await gql.data('{ session(id: "s7") { messageCount messages(last: 2) { edges { node { id } } } } }')
    assert data["session"] == {
        "messageCount": 1000,
        "messages": {"edges": [{"node": {"id": "99807"}}, {"node": {"id": "99907"}}]},
    }


def test_the_command_names_a_bad_file_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    target = tmp_path / "target.db"
    finished = subprocess.run(
        [sys.executable, "-m", "cli", "import-kalito", str(bad)],
        cwd=REPOSITORY_ROOT,
        env={"KALITO_DATABASE_URL": f"sqlite://{target}", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 1
    assert "not an SQLite database" in finished.stderr and "nothing was imported" in finished.stderr


def test_the_command_prints_what_it_imported(tmp_path: Path) -> None:
    target = tmp_path / "target.db"
    finished = subprocess.run(
        [sys.executable, "-m", "cli", "import-kalito", str(write_realistic_sample(tmp_path / "kalito-source.db"))],
        cwd=REPOSITORY_ROOT,
        env={"KALITO_DATABASE_URL": f"sqlite://{target}", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines()[:3] == ["imported 3 personas", "imported 2 sessions", "imported 14 messages"]
