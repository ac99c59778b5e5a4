"""import-kalito: an existing Kalito database arrives whole, once, or not at all."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import models
from kalito_import import NotAKalitoDatabase, import_kalito
from support import REPOSITORY_ROOT
from tests.conftest import GraphQLClient
from tests.kalito_fixtures import (
    SAMPLE_SESSION_ID,
    copy_sample,
    empty_kalito_database,
    insert,
    rows,
)

SESSION_WITH_HISTORY = """
query Imported($id: ID!) {
  session(id: $id) {
    id name model recap personaId saved createdAt updatedAt messageCount
    messages(first: 100) { edges { node { id sessionId role text model tokenUsage createdAt } } }
  }
}
"""
KALITO_EPOCH = datetime(2025, 9, 13, 10, 0, tzinfo=UTC)
PERSONAS = "{ personas { id name prompt description icon category defaultModel isDefault createdAt updatedAt } }"


def kalito_time(value: str) -> str:
    """Kalito's two timestamp spellings, as the API writes them."""
    return value.replace(" ", "T") + ("" if value.endswith("Z") else ".000Z")


def kalito_session(session_id: str, **overrides: object) -> dict[str, object]:
    return {
        "id": session_id,
        "name": f"chat {session_id}",
        "model": "gpt-4.1-nano",
        "recap": None,
        "persona_id": None,
        "created_at": "2025-09-13T10:41:26.956Z",
        "updated_at": "2025-09-13T10:43:17.822Z",
        "saved": 1,
        **overrides,
    }


def kalito_message(message_id: int, session_id: str, **overrides: object) -> dict[str, object]:
    return {
        "id": message_id,
        "session_id": session_id,
        "role": "user" if message_id % 2 else "assistant",
        "text": f"message {message_id}",
        "model_id": "gpt-4.1-nano",
        "token_usage": None,
        "created_at": (KALITO_EPOCH + timedelta(seconds=message_id)).isoformat(timespec="milliseconds")[:-6] + "Z",
        **overrides,
    }


async def test_the_sample_session_reads_back_exactly_as_kalito_holds_it(
    db: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    sample = copy_sample(tmp_path / "kalito-source.db")
    report = await import_kalito(sample)
    assert (report.imported["sessions"], report.imported["messages"]) == (1, 10)

    [session] = rows(sample, "SELECT * FROM sessions")
    messages = rows(sample, "SELECT * FROM messages ORDER BY created_at, id")
    data = await gql.data(SESSION_WITH_HISTORY, {"id": SAMPLE_SESSION_ID})
    assert data["session"] == {
        "id": session["id"],
        "name": "Untitled Chat",  # NULL in the file
        "model": session["model"],
        "recap": session["recap"],
        "personaId": session["persona_id"],
        "saved": bool(session["saved"]),
        "createdAt": session["created_at"],
        "updatedAt": session["updated_at"],
        "messageCount": len(messages),
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
                for message in messages
            ]
        },
    }


async def test_the_sample_personas_replace_the_seeded_defaults_field_by_field(
    db: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    sample = copy_sample(tmp_path / "kalito-source.db")
    await import_kalito(sample)
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
            for persona in rows(sample, "SELECT * FROM personas")
        ),
        key=lambda persona: (persona["name"], persona["id"]),
    )
    assert (await gql.data(PERSONAS))["personas"] == expected


async def test_a_second_import_changes_nothing(db: str, gql: GraphQLClient, tmp_path: Path) -> None:
    sample = copy_sample(tmp_path / "kalito-source.db")
    await import_kalito(sample)
    before = (await gql.data(SESSION_WITH_HISTORY, {"id": SAMPLE_SESSION_ID}), await gql.data(PERSONAS))

    report = await import_kalito(sample)

    assert sum(report.imported.values()) == 0
    assert report.skipped == {
        ("personas", "already present"): 4,
        ("sessions", "already present"): 1,
        ("messages", "already present"): 10,
    }
    assert (await gql.data(SESSION_WITH_HISTORY, {"id": SAMPLE_SESSION_ID}), await gql.data(PERSONAS)) == before


async def test_orphans_unknown_personas_bad_rows_and_extra_columns_are_reported(
    db: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    source = empty_kalito_database(tmp_path / "kalito-source.db", extra_columns=True)
    insert(
        source,
        "sessions",
        [
            kalito_session("kept", persona_id="no-such-persona", pinned=1),
            kalito_session("bad id!"),
            kalito_session("ephemeral", saved=0, name=None),
        ],
    )
    insert(
        source,
        "messages",
        [
            kalito_message(1, "kept", attachments="[]"),
            kalito_message(2, "nowhere"),
            kalito_message(3, "kept", role="tool"),
            kalito_message(4, "kept", text=""),
            kalito_message(5, "bad id!"),
            kalito_message(6, "ephemeral", token_usage=42),
        ],
    )

    report = await import_kalito(source)

    assert +report.imported == {"sessions": 2, "messages": 2}
    assert report.skipped == {
        ("sessions", "id must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"): 1,
        ("messages", "its session is not in the database (orphan)"): 2,
        ("messages", "unknown role 'tool'"): 1,
        ("messages", "text must be 1 to 100000 characters"): 1,
    }
    assert report.notes == {
        "sessions without a name imported as Untitled Chat": 1,
        "sessions kept without their unknown persona 'no-such-persona'": 1,
    }
    kept = await models.Session.get(id="kept")
    assert (kept.persona_id, kept.saved) == (None, True)
    ephemeral = await models.Session.get(id="ephemeral")
    assert (ephemeral.name, ephemeral.saved) == ("Untitled Chat", False)
    assert sorted(await models.Message.all().values_list("id", flat=True)) == [1, 6]


async def test_new_messages_get_ids_after_the_imported_ones(db: str, gql: GraphQLClient, tmp_path: Path) -> None:
    await import_kalito(copy_sample(tmp_path / "kalito-source.db"))
    appended = await gql.data(
        'mutation Append($id: ID!) { appendMessage(input: {sessionId: $id, role: USER, text: "and now?"}) { id } }',
        {"id": SAMPLE_SESSION_ID},
    )
    assert int(appended["appendMessage"]["id"]) > 147


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
    other = tmp_path / "other.db"
    insert_target = empty_kalito_database(other)
    import sqlite3

    connection = sqlite3.connect(insert_target)
    connection.execute("DROP TABLE messages")
    connection.commit()
    connection.close()
    with pytest.raises(NotAKalitoDatabase, match="no messages table"):
        await import_kalito(other)


async def test_a_hundred_thousand_messages_arrive_in_order(db: str, gql: GraphQLClient, tmp_path: Path) -> None:
    source = empty_kalito_database(tmp_path / "kalito-source.db")
    sessions = [f"s{number}" for number in range(100)]
    insert(source, "sessions", [kalito_session(session_id) for session_id in sessions])
    insert(source, "messages", (kalito_message(number, sessions[number % 100]) for number in range(1, 100_001)))

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
        [sys.executable, "-m", "cli", "import-kalito", str(copy_sample(tmp_path / "kalito-source.db"))],
        cwd=REPOSITORY_ROOT,
        env={"KALITO_DATABASE_URL": f"sqlite://{target}", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines()[:3] == ["imported 4 personas", "imported 1 sessions", "imported 10 messages"]
