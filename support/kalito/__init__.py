"""Kalito SQLite files, written by the project from Kalito's own table definitions: for the
import's tests and its benchmark, so neither needs a file from outside the repository."""

from __future__ import annotations

from support.kalito.builder import KalitoFile, Row, read_rows
from support.kalito.sample import SAMPLE_SESSION_ID, SAVED_SESSION_ID, write_many_messages, write_realistic_sample
from support.kalito.schemas import AUTO_SAVE, NOVEMBER_2025, SCHEMAS, SEPTEMBER_2025, KalitoSchema

__all__ = [
    "AUTO_SAVE",
    "NOVEMBER_2025",
    "SAMPLE_SESSION_ID",
    "SAVED_SESSION_ID",
    "SCHEMAS",
    "SEPTEMBER_2025",
    "KalitoFile",
    "KalitoSchema",
    "Row",
    "read_rows",
    "write_many_messages",
    "write_realistic_sample",
]
