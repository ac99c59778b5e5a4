"""One log line per GraphQL operation on `kalito.operations`, with the HTTP status when there is one.

An operation over HTTP ends before its response is sent, so its line waits for the status; an
HTTP request refused before any operation ran (401, 415, a mutation over GET...) gets a line of
its own. Operations over a WebSocket are written as they end.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.observability import INTERNAL_SERVER_ERROR, OperationRecord
from web.request_id import current_request_id

logger = logging.getLogger("kalito.operations")

_pending: ContextVar[list[OperationRecord] | None] = ContextVar("kalito_pending_operations", default=None)

# Names are the client's: kept whole in metrics only when bounded, cut here so a line stays short.
MAX_LOGGED_NAME = 200


def log_operation(record: OperationRecord) -> None:
    pending = _pending.get()
    if pending is None:
        write(record, status=None)
    else:
        pending.append(record)


def write(record: OperationRecord, status: int | None) -> None:
    level = logging.ERROR if record.outcome == INTERNAL_SERVER_ERROR else logging.INFO
    if not logger.isEnabledFor(level):  # at KALITO_LOG_LEVEL=warning, ok operations cost nothing
        return
    name = record.name[:MAX_LOGGED_NAME] if record.name is not None else None
    # The id goes on the record itself: a handler that formats later (a queue) is out of context.
    fields: dict[str, object] = {
        "request_id": current_request_id(),
        "operation": name,
        "type": record.type,
        "duration_ms": round(record.duration_seconds * 1000, 3),
        "outcome": record.outcome,
        "error_codes": list(record.error_codes),
    }
    if status is not None:
        fields["status"] = status
    if record.user is not None:
        fields["user"] = record.user
    logger.log(level, "%s %s: %s", record.type, name or "(anonymous)", record.outcome, extra=fields)


def write_refusal(scope: Scope, status: int) -> None:
    logger.info(
        "%s %s refused with %d",
        scope.get("method"),
        scope.get("path"),
        status,
        extra={
            "request_id": current_request_id(),
            "operation": None,
            "outcome": "refused",
            "status": status,
            "method": scope.get("method"),
        },
    )


def write_disconnect(scope: Scope) -> None:
    """A client that went away before its request body arrived whole: nothing to answer."""
    logger.info(
        "%s %s: the client disconnected before its body arrived",
        scope.get("method"),
        scope.get("path"),
        extra={
            "request_id": current_request_id(),
            "operation": None,
            "outcome": "disconnected",
            "method": scope.get("method"),
        },
    )


class OperationLog:
    """Pure ASGI middleware holding back the lines of an HTTP request until its status is known."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets when the app raises before answering
        pending: list[OperationRecord] = []

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        token = _pending.set(pending)
        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            _pending.reset(token)
            for record in pending:
                write(record, status)
            if not pending and 400 <= status < 500:
                write_refusal(scope, status)
