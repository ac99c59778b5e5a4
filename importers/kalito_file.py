"""A Kalito SQLite file, read from a private copy so that nothing is ever written beside it.

Kalito keeps its database in WAL mode. SQLite opening such a file, even read-only, creates
`-wal` and `-shm` files beside it when they are missing, and the newest writes may still be in
the `-wal` rather than the file itself. So the file and its `-wal` (and a rollback `-journal`,
if one is left) are copied into a scratch folder and the copy is opened: it reads everything
Kalito committed, and the user's folder stays byte for byte as it was. Close Kalito first: a
copy taken while it writes may miss that write.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

BATCH = 2_000
COMPANIONS = ("-wal", "-journal")  # -shm is an index SQLite rebuilds from the -wal

# The tables a conversation lives in; a file without the first three is not a Kalito database.
# Older files may lack the memory tables, which then hold nothing to import.
REQUIRED_COLUMNS = {
    "sessions": {"id", "name", "model", "recap", "persona_id", "created_at", "updated_at", "saved"},
    "messages": {"id", "session_id", "role", "text", "model_id", "token_usage", "created_at"},
    "personas": {"id", "name", "prompt", "description", "icon", "default_model", "created_at", "updated_at"},
    "semantic_pins": {"id", "session_id", "content", "created_at"},
    "conversation_summaries": {"id", "session_id", "summary", "message_count", "created_at"},
}
OPTIONAL_TABLES = {"semantic_pins", "conversation_summaries"}


class NotAKalitoDatabase(Exception):
    """The file is not a Kalito database this importer can read; nothing was written."""


class KalitoFile:
    """The tables of an open copy, with their columns as this file has them."""

    def __init__(self, connection: sqlite3.Connection, columns: dict[str, tuple[str, ...]]) -> None:
        self._connection = connection
        self.columns = columns  # table -> its columns, in the file's order; only tables it has

    def count(self, table: str) -> int:
        if table not in self.columns:
            return 0
        [(count,)] = self._connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchall()
        return int(count)

    def non_null_counts(self, table: str, columns: Sequence[str]) -> dict[str, int]:
        if not columns:
            return {}
        counted = ", ".join(f'COUNT("{column}")' for column in columns)
        [counts] = self._connection.execute(f'SELECT {counted} FROM "{table}"').fetchall()
        return dict(zip(columns, (int(count) for count in counts), strict=True))

    def batches(self, table: str, order_by: str) -> Iterator[list[sqlite3.Row]]:
        """Every row of `table` (none if the file lacks it), `BATCH` at a time."""
        if table not in self.columns:
            return
        cursor = self._connection.execute(f'SELECT * FROM "{table}" ORDER BY {order_by}')
        while rows := cursor.fetchmany(BATCH):
            yield rows


@contextmanager
def open_copy(path: Path) -> Iterator[KalitoFile]:
    """Copy the Kalito file at `path` aside, check its tables and columns, and open the copy."""
    if not path.is_file():
        raise NotAKalitoDatabase(f"{path}: no such file")
    with tempfile.TemporaryDirectory(prefix="kalito-import-") as scratch:
        copy = Path(scratch) / "kalito.db"
        shutil.copyfile(path, copy)
        for suffix in COMPANIONS:
            companion = path.with_name(path.name + suffix)
            if companion.is_file():
                shutil.copyfile(companion, copy.with_name(copy.name + suffix))
        connection = sqlite3.connect(copy)
        try:
            connection.row_factory = sqlite3.Row
            yield KalitoFile(connection, _checked_columns(path, connection))
        finally:
            connection.close()


def _checked_columns(path: Path, connection: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        raise NotAKalitoDatabase(f"{path}: not an SQLite database ({error})") from None
    found = {}
    for table, required in REQUIRED_COLUMNS.items():
        if table not in tables:
            if table in OPTIONAL_TABLES:
                continue
            raise NotAKalitoDatabase(f"{path}: not a Kalito database (no {table} table)")
        columns = tuple(row["name"] for row in connection.execute(f'PRAGMA table_info("{table}")'))
        if missing := required - set(columns):
            raise NotAKalitoDatabase(f"{path}: the {table} table lacks {', '.join(sorted(missing))}")
        found[table] = columns
    return found
