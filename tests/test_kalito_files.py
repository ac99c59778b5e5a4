"""The Kalito files the project writes for its tests have the shape and the values real Kalito
files have (api.md §8), so an import that passes on them passes on a user's file."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from importers.kalito_file import REQUIRED_COLUMNS
from support.kalito import (
    AUTO_SAVE,
    NOVEMBER_2025,
    SAMPLE_SESSION_ID,
    SCHEMAS,
    SEPTEMBER_2025,
    KalitoFile,
    KalitoSchema,
    read_rows,
    write_realistic_sample,
)

ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
SQLITE_MOMENT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
# What every Kalito schema holds beside what the import reads today.
MEMORY_COLUMNS = {
    "messages": {"importance_score"},
    "personas": {"suggested_models", "temperature", "maxTokens", "topP", "repeatPenalty", "stopSequences"},
    "semantic_pins": {"id", "session_id", "content", "source_message_id", "importance_score", "pin_type", "created_at"},
    "conversation_summaries": {
        "id",
        "session_id",
        "summary",
        "message_count",
        "start_message_id",
        "end_message_id",
        "importance_score",
        "created_at",
    },
}
# The columns later releases added (api.md §8), and the older pins' `type`.
LATER_COLUMNS = {
    "sessions": {"session_type", "patient_id", "related_record_id", "care_category"},
    "personas": {"eldercare_specialty", "patient_context"},
    "semantic_pins": {"medical_category", "patient_id", "urgency_level"},
}


def columns(path: Path, table: str) -> set[str]:
    return {row["name"] for row in read_rows(path, f"PRAGMA table_info({table})")}


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda schema: schema.name)
def test_each_schema_has_kalitos_tables_with_the_columns_of_its_release(schema: KalitoSchema, tmp_path: Path) -> None:
    path = tmp_path / "kalito.db"
    KalitoFile(path, schema).close()
    for table in REQUIRED_COLUMNS.keys() | MEMORY_COLUMNS.keys():
        assert REQUIRED_COLUMNS.get(table, set()) | MEMORY_COLUMNS.get(table, set()) <= columns(path, table), table
    for table, later in LATER_COLUMNS.items():
        assert (later <= columns(path, table)) == (schema is NOVEMBER_2025), table
    assert ("type" in columns(path, "semantic_pins")) == (schema is SEPTEMBER_2025)


def test_the_september_file_keeps_kalitos_legacy_triggers(tmp_path: Path) -> None:
    with KalitoFile(tmp_path / "kalito.db", SEPTEMBER_2025) as kalito:
        default = kalito.persona(name="Default Cloud Assistant", id="default-cloud", category="cloud", is_default=1)
        with pytest.raises(sqlite3.IntegrityError, match="Cannot delete default persona"):
            kalito.execute("DELETE FROM personas WHERE id = ?", (default["id"],))
        with pytest.raises(sqlite3.IntegrityError, match="Cannot unset default persona flag directly"):
            kalito.execute("UPDATE personas SET is_default = 0 WHERE id = ?", (default["id"],))
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):  # one default per category
            kalito.persona(name="Another Cloud Assistant", category="cloud", is_default=1)


@pytest.mark.parametrize(("schema", "name", "saved"), [(SEPTEMBER_2025, None, 0), (AUTO_SAVE, "New Chat", 1)])
def test_a_session_starts_as_its_kalito_release_starts_one(
    schema: KalitoSchema, name: str | None, saved: int, tmp_path: Path
) -> None:
    with KalitoFile(tmp_path / "kalito.db", schema) as kalito:
        session = kalito.session()
        question = kalito.message(session["id"], "user", "Why does the import report an error?")
    assert (session["name"], session["saved"]) == (name, saved)
    assert ISO_MOMENT.fullmatch(question["created_at"])
    [bumped] = read_rows(kalito.path, "SELECT updated_at FROM sessions")
    assert bumped["updated_at"] == question["created_at"]


def test_the_builder_writes_kalitos_own_values_where_a_test_gives_none(tmp_path: Path) -> None:
    with KalitoFile(tmp_path / "kalito.db") as kalito:
        persona = kalito.persona(name="The Poet")
        session = kalito.session(persona_id=persona["id"])
        long_question = "Why " + "and why " * 30 + "is there an error?"
        question = kalito.message(session["id"], "user", long_question)
        reply = kalito.message(session["id"], "assistant", "")
        pin = kalito.pin(session["id"], "a fact", source_message_id=question["id"])
        summary = kalito.summary(session["id"], "a summary", [question, reply])
    assert re.fullmatch(r"the-poet-[0-9a-z]{8}", persona["id"])
    assert SQLITE_MOMENT.fullmatch(persona["created_at"]) and persona["updated_at"] == persona["created_at"]
    assert (question["importance_score"], question["token_usage"]) == (0.8999999999999999, None)
    assert (reply["importance_score"], reply["token_usage"], reply["model_id"]) == (0.55, 0, session["model"])
    assert re.fullmatch(r"pin_\d{13}_[0-9a-z]{9}", pin["id"])
    assert (pin["source_message_id"], pin["importance_score"], pin["pin_type"]) == (str(question["id"]), 0.8, "manual")
    assert re.fullmatch(r"summary_\d{13}_[0-9a-z]{9}", summary["id"])
    assert (summary["message_count"], summary["start_message_id"], summary["end_message_id"]) == (
        2,
        str(question["id"]),
        str(reply["id"]),
    )
    assert question["created_at"] < reply["created_at"] < pin["created_at"] < summary["created_at"]


def test_a_column_the_schema_lacks_is_refused_by_name(tmp_path: Path) -> None:
    with KalitoFile(tmp_path / "kalito.db", AUTO_SAVE) as kalito, pytest.raises(ValueError, match="session_type"):
        kalito.session(session_type="chat")


def test_the_realistic_sample_holds_the_patterns_of_real_files(tmp_path: Path) -> None:
    sample = write_realistic_sample(tmp_path / "kalito.db")
    sessions = {row["id"]: row for row in read_rows(sample, "SELECT * FROM sessions")}
    messages = read_rows(sample, "SELECT * FROM messages ORDER BY id")
    personas = {row["id"]: row for row in read_rows(sample, "SELECT * FROM personas")}
    pins = read_rows(sample, "SELECT *, typeof(source_message_id) AS stored_as FROM semantic_pins")
    [summary] = read_rows(sample, "SELECT *, typeof(start_message_id) AS stored_as FROM conversation_summaries")

    assert sessions[SAMPLE_SESSION_ID]["name"] is None and {row["saved"] for row in sessions.values()} == {0, 1}
    assert [message["id"] for message in messages] == list(range(138, 153))
    assert any(message["role"] == "assistant" and message["text"] == "" for message in messages)
    assert {0.5, 0.55, 0.65, 0.7, 0.85, 0.8999999999999999, 1.0} <= {
        message["importance_score"] for message in messages
    }
    assert all(ISO_MOMENT.fullmatch(row["created_at"]) for row in [*messages, *sessions.values(), *pins, summary])
    assert SQLITE_MOMENT.fullmatch(personas["default-cloud"]["created_at"])
    assert ISO_MOMENT.fullmatch(personas["qwen25-coder"]["created_at"])
    assert personas["mistral-default"]["default_model"] == ""
    assert json.loads(personas["qwen25-coder"]["suggested_models"]) == ["qwen2.5-coder", "qwen2.5", "deepseek-r1"]
    assert {pin["pin_type"] for pin in pins} == {"manual", "concept", "user"}
    assert {pin["stored_as"] for pin in pins if pin["source_message_id"] is not None} == {"text"}
    assert (summary["stored_as"], summary["message_count"]) == ("text", 4)
    assert all(re.fullmatch(r"(pin|summary)_\d{13}_[0-9a-z]{9}", row["id"]) for row in [*pins, summary])
