"""How the `kalito.*` loggers write: one JSON object a line (the default) or plain text.

No logging library: the formatter is a few lines over the standard `logging` module.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from web.request_id import current_request_id

LOGGER = "kalito"

# What every LogRecord has; anything else on a record came from `extra=` and is a field of its own.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # tells the workers of `serve --workers N` apart
            "request_id": current_request_id(),
            "message": record.getMessage(),
            **extra_fields(record),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines and control characters: a record is always exactly one line.
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        fields = {"request_id": current_request_id(), **extra_fields(record)}
        details = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
        return f"{super().formatMessage(record)} {details}".rstrip()


class _KalitoHandler(logging.StreamHandler[TextIO]):
    """Marks the handler this module installed, so configuring again replaces nothing else."""


def configure_logging(log_format: str = "json", level: str = "info") -> None:
    """Send the `kalito.*` loggers to standard error in `log_format`, at `level` and above.

    Idempotent. Leaves alone a logging setup made by someone else (uvicorn --log-config, a
    root handler, pytest's capture): then only the level is set. uvicorn's default setup
    configures its own loggers only, so under `uvicorn server:app` this handler is installed.
    """
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level.upper())
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    ours = [handler for handler in logger.handlers if isinstance(handler, _KalitoHandler)]
    if ours:
        ours[0].setFormatter(formatter)
        return
    if logger.hasHandlers():
        return
    handler = _KalitoHandler(sys.stderr)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
