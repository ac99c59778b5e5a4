"""`kalito-graphql import-kalito PATH`: a Kalito SQLite database, brought in whole (api.md §8).

Everything the file holds that the API can hold arrives as it was, in one transaction: personas
with their generation settings, sessions, messages with their importance (empty assistant
replies too), pins and summaries, all with Kalito's ids and moments. Columns the API has no
field for are kept in the session's `metadata` (`kalito.<column>`) or, for the other tables,
named in the report with how many values they hold. What the API cannot hold is reported with
its table, id and reason, and makes the import incomplete (the command exits 3); nothing is
dropped without a line in the report. Rows the database already has are left as they are, so a
second run changes nothing, and a run after Kalito wrote more brings in just what is new.

How each value is read is in docs/operations.md ("Importing from Kalito"), for users.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tortoise import connections
from tortoise.models import Model
from tortoise.transactions import in_transaction
from tqdm import tqdm

import models
from importers.kalito_file import KalitoFile, open_copy
from importers.report import ImportReport
from models import clock, message_tree, rules, sql
from models.columns import camel_case
from models.default_personas import DEFAULT_PERSONAS
from models.owners import UNOWNED

UNTITLED = "Untitled Chat"  # what Kalito's own UI shows for a session without a name
METADATA_PREFIX = "kalito."
TABLES = ("personas", "sessions", "messages", "pins", "summaries")  # as the API and the report name them
# The columns of each Kalito table this importer reads into a field; a session's other columns
# go into its metadata, the other tables' are counted in the report.
MAPPED_COLUMNS = {
    "personas": {
        "id",
        "name",
        "prompt",
        "description",
        "icon",
        "category",
        "default_model",
        "suggested_models",
        "temperature",
        "maxTokens",
        "topP",
        "repeatPenalty",
        "stopSequences",
        "is_default",
        "created_at",
        "updated_at",
    },
    "sessions": {"id", "name", "model", "recap", "persona_id", "created_at", "updated_at", "saved"},
    "messages": {"id", "session_id", "role", "text", "model_id", "token_usage", "importance_score", "created_at"},
    "semantic_pins": {"id", "session_id", "content", "source_message_id", "importance_score", "pin_type", "type"}
    | {"created_at"},
    "conversation_summaries": {"id", "session_id", "summary", "message_count", "start_message_id", "end_message_id"}
    | {"importance_score", "created_at"},
}
ROLES = {role.value: role for role in models.MessageRole}
PIN_TYPES = {pin_type.value: pin_type for pin_type in models.PinType}
_TYPE_NAMES = {str: "text", int: "an integer", float: "a number"}


def parse_time(value: object) -> datetime | None:
    """Kalito writes `2025-09-16T10:08:36.188Z` (sessions, messages, pins, summaries) and
    `2025-09-16 10:06:43` (SQLite's CURRENT_TIMESTAMP: personas, column defaults); both UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return clock.to_millisecond(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def absent_if_empty(value: object) -> object:
    """An empty string in a column that is optional here reads as absent (api.md §8)."""
    return None if value == "" else value


@functools.cache
def _value_kind(row_type: type[models.Row], name: str) -> tuple[type | None, bool]:
    """The plain type the column's rule takes (None: another kind, which the importer builds
    itself: enums, lists, maps), and whether the column holds an id."""
    column = row_type.by_name[name]
    kind = str if column.is_key else column.value_type
    return (kind if kind in _TYPE_NAMES else None), column.is_key


def _as_column_type(row_type: type[models.Row], name: str, value: object) -> object:
    """A value of the file as the column's rule takes it: SQLite lets any column hold any type,
    so a text where a number belongs is refused here, by the column's field name, rather than
    failing inside the rule. Numbers SQLite's affinity may give in either form are converted."""
    kind, is_key = _value_kind(row_type, name)
    if kind is None or type(value) is kind:
        return value
    if is_key and type(value) is int:
        return str(value)  # a message id Kalito stored as a number rather than as TEXT
    if kind is float and type(value) is int:
        return float(value)
    if kind is int and type(value) is float and value.is_integer():
        return int(value)
    field = row_type.by_name[name].graphql_name
    raise models.InvalidInput(field, f"{field} must be {_TYPE_NAMES[kind]}, not {value!r}")


def checked(
    row_type: type[models.Row],
    required: Mapping[str, object],
    optional: Mapping[str, object],
    refuse: Callable[[str], None],
) -> dict[str, Any] | None:
    """The values by their columns' rules, the API's own: None when a required one breaks its
    rule (the row cannot be held); an optional one that does is left out, the row kept."""
    given = {name: value for name, value in optional.items() if value is not None}
    try:
        return row_type.check(
            {name: _as_column_type(row_type, name, value) for name, value in {**required, **given}.items()}
        )
    except models.InvalidInput:
        pass  # find which: the required values together, then each optional one
    try:
        values = row_type.check({name: _as_column_type(row_type, name, value) for name, value in required.items()})
    except models.InvalidInput as refusal:
        refuse(refusal.message)
        return None
    for name, value in given.items():
        try:
            values |= row_type.check({name: _as_column_type(row_type, name, value)})
        except models.InvalidInput as refusal:
            refuse(f"{refusal.message}: imported without it")
    return values


def _json_list(value: object) -> list[str] | None:
    """A list setting as Kalito stores it (a JSON array in TEXT; NULL or '' when none): None
    when it is no list of strings."""
    if value is None or value == "":
        return []
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
        return parsed
    return None


class KalitoImport:
    """One run: the file, the report, and what the target holds that later tables refer to."""

    def __init__(self, source: KalitoFile, report: ImportReport, owner: str) -> None:
        self.source = source
        self.report = report
        self.owner = owner  # whose the imported sessions and personas are (models/owners.py)
        self.personas: set[str] = set()
        self.sessions: dict[str, datetime] = {}  # every session the target now has -> its created_at
        self.refused_sessions: set[str] = set()
        self.last_moment: dict[str, datetime] = {}  # a session's latest message moment read so far
        self.new_messages: list[models.Message] = []  # written inactive, chained at the end
        self.now = clock.now()

    def refusal(self, table: str, row_id: object) -> Callable[[str], None]:
        return lambda reason: self.report.refuse(table, row_id, reason)

    # --- personas ----------------------------------------------------------------------------

    async def import_personas(self) -> None:
        everyone = await models.Persona.all()
        existing = {persona.id: persona for persona in everyone if persona.is_default or persona.owner_id == self.owner}
        others = {persona.id for persona in everyone} - set(existing)
        new = []
        for rows in self.source.batches("personas", "id"):
            for row in rows:
                values = self.persona_values(row)
                if values is None:
                    continue
                persona_id = values["id"]
                if persona_id in others:
                    self.report.refuse("personas", persona_id, "another user's persona has this id")
                    continue
                self.personas.add(persona_id)
                if persona_id not in existing:
                    # Kalito's defaults are everyone's (models/owners.py); the user's own are theirs.
                    owner = UNOWNED if values["is_default"] else self.owner
                    new.append(models.Persona(**values, owner_id=owner))
                elif _is_untouched_seed(existing[persona_id]):
                    # The server seeded its stand-in for Kalito's default; the user's own version wins.
                    await models.Persona.filter(id=persona_id).update(**{k: v for k, v in values.items() if k != "id"})
                    self.report.imported["personas"] += 1
                else:
                    self.report.present["personas"] += 1
        await models.Persona.bulk_create(new)
        self.report.imported["personas"] += len(new)
        self.personas |= set(existing)

    def persona_values(self, row: sqlite3.Row) -> dict[str, Any] | None:
        has = self.source.columns["personas"]
        refuse = self.refusal("personas", row["id"])

        def read(column: str) -> object:
            return absent_if_empty(row[column]) if column in has else None

        lists = {}
        for name, column in (("suggested_models", "suggested_models"), ("stop_sequences", "stopSequences")):
            lists[name] = _json_list(read(column))
            if lists[name] is None:
                refuse(f"{column} is not a JSON list of strings: imported without it")
        values = checked(
            models.PersonaRow,
            {"id": row["id"], "name": row["name"], "prompt": row["prompt"]},
            {
                "description": read("description"),
                "icon": read("icon"),
                "category": read("category"),
                "default_model": read("default_model"),
                "temperature": read("temperature"),
                "max_tokens": read("maxTokens"),
                "top_p": read("topP"),
                "repeat_penalty": read("repeatPenalty"),
                **lists,
            },
            refuse,
        )
        if values is None:
            return None
        created_at = parse_time(row["created_at"]) or self.now
        return {
            **values,
            "is_default": bool(read("is_default")),
            "created_at": created_at,
            "updated_at": parse_time(row["updated_at"]) or created_at,
        }

    # --- sessions ----------------------------------------------------------------------------

    async def import_sessions(self) -> None:
        self.sessions = dict(await models.Session.filter(owner_id=self.owner).values_list("id", "created_at"))
        others = set(await models.Session.exclude(owner_id=self.owner).values_list("id", flat=True))
        extra = [column for column in self.source.columns["sessions"] if column not in MAPPED_COLUMNS["sessions"]]
        for rows in self.source.batches("sessions", "created_at, id"):
            batch = []
            for row in rows:
                if row["id"] in self.sessions:
                    self.report.present["sessions"] += 1
                elif row["id"] in others:
                    self.report.refuse("sessions", row["id"], "another user's session has this id")
                    self.refused_sessions.add(str(row["id"]))
                elif session := self.session(row, extra):
                    batch.append(session)
                    self.sessions[session.id] = session.created_at
            await models.Session.bulk_create(batch)
            ephemeral = [
                models.SessionImport(session_id=session.id, imported_at=self.now)
                for session in batch
                if not session.saved
            ]
            await models.SessionImport.bulk_create(ephemeral)
            self.report.imported["sessions"] += len(batch)
            self.report.idle_clock_restarted += len(ephemeral)

    def session(self, row: sqlite3.Row, extra: Sequence[str]) -> models.Session | None:
        refuse = self.refusal("sessions", row["id"])
        name = row["name"]
        if name is None or (isinstance(name, str) and not name.strip()):
            name = UNTITLED
            self.report.notes[f"sessions without a name imported as {UNTITLED}"] += 1
        metadata = self.metadata(row, extra, refuse)
        persona_id = absent_if_empty(row["persona_id"])
        if persona_id is not None and persona_id not in self.personas:
            metadata[f"{METADATA_PREFIX}persona_id"] = str(persona_id)
            self.report.notes[
                "sessions whose persona the file lacks: its id kept in metadata as kalito.persona_id"
            ] += 1
            persona_id = None
        values = checked(
            models.SessionRow,
            {"id": row["id"], "name": name},
            {"model": absent_if_empty(row["model"]), "recap": absent_if_empty(row["recap"]), "persona_id": persona_id},
            refuse,
        )
        if values is None:
            self.refused_sessions.add(str(row["id"]))
            return None
        for key in metadata:
            self.report.kept_in_metadata[key] += 1
        created_at = parse_time(row["created_at"])
        updated_at = parse_time(row["updated_at"])
        if created_at is None or updated_at is None:
            self.report.notes["sessions with an unreadable created_at or updated_at: the other one, or now"] += 1
        created_at = created_at or updated_at or self.now
        return models.Session(
            **values,
            owner_id=self.owner,
            saved=bool(row["saved"]),
            metadata=metadata,
            created_at=created_at,
            updated_at=updated_at or created_at,
        )

    def metadata(self, row: sqlite3.Row, extra: Sequence[str], refuse: Callable[[str], None]) -> dict[str, str]:
        """The session's columns the API has no field for, as `kalito.<column>` (non-empty values)."""
        metadata: dict[str, str] = {}
        for column in extra:
            value = absent_if_empty(row[column])
            if value is None:
                continue
            key = f"{METADATA_PREFIX}{column}"
            text = str(value) if isinstance(value, int | float) else value
            try:
                if len(metadata) == rules.METADATA_KEYS_MAX:
                    raise models.InvalidInput("metadata", f"metadata must hold at most {rules.METADATA_KEYS_MAX} keys")
                metadata |= rules.check_metadata("metadata", {key: text})
            except models.InvalidInput as refusal:
                refuse(f"{key} not kept: {refusal.message}")
        return metadata

    # --- messages, pins and summaries --------------------------------------------------------

    def session_of(self, table: str, row: sqlite3.Row) -> str | None:
        session_id = row["session_id"]
        if session_id in self.sessions:
            return str(session_id)
        why = (
            "its session could not be held" if session_id in self.refused_sessions else "its session is not in the file"
        )
        self.report.refuse(table, row["id"], why)
        return None

    def created_at(self, table: str, row: sqlite3.Row, session_id: str) -> datetime:
        moment = parse_time(row["created_at"])
        if moment is None:
            self.report.notes[f"{table} without a readable created_at: the moment before it in their session"] += 1
            moment = self.last_moment.get(session_id, self.sessions[session_id])
        return moment

    def message(self, row: sqlite3.Row) -> models.Message | None:
        session_id = self.session_of("messages", row)
        if session_id is None:
            return None
        refuse = self.refusal("messages", row["id"])
        role = ROLES.get(row["role"].lower()) if isinstance(row["role"], str) else None
        if role is None:
            refuse(f"unknown role {row['role']!r}")
            return None
        text = row["text"]
        if text is None and role is models.MessageRole.ASSISTANT:
            text = ""  # a reply the model never wrote: an empty reply
        has = self.source.columns["messages"]
        importance = absent_if_empty(row["importance_score"]) if "importance_score" in has else None
        values = checked(
            models.MessageRow,
            {"session_id": session_id, "role": role, "text": text},
            {
                "model": absent_if_empty(row["model_id"]),
                "token_usage": absent_if_empty(row["token_usage"]),
                "importance": importance,
            },
            refuse,
        )
        if values is None:
            return None
        created_at = self.created_at("messages", row, session_id)
        self.last_moment[session_id] = created_at
        # Placed in its session's chain once every message is in (chain_new_messages).
        values = models.MessageRow.created(values)
        return models.Message(id=row["id"], created_at=created_at, active=False, **values)

    def pin(self, row: sqlite3.Row) -> models.Pin | None:
        session_id = self.session_of("pins", row)
        if session_id is None or not self.valid_id("pins", row):
            return None
        has = self.source.columns["semantic_pins"]
        values = checked(
            models.PinRow,
            {"session_id": session_id, "content": row["content"]},
            {
                "source_message_id": absent_if_empty(row["source_message_id"]) if "source_message_id" in has else None,
                "importance": absent_if_empty(row["importance_score"]) if "importance_score" in has else None,
            },
            self.refusal("pins", row["id"]),
        )
        if values is None:
            return None
        pin_type = self.pin_type(row, has)
        return models.Pin(id=row["id"], type=pin_type, created_at=self.created_at("pins", row, session_id), **values)

    def pin_type(self, row: sqlite3.Row, has: set[str] | tuple[str, ...]) -> models.PinType:
        """`pin_type` where it names one of the five, else the older `type` where that does,
        else MANUAL (Kalito's default 'user' is a manual pin)."""
        written = [row[column] for column in ("pin_type", "type") if column in has]
        for value in written:
            if isinstance(value, str) and value.lower() in PIN_TYPES:
                return PIN_TYPES[value.lower()]
        unknown = [value for value in written if value not in (None, "", "user")]
        if unknown:
            self.report.notes[f"pins whose type {unknown[0]!r} is none of the five: imported as MANUAL"] += 1
        return models.PinType.MANUAL

    def summary(self, row: sqlite3.Row) -> models.Summary | None:
        session_id = self.session_of("summaries", row)
        if session_id is None or not self.valid_id("summaries", row):
            return None
        has = self.source.columns["conversation_summaries"]
        values = checked(
            models.SummaryRow,
            {"session_id": session_id, "text": row["summary"], "message_count": row["message_count"]},
            {
                column: absent_if_empty(row[kalito]) if kalito in has else None
                for column, kalito in (
                    ("start_message_id", "start_message_id"),
                    ("end_message_id", "end_message_id"),
                    ("importance", "importance_score"),
                )
            },
            self.refusal("summaries", row["id"]),
        )
        if values is None:
            return None
        return models.Summary(id=row["id"], created_at=self.created_at("summaries", row, session_id), **values)

    def valid_id(self, table: str, row: sqlite3.Row) -> bool:
        """Pins' and summaries' ids are Kalito's text ids (their columns declare no rule)."""
        try:
            rules.check_id("id", _as_column_type(models.PinRow, "id", row["id"]))  # type: ignore[arg-type]
        except models.InvalidInput as refusal:
            self.report.refuse(table, row["id"], refusal.message)
            return False
        return True

    async def import_rows(self, table: ImportedTable, bar: tqdm[Any]) -> None:
        for rows in self.source.batches(table.kalito, table.order_by):
            built = [instance for row in rows if (instance := table.build(self, row)) is not None]
            taken = await _sessions_of(table.model, [instance.pk for instance in built])
            fresh = []
            for instance in built:
                if instance.pk not in taken:
                    fresh.append(instance)
                elif taken[instance.pk] == instance.session_id:  # type: ignore[attr-defined]
                    self.report.present[table.name] += 1
                else:
                    self.report.refuse(table.name, instance.pk, f"its id is taken by another session's {table.one}")
            if table.references:
                await self.drop_dangling_references(table, fresh)
            await table.model.bulk_create(fresh)
            if table.model is models.Message:
                self.new_messages.extend(fresh)  # type: ignore[arg-type]
            self.report.imported[table.name] += len(fresh)
            bar.update(len(rows))

    async def chain_new_messages(self) -> None:
        """Kalito's messages are a list: each new one follows the one before it in (created_at,
        id) order, the first below the session's active leaf (api.md §9)."""
        by_session: dict[str, list[int]] = {}
        for message in sorted(self.new_messages, key=lambda message: (message.created_at, message.id)):
            by_session.setdefault(message.session_id, []).append(message.id)
        await message_tree.chain_after_active_leaf(by_session)

    async def drop_dangling_references(self, table: ImportedTable, instances: Sequence[Model]) -> None:
        """A pin's source, a summary's first and last message name a message of the same
        session, or none: Kalito does not enforce it, and the API does (api.md §8)."""
        wanted = {getattr(instance, column) for instance in instances for column in table.references} - {None}
        owners = await _sessions_of(models.Message, list(wanted))
        for instance in instances:
            for column in table.references:
                message_id = getattr(instance, column)
                if message_id is not None and owners.get(message_id) != instance.session_id:  # type: ignore[attr-defined]
                    setattr(instance, column, None)
                    field = camel_case(column)
                    self.report.notes[
                        f"{table.name} whose {field} names no message of their session: kept without it"
                    ] += 1

    def count_unmapped_columns(self) -> None:
        for table, columns in self.source.columns.items():
            if table == "sessions":
                continue  # in metadata
            extra = [column for column in columns if column not in MAPPED_COLUMNS[table]]
            for column, count in self.source.non_null_counts(table, extra).items():
                self.report.unmapped[table, column] = count


@dataclass(frozen=True)
class ImportedTable:
    """A table whose rows belong to a session, imported in batches."""

    kalito: str  # Kalito's name
    name: str  # the API's, as the report says it
    one: str  # one row of it, for the report
    model: type[Model]
    order_by: str
    build: Callable[[KalitoImport, sqlite3.Row], Model | None]
    references: tuple[str, ...] = ()  # columns naming a message of the same session


SESSION_TABLES = (
    ImportedTable("messages", "messages", "message", models.Message, "id", KalitoImport.message),
    ImportedTable("semantic_pins", "pins", "pin", models.Pin, "id", KalitoImport.pin, ("source_message_id",)),
    ImportedTable(
        "conversation_summaries",
        "summaries",
        "summary",
        models.Summary,
        "id",
        KalitoImport.summary,
        ("start_message_id", "end_message_id"),
    ),
)


async def _sessions_of(model: type[Model], ids: Sequence[object]) -> dict[Any, str]:
    """Which of these rows the target has, each with its session: one statement a batch,
    written by hand (Tortoise builds an IN of 2,000 values slowly)."""
    if not ids:
        return {}
    statement = f'SELECT "id","session_id" FROM "{model._meta.db_table}" WHERE "id" IN ({sql.placeholders(len(ids))})'
    return {row[0]: row[1] for row in await sql.fetch(statement, ids)}


def _is_untouched_seed(persona: models.Persona) -> bool:
    """A default persona as this server seeded it: any edit moves its updatedAt."""
    seed = next((seed for seed in DEFAULT_PERSONAS if seed["id"] == persona.id), None)
    return (
        seed is not None
        and persona.updated_at == persona.created_at
        and all(getattr(persona, name) == value for name, value in seed.items())
    )


async def _advance_message_ids() -> None:
    """PostgreSQL's id sequence does not see explicit ids: move it past them."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        await connection.execute_query(
            "SELECT setval(pg_get_serial_sequence('messages', 'id'), GREATEST((SELECT MAX(id) FROM messages), 1))"
        )


async def import_kalito(path: Path, *, owner: str = UNOWNED, progress: bool = False) -> ImportReport:
    """Import the Kalito database at `path` into the configured database, all or nothing, as
    `owner`'s sessions and personas (UNOWNED without accounts)."""
    report = ImportReport(TABLES)
    with open_copy(path) as source:
        run = KalitoImport(source, report, owner)
        total = sum(source.count(table.kalito) for table in SESSION_TABLES)
        async with in_transaction():
            await run.import_personas()
            await run.import_sessions()
            with tqdm(total=total, unit=" rows", disable=None if progress else True) as bar:
                for table in SESSION_TABLES:
                    await run.import_rows(table, bar)
            await run.chain_new_messages()
            await _advance_message_ids()
        run.count_unmapped_columns()
    return report
