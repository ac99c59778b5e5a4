"""A conversation as an import reads it, whatever the file: a session and its message tree.

The readers (importers/chatgpt.py for ChatGPT's `conversations.json`; this server's own export
next) turn their format into these, for one writer to store (api.md §9's importSessions and
`import-chatgpt`, still to be wired: issue 18). A message names its parent by `ref`, the id it
has in the file, so that a reader needs to know nothing of this server's ids: the writer keeps
`id` where the file holds one of this server's own (its export), and makes a new one where not
(a ChatGPT node id is a UUID).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ImportedMessage:
    ref: str  # the message's id in the file, unique within its conversation
    parent_ref: str | None  # None: a first message (a root of the tree)
    # The Message columns by their Python names: role (a models.MessageRole), text, model,
    # token_usage, importance (None: computed as for an append), created_at (an aware datetime).
    values: dict[str, Any]
    id: int | None = None  # the id to keep; None: the writer gives it a new one


@dataclass
class ImportedSession:
    id: str
    # The Session columns by their Python names: name, model, recap, persona_id, saved,
    # metadata, created_at, updated_at (aware datetimes).
    values: dict[str, Any]
    messages: list[ImportedMessage]  # each parent before its children
    active_ref: str | None  # the active leaf's ref; None: the newest leaf
    # The Pin and Summary columns by their Python names, each message reference a ref.
    pins: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
