"""`kalito-graphql import-kalito PATH`: bring an existing Kalito SQLite database in.

Everything a valid Kalito database holds arrives as it was — ids, timestamps, saved flags,
message order, persona fields — in one transaction, so a failure leaves the target untouched.
Rows already present are skipped, which makes a second run change nothing. Rows that break
the API's rules are skipped with the reason, never silently altered; the one repair is the one
Kalito's own UI makes: a session without a name is "Untitled Chat".
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tortoise import connections
from tortoise.transactions import in_transaction
from tqdm import tqdm

import models
from models import clock, rules
from models.default_personas import DEFAULT_PERSONAS

UNTITLED = "Untitled Chat"
BATCH = 2_000

# The columns this importer reads; later Kalito versions add others, which are ignored.
REQUIRED_COLUMNS = {
    "sessions": {"id", "name", "model", "recap", "persona_id", "created_at", "updated_at", "saved"},
    "messages": {"id", "session_id", "role", "text", "model_id", "token_usage", "created_at"},
    "personas": {"id", "name", "prompt", "description", "icon", "default_model", "created_at", "updated_at"},
}
OPTIONAL_PERSONA_COLUMNS = ("category", "is_default")
ROLES = {role.value: role for role in models.MessageRole}


class NotAKalitoDatabase(Exception):
    """The file is not a Kalito database this importer can read; nothing was written."""


@dataclass
class ImportReport:
    imported: Counter[str] = field(default_factory=Counter)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (table, reason) -> rows
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    notes: Counter[str] = field(default_factory=Counter)

    def skip(self, table: str, row_id: object, reason: str) -> None:
        self.skipped[table, reason] += 1
        examples = self.examples.setdefault((table, reason), [])
        if len(examples) < 5:
            examples.append(str(row_id))

    def lines(self) -> list[str]:
        lines = [f"imported {self.imported[table]} {table}" for table in ("personas", "sessions", "messages")]
        lines += [f"note: {note} ({count})" for note, count in self.notes.items()]
        for (table, reason), count in sorted(self.skipped.items()):
            shown = ", ".join(self.examples[table, reason])
            more = " …" if count > len(self.examples[table, reason]) else ""
            lines.append(f"skipped {count} {table}: {reason} (e.g. {shown}{more})")
        return lines


def parse_time(value: object) -> datetime | None:
    """Kalito writes `2025-09-16T10:08:36.188Z` (sessions, messages) and `2025-09-16 10:06:43`
    (SQLite's CURRENT_TIMESTAMP, personas); both are UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return clock.to_millisecond(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def open_kalito(path: Path) -> sqlite3.Connection:
    """Open read-only and check the tables and columns, before anything is written."""
    if not path.is_file():
        raise NotAKalitoDatabase(f"{path}: no such file")
    try:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        source.row_factory = sqlite3.Row
        tables = {row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        raise NotAKalitoDatabase(f"{path}: not an SQLite database ({error})") from None
    for table, required in REQUIRED_COLUMNS.items():
        if table not in tables:
            source.close()
            raise NotAKalitoDatabase(f"{path}: not a Kalito database (no {table} table)")
        columns = {row["name"] for row in source.execute(f"PRAGMA table_info({table})")}
        if missing := required - columns:
            source.close()
            raise NotAKalitoDatabase(f"{path}: the {table} table lacks {', '.join(sorted(missing))}")
    return source


def _is_untouched_seed(persona: models.Persona) -> bool:
    seed = next((seed for seed in DEFAULT_PERSONAS if seed["id"] == persona.id), None)
    return seed is not None and persona.name == seed["name"] and persona.prompt == seed["prompt"]


async def _import_personas(source: sqlite3.Connection, report: ImportReport) -> None:
    columns = {row["name"] for row in source.execute("PRAGMA table_info(personas)")}
    optional = [column for column in OPTIONAL_PERSONA_COLUMNS if column in columns]
    select = ", ".join(sorted(REQUIRED_COLUMNS["personas"]) + optional)
    for row in source.execute(f"SELECT {select} FROM personas ORDER BY id"):
        persona_id = str(row["id"] or "")
        written = {
            "name": row["name"],
            "prompt": row["prompt"],
            "description": row["description"],
            "icon": row["icon"],
            "category": row["category"] if "category" in optional else None,
            "default_model": row["default_model"],
        }
        try:
            rules.check_id("id", persona_id)
            models.PersonaRow.check(written)
        except models.InvalidInput as refusal:
            report.skip("personas", persona_id, refusal.message)
            continue
        created_at = parse_time(row["created_at"]) or clock.now()
        values = {
            **written,
            "is_default": bool(row["is_default"]) if "is_default" in optional else False,
            "created_at": created_at,
            "updated_at": parse_time(row["updated_at"]) or created_at,
        }
        existing = await models.Persona.get_or_none(id=persona_id)
        if existing is None:
            await models.Persona.create(id=persona_id, **values)
        elif _is_untouched_seed(existing):
            # The server seeded its stand-in for this default; the user's own version wins.
            await models.Persona.filter(id=persona_id).update(**values)
        else:
            report.skip("personas", persona_id, "already present")
            continue
        report.imported["personas"] += 1


def _session_row(row: sqlite3.Row, report: ImportReport, personas: set[str]) -> models.Session | None:
    session_id = str(row["id"] or "")
    try:
        rules.check_id("id", session_id)
        columns = models.SessionRow.check(
            {"name": UNTITLED if row["name"] is None else row["name"], "model": row["model"], "recap": row["recap"]}
        )
    except models.InvalidInput as refusal:
        report.skip("sessions", session_id, refusal.message)
        return None
    if row["name"] is None:
        report.notes["sessions without a name imported as Untitled Chat"] += 1
    persona_id = row["persona_id"]
    if persona_id is not None and persona_id not in personas:
        report.notes[f"sessions kept without their unknown persona {persona_id!r}"] += 1
        persona_id = None
    created_at = parse_time(row["created_at"]) or parse_time(row["updated_at"]) or clock.now()
    return models.Session(
        id=session_id,
        **columns,
        persona_id=persona_id,
        saved=bool(row["saved"]),
        created_at=created_at,
        updated_at=parse_time(row["updated_at"]) or created_at,
    )


async def _import_sessions(source: sqlite3.Connection, report: ImportReport) -> set[str]:
    """Import the sessions; answer the ids of every session the target now has."""
    personas = {row["id"] for row in await models.Persona.all().values("id")}
    present = {row["id"] for row in await models.Session.all().values("id")}
    batch: list[models.Session] = []
    for row in source.execute("SELECT * FROM sessions ORDER BY created_at, id"):
        if str(row["id"]) in present:
            report.skip("sessions", row["id"], "already present")
            continue
        session = _session_row(row, report, personas)
        if session is None:
            continue
        batch.append(session)
        present.add(session.id)
    for start in range(0, len(batch), BATCH):
        await models.Session.bulk_create(batch[start : start + BATCH])
    report.imported["sessions"] += len(batch)
    return present


def _message_batches(source: sqlite3.Connection) -> Iterator[list[sqlite3.Row]]:
    cursor = source.execute(
        "SELECT id, session_id, role, text, model_id, token_usage, created_at FROM messages ORDER BY id"
    )
    while rows := cursor.fetchmany(BATCH):
        yield rows


def _message_row(row: sqlite3.Row, report: ImportReport, sessions: set[str]) -> models.Message | None:
    message_id = row["id"]
    if row["session_id"] not in sessions:
        report.skip("messages", message_id, "its session is not in the database (orphan)")
        return None
    role = ROLES.get(str(row["role"]).lower())
    if role is None:
        report.skip("messages", message_id, f"unknown role {row['role']!r}")
        return None
    created_at = parse_time(row["created_at"])
    if created_at is None:
        report.skip("messages", message_id, "no readable created_at")
        return None
    try:
        columns = models.MessageRow.check(
            {"text": row["text"] or "", "model": row["model_id"], "token_usage": row["token_usage"]}
        )
    except models.InvalidInput as refusal:
        report.skip("messages", message_id, refusal.message)
        return None
    return models.Message(id=message_id, session_id=row["session_id"], role=role, created_at=created_at, **columns)


async def _import_messages(
    source: sqlite3.Connection, report: ImportReport, sessions: set[str], progress: bool
) -> None:
    total = source.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    with tqdm(total=total, unit=" messages", disable=None if progress else True) as bar:
        for rows in _message_batches(source):
            taken = {
                message_id: session_id
                for message_id, session_id in await models.Message.filter(
                    id__in=[row["id"] for row in rows]
                ).values_list("id", "session_id")
            }
            batch = []
            for row in rows:
                if row["id"] in taken:
                    same = taken[row["id"]] == row["session_id"]
                    report.skip("messages", row["id"], "already present" if same else "id used by another message")
                elif message := _message_row(row, report, sessions):
                    batch.append(message)
            await models.Message.bulk_create(batch)
            report.imported["messages"] += len(batch)
            bar.update(len(rows))


async def _advance_message_ids() -> None:
    """PostgreSQL's id sequence does not see explicit ids: move it past them."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        await connection.execute_query(
            "SELECT setval(pg_get_serial_sequence('messages', 'id'), GREATEST((SELECT MAX(id) FROM messages), 1))"
        )


async def import_kalito(path: Path, *, progress: bool = False) -> ImportReport:
    """Import the Kalito database at `path` into the configured database, all or nothing."""
    source = open_kalito(path)
    report = ImportReport()
    try:
        async with in_transaction():
            await _import_personas(source, report)
            sessions = await _import_sessions(source, report)
            await _import_messages(source, report, sessions, progress)
            await _advance_message_ids()
    finally:
        source.close()
    return report
