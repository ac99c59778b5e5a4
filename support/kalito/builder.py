"""Write a Kalito SQLite file row by row, with the values Kalito itself writes where a test gives
none, so that a test names only what it is about.

    with KalitoFile(tmp_path / "kalito.db") as kalito:
        session = kalito.session(name="Poe")
        question = kalito.message(session["id"], "user", "Who was Poe?")
        kalito.pin(session["id"], "Poe wrote The Raven", source_message_id=question["id"])
    report = await import_kalito(kalito.path)

Each method takes any column of its table as a keyword (a column the schema lacks is an error,
so a typo cannot pass unnoticed) and answers the row as the file now holds it. Foreign keys are
not enforced, as in files written before Kalito turned them on: a test can write orphans.
"""

from __future__ import annotations

import itertools
import math
import random
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from support.kalito import values
from support.kalito.schemas import SEPTEMBER_2025, KalitoSchema

Row = dict[str, Any]
# The first moment of a file (the real September 2025 sample's first message); each row written
# without a moment of its own comes a little later than the one before.
START = datetime(2025, 9, 13, 10, 41, 26, 956_000, tzinfo=UTC)
DEFAULT_MODEL = "gpt-4.1-nano"


class KalitoFile:
    """A new Kalito file at `path`, with the tables of `schema`; the same `seed` writes the same ids."""

    def __init__(self, path: Path, schema: KalitoSchema = SEPTEMBER_2025, *, seed: int = 0, new: bool = True) -> None:
        if new and path.exists():
            raise FileExistsError(f"{path} exists: a Kalito file is written from its first table")
        self.path = path
        self.schema = schema
        self._rng = random.Random(seed)
        self._moment = START - timedelta(seconds=1)
        self._session_models: dict[str, str | None] = {}
        self._connection = sqlite3.connect(path, isolation_level=None)
        self._connection.row_factory = sqlite3.Row
        if new:
            self._query("PRAGMA journal_mode = WAL")  # as Kalito opens its database
            for statement in schema.statements:
                self._query(statement)
        else:  # later rows come after every moment the file holds
            [(latest,)] = self._query("SELECT MAX(created_at) FROM messages")
            if latest is not None:
                self._moment_of({"created_at": latest})

    @classmethod
    def reopen(cls, path: Path, schema: KalitoSchema = SEPTEMBER_2025, *, seed: int = 1) -> KalitoFile:
        """A file written before, to write more rows to, as Kalito goes on after an import."""
        return cls(path, schema, seed=seed, new=False)

    def __enter__(self) -> KalitoFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    def has_column(self, table: str, column: str) -> bool:
        """Whether this file's schema has the column (later releases added some)."""
        return any(row["name"] == column for row in self._query(f"PRAGMA table_info({table})"))

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> None:
        """Any other change a test needs (a column a future Kalito might add, a dropped table)."""
        self._query(sql, parameters)

    def persona(self, **columns: object) -> Row:
        """A persona as Kalito's editor saves one (the defaults it seeds are `is_default=1`)."""
        moment = self._moment_of(columns)
        name = str(columns.get("name", "Assistant"))
        row: dict[str, object] = {
            "id": values.persona_id(name, moment),
            "name": name,
            "prompt": f"You are {name}, a helpful assistant.",
            "description": None,
            "icon": "🤖",
            "category": "local",
            "default_model": None,
            "suggested_models": None,
            "temperature": 0.7,
            "maxTokens": 1000,
            "topP": 0.9,
            "repeatPenalty": 1.1,
            "stopSequences": None,
            "is_default": 0,
            "created_at": values.sqlite_moment(moment),
            **columns,
        }
        row.setdefault("updated_at", row["created_at"])
        return self._read("personas", self._insert("personas", [row]))

    def session(self, **columns: object) -> Row:
        """A session as Kalito starts one (the schema says whether it starts saved and named)."""
        row: dict[str, object] = {
            "id": values.session_id(self._rng),
            **self.schema.new_session,
            "model": DEFAULT_MODEL,
            "recap": None,
            "persona_id": None,
            "created_at": values.iso_moment(self._moment_of(columns)),
            **columns,
        }
        row.setdefault("updated_at", row["created_at"])
        self._session_models[str(row["id"])] = None if row["model"] is None else str(row["model"])
        return self._read("sessions", self._insert("sessions", [row]))

    def message(self, session_id: str, role: str, text: str | None, **columns: object) -> Row:
        """A message; its session's `updated_at` moves to it, as Kalito bumps it on each message."""
        written = self._read(
            "messages", self._insert("messages", [{"session_id": session_id, "role": role, "text": text, **columns}])
        )
        self.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (written["created_at"], session_id))
        return written

    def messages(self, rows: Iterable[Mapping[str, object]]) -> None:
        """Many messages at once (each a mapping with at least session_id, role and text), for
        volume: their sessions' `updated_at` stay as they are."""
        self._insert("messages", rows)

    def many(self, table: str, rows: Iterable[Mapping[str, object]]) -> None:
        """Many rows of another table at once, each complete, for volume."""
        self._insert(table, rows)

    def pin(self, session_id: str, content: str, **columns: object) -> Row:
        moment = self._moment_of(columns)
        row: dict[str, object] = {
            "id": values.memory_id("pin", moment, self._rng),
            "session_id": session_id,
            "content": content,
            "source_message_id": None,
            "importance_score": 0.8,
            "pin_type": "manual",  # what Kalito's memory manager writes; the column's default is 'user'
            "created_at": values.iso_moment(moment),
            **columns,
        }
        return self._read("semantic_pins", self._insert("semantic_pins", [row]))

    def summary(self, session_id: str, text: str, messages: Sequence[Row], **columns: object) -> Row:
        """A summary of `messages` (rows this file holds); Kalito keeps their ids as TEXT."""
        moment = self._moment_of(columns)
        row: dict[str, object] = {
            "id": values.memory_id("summary", moment, self._rng),
            "session_id": session_id,
            "summary": text,
            "message_count": len(messages),
            "start_message_id": str(messages[0]["id"]) if messages else None,
            "end_message_id": str(messages[-1]["id"]) if messages else None,
            "importance_score": 0.7,
            "created_at": values.iso_moment(moment),
            **columns,
        }
        return self._read("conversation_summaries", self._insert("conversation_summaries", [row]))

    def _moment_of(self, columns: Mapping[str, object]) -> datetime:
        """The moment of a new row: its own `created_at` when given (later rows follow it), else
        a little after the row before, as a conversation goes."""
        given = columns.get("created_at")
        if isinstance(given, str):
            moment = datetime.fromisoformat(given)
            self._moment = max(self._moment, moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        else:
            self._moment += timedelta(milliseconds=self._rng.randint(700, 40_000))
        return self._moment

    def _message_row(self, given: Mapping[str, object]) -> dict[str, object]:
        role, text = str(given["role"]), given["text"]
        words = text if isinstance(text, str) else ""
        return {
            "model_id": self._session_models.get(str(given["session_id"])),
            # a reply carries the usage the model reported (here Kalito's own estimate); a question none
            "token_usage": math.ceil(len(words) * 0.75) if role == "assistant" else None,
            "importance_score": values.importance(role, words),
            "created_at": values.iso_moment(self._moment_of(given)),
            **given,
        }

    def _insert(self, table: str, rows: Iterable[Mapping[str, object]]) -> int:
        """Insert the rows in order; answer the rowid of the last one."""
        known = {column["name"] for column in self._query(f"PRAGMA table_info({table})")}
        complete = (self._message_row(row) if table == "messages" else row for row in rows)
        last = 0
        # Rows that name the same columns go in together; a column a row leaves out keeps its default.
        for columns, group in itertools.groupby(complete, key=_column_names):
            if unknown := [column for column in columns if column not in known]:
                raise ValueError(f"the {self.schema.name} schema's {table} table has no column {', '.join(unknown)}")
            self._query("BEGIN")  # one transaction a group, committed or rolled back on the way out
            with self._connection:
                self._connection.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                    ([row[column] for column in columns] for row in group),
                )
            [(last,)] = self._query("SELECT last_insert_rowid()")
        return int(last)

    def _read(self, table: str, rowid: int) -> Row:
        [row] = self._query(f"SELECT * FROM {table} WHERE rowid = ?", (rowid,))
        return dict(row)

    def _query(self, sql: str, parameters: Sequence[object] = ()) -> list[sqlite3.Row]:
        # Read to the end, so that no statement is left open and closing removes the WAL files.
        return self._connection.execute(sql, parameters).fetchall()


def _column_names(row: Mapping[str, object]) -> tuple[str, ...]:
    return tuple(row)


def read_rows(path: Path, sql: str, parameters: Sequence[object] = ()) -> list[Row]:
    """What a Kalito file holds, read without changing it."""
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    source.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in source.execute(sql, parameters)]
    finally:
        source.close()
