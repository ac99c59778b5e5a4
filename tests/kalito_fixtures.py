"""Kalito databases to import, built with Kalito's own table definitions (taken from the
real sample in ../shared/data), so the fixtures have exactly the shape Kalito writes."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "kalito-sample.db"
SAMPLE_SESSION_ID = "47ff0057-5978-4eb2-b8c2-89198b878c57"


def copy_sample(target: Path) -> Path:
    shutil.copyfile(SAMPLE, target)
    return target


def empty_kalito_database(target: Path, *, extra_columns: bool = False) -> Path:
    """A Kalito database with no rows (the sample's schema); `extra_columns` adds columns
    a later Kalito version might have."""
    sample = sqlite3.connect(f"{SAMPLE.as_uri()}?mode=ro", uri=True)
    statements = [
        sql
        for (sql,) in sample.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY type = 'table' DESC"
        )
    ]
    sample.close()
    database = sqlite3.connect(target)
    for statement in statements:
        database.execute(statement)
    if extra_columns:
        database.execute("ALTER TABLE sessions ADD COLUMN pinned INTEGER DEFAULT 0")
        database.execute("ALTER TABLE messages ADD COLUMN attachments TEXT")
    database.commit()
    database.close()
    return target


def insert(target: Path, table: str, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    if not rows:
        return
    columns = list(dict.fromkeys(column for row in rows for column in row))
    database = sqlite3.connect(target)
    database.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        [tuple(row.get(column) for column in columns) for row in rows],
    )
    database.commit()
    database.close()


def rows(target: Path, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    database = sqlite3.connect(target)
    database.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in database.execute(sql, params)]
    finally:
        database.close()
