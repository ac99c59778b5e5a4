"""Kalito's table definitions, as the Kalito files in the wild hold them (`sqlite_master`'s text,
byte for byte), one schema per Kalito era.

- September 2025, explicit save: the tables grew by `ALTER TABLE` (hence `saved` and the persona
  settings after the closing line), `messages` was rebuilt to get its foreign key, pins carry
  an older `type` column beside `pin_type`, and two triggers guard the default personas.
- Auto-save (from 2025-09-17): a fresh install's tables, written whole by Kalito's `init.ts`.
  Kalito still has the `saved` column; it writes every new session with `saved = 1` and the
  name "New Chat" (`new_session` below) instead of a NULL name and `saved = 0`.
- November 2025: the auto-save tables plus the columns later releases added (care sessions,
  eldercare personas, medical pins) and their two indexes. Those releases also added tables
  that are no part of a conversation (patients, medications, …); they are left out.

Only the five tables a conversation lives in are here: sessions, messages, personas, semantic
pins and conversation summaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class KalitoSchema:
    name: str
    statements: tuple[str, ...]  # in the order Kalito's file holds them
    new_session: Mapping[str, object]  # what Kalito writes in a session row it starts


_SUMMARIES = """CREATE TABLE conversation_summaries (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  summary TEXT NOT NULL,
  message_count INTEGER NOT NULL,
  start_message_id TEXT,
  end_message_id TEXT,
  importance_score REAL DEFAULT 0.7,
  created_at TEXT DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE
)"""

SEPTEMBER_2025 = KalitoSchema(
    name="september-2025",
    statements=(
        """CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  name TEXT,
  model TEXT,
  recap TEXT,
  persona_id TEXT,
  created_at TEXT,
  updated_at TEXT
, saved INTEGER DEFAULT 0)""",
        """CREATE TABLE personas (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  prompt TEXT NOT NULL,
  description TEXT,
  icon TEXT,
  default_model TEXT,
  suggested_models TEXT, -- JSON array of suggested model IDs
  temperature REAL, -- Temperature setting (0.0-2.0)
  maxTokens INTEGER, -- Max tokens setting (100-4000)
  created_at TEXT DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT DEFAULT CURRENT_TIMESTAMP
, category TEXT, topP REAL, stopSequences TEXT, repeatPenalty REAL, is_default INTEGER DEFAULT 0)""",
        _SUMMARIES,
        """CREATE TABLE semantic_pins (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  content TEXT NOT NULL,
  source_message_id TEXT,
  importance_score REAL DEFAULT 0.8,
  pin_type TEXT DEFAULT 'user',
  created_at TEXT DEFAULT CURRENT_TIMESTAMP, type TEXT
    CHECK (type IN ('manual','auto','code','concept','system'))
    DEFAULT 'manual',
  FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE
)""",
        """CREATE INDEX idx_semantic_pins_session_importance_created
ON semantic_pins(session_id, importance_score DESC, created_at DESC)""",
        """CREATE INDEX idx_semantic_pins_session_created
ON semantic_pins(session_id, created_at DESC)""",
        """CREATE INDEX idx_summaries_session_created
  ON conversation_summaries(session_id, created_at DESC)""",
        """CREATE INDEX idx_summaries_session_importance_created
  ON conversation_summaries(session_id, importance_score DESC, created_at DESC)""",
        """CREATE UNIQUE INDEX idx_personas_default_per_category
ON personas(category)
WHERE is_default = 1""",
        """CREATE TRIGGER trg_no_delete_default_persona
BEFORE DELETE ON personas
FOR EACH ROW
WHEN OLD.is_default = 1
BEGIN
  SELECT RAISE(ABORT, 'Cannot delete default persona');
END""",
        """CREATE TRIGGER trg_no_unset_default_persona
BEFORE UPDATE OF is_default ON personas
FOR EACH ROW
WHEN OLD.is_default = 1 AND NEW.is_default = 0
BEGIN
  SELECT RAISE(ABORT, 'Cannot unset default persona flag directly');
