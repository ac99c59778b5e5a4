"""Session events: what a write did to a session, published once its transaction commits.

Every write method runs in `write_transaction()` and `record()`s what it did. The events of a
transaction are published only when it commits, so a write that rolls back publishes nothing:

- on PostgreSQL, as `NOTIFY` inside the transaction itself, which PostgreSQL delivers at commit,
  in commit order, to every server process that `LISTEN`s — whichever process wrote;
- on SQLite, handed to this process's subscribers (`deliver_committed_to`) right after commit.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.session_columns import SessionRow

CHANNEL = "kalito_session_events"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; a bigger row (a long recap) travels
# as its id only and is read back by the processes that receive it.
_NOTIFY_PAYLOAD_MAX = 7900


class SessionEventKind(enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    SAVED = "SAVED"
    DELETED = "DELETED"


@dataclass(frozen=True)
class SessionEvent:
    kind: SessionEventKind
    session_id: str
    owner_id: str  # whose session it is: only they (and admins) receive the event
    # The row as this write committed it; None for DELETED, or when it must be read back.
    session: SessionRow | None = None

    @property
    def needs_reading_back(self) -> bool:
        return self.session is None and self.kind is not SessionEventKind.DELETED

    def to_payload(self) -> str:
        head: dict[str, Any] = {"kind": self.kind.value, "sessionId": self.session_id, "ownerId": self.owner_id}
        payload = head if self.session is None else {**head, "session": self.session.as_mapping()}
        encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        if len(encoded.encode()) > _NOTIFY_PAYLOAD_MAX:
            encoded = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
        return encoded

    @classmethod
    def from_payload(cls, payload: str) -> SessionEvent:
        decoded = json.loads(payload)
        row = decoded.get("session")
        session = SessionRow.from_mapping(row) if row is not None else None
        return cls(SessionEventKind(decoded["kind"]), decoded["sessionId"], decoded["ownerId"], session)


# The events recorded by the transaction now running in this task, if any.
_recorded: contextvars.ContextVar[list[SessionEvent] | None] = contextvars.ContextVar("recorded", default=None)
_deliver_committed: Callable[[Sequence[SessionEvent]], None] | None = None


def deliver_committed_to(deliver: Callable[[Sequence[SessionEvent]], None] | None) -> None:
    """Hand this process's committed events to `deliver` (SQLite); None stops it."""
    global _deliver_committed
    _deliver_committed = deliver


def record(kind: SessionEventKind, session: SessionRow) -> None:
    """What this transaction did to `session` (created, changed or saved it), as it committed it."""
    _recording().append(SessionEvent(kind, session.id, session.owner_id, session))


def record_deleted(session_id: str, owner_id: str) -> None:
    _recording().append(SessionEvent(SessionEventKind.DELETED, session_id, owner_id))


def _recording() -> list[SessionEvent]:
    recorded = _recorded.get()
    if recorded is None:
        raise RuntimeError("session events are recorded inside write_transaction()")
    return recorded


@contextlib.asynccontextmanager
async def write_transaction() -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction whose recorded events are published when it commits.

    Nested, it is a savepoint: its events join the enclosing transaction's when the savepoint
    is released, and vanish with it when it rolls back.
    """
    enclosing = _recorded.get()
    mine: list[SessionEvent] = []
    token = _recorded.set(mine)
    try:
        async with in_transaction() as connection:
            yield connection
            if enclosing is None and mine and connection.capabilities.dialect == "postgres":
                await _notify(connection, mine)
    finally:
        _recorded.reset(token)
    if enclosing is not None:
        enclosing.extend(mine)
    elif mine and _deliver_committed is not None and connection.capabilities.dialect != "postgres":
        _deliver_committed(mine)


async def _notify(connection: BaseDBAsyncClient, events: Sequence[SessionEvent]) -> None:
    await connection.execute_query(
        "SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS t(payload, position) "
        "ORDER BY position",
        [CHANNEL, [event.to_payload() for event in events]],
    )