END""",
        """CREATE TABLE "messages" (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        role TEXT,
        text TEXT,
        model_id TEXT,
        token_usage INTEGER,
        importance_score REAL DEFAULT 0.5,
        created_at TEXT,
        FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE
      )""",
        """CREATE INDEX idx_messages_session_created
        ON messages(session_id, created_at DESC)""",
        """CREATE INDEX idx_messages_session_importance_created
        ON messages(session_id, importance_score DESC, created_at DESC)""",
    ),
    new_session={"name": None, "saved": 0},
)

_AUTO_SAVE_SESSIONS = """CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  name TEXT,
  model TEXT,
  recap TEXT,
  persona_id TEXT,
  created_at TEXT,
  updated_at TEXT,
  saved INTEGER DEFAULT 0
)"""
_AUTO_SAVE_MESSAGES = """CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL,
  role TEXT,
  text TEXT,
  model_id TEXT,
  token_usage INTEGER,
  importance_score REAL DEFAULT 0.5,
  created_at TEXT,
  FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE
)"""
_AUTO_SAVE_PERSONAS = """CREATE TABLE personas (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  prompt TEXT NOT NULL,
  description TEXT,
  icon TEXT,
  category TEXT,
  default_model TEXT,
  suggested_models TEXT,
  temperature REAL,
  maxTokens INTEGER,
  topP REAL,
  repeatPenalty REAL,
  stopSequences TEXT,
  is_default INTEGER DEFAULT 0,
  created_at TEXT DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT DEFAULT CURRENT_TIMESTAMP
)"""
_MESSAGES_INDEX = "CREATE INDEX idx_messages_session_created ON messages(session_id, created_at DESC)"
_AUTO_SAVE_NEW_SESSION = {"name": "New Chat", "saved": 1}

AUTO_SAVE = KalitoSchema(
    name="auto-save",
    statements=(
        _AUTO_SAVE_SESSIONS,
        _AUTO_SAVE_MESSAGES,
        _AUTO_SAVE_PERSONAS,
        _SUMMARIES,
        """CREATE TABLE semantic_pins (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  content TEXT NOT NULL,
  source_message_id TEXT,
  importance_score REAL DEFAULT 0.8,
  pin_type TEXT DEFAULT 'user',
  created_at TEXT DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE
)""",
        _MESSAGES_INDEX,
    ),
    new_session=_AUTO_SAVE_NEW_SESSION,
)

# Kalito's later releases added these columns with ALTER TABLE, which writes them after the
# closing line of the table's text; the pins table's text has its new columns inside instead.
NOVEMBER_2025 = KalitoSchema(
    name="november-2025",
    statements=(
        _AUTO_SAVE_SESSIONS,
        "ALTER TABLE sessions ADD COLUMN session_type TEXT DEFAULT 'chat'",
        "ALTER TABLE sessions ADD COLUMN patient_id TEXT",
        "ALTER TABLE sessions ADD COLUMN related_record_id TEXT",
        "ALTER TABLE sessions ADD COLUMN care_category TEXT",
        _AUTO_SAVE_MESSAGES,
        _AUTO_SAVE_PERSONAS,
        "ALTER TABLE personas ADD COLUMN eldercare_specialty TEXT",
        "ALTER TABLE personas ADD COLUMN patient_context INTEGER DEFAULT 0",
        _SUMMARIES,
        """CREATE TABLE semantic_pins (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  content TEXT NOT NULL,
  source_message_id TEXT,
  importance_score REAL DEFAULT 0.8,
  pin_type TEXT DEFAULT 'user',
  created_at TEXT DEFAULT CURRENT_TIMESTAMP, medical_category TEXT, patient_id TEXT, urgency_level TEXT DEFAULT 'normal',
  FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE
)""",  # noqa: E501 (Kalito's line, byte for byte)
        _MESSAGES_INDEX,
        "CREATE INDEX idx_sessions_patient_type ON sessions(patient_id, session_type, updated_at DESC)",
        "CREATE INDEX idx_semantic_pins_patient_medical "
        "ON semantic_pins(patient_id, medical_category, importance_score DESC)",
    ),
    new_session=_AUTO_SAVE_NEW_SESSION,
)

SCHEMAS = (SEPTEMBER_2025, AUTO_SAVE, NOVEMBER_2025)
