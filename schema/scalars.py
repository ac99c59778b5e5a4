"""The DateTime scalar as the contract writes it: ISO 8601, UTC, milliseconds, `Z`."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from models import clock


def parse_datetime(value: object) -> datetime:
    """Any ISO 8601 date-time; one without an offset is taken as UTC, as the contract says."""
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


DateTime = strawberry.scalar(
    name="DateTime",
    description="A moment in UTC, ISO 8601 with milliseconds, e.g. 2025-09-16T10:08:36.188Z.",
    serialize=clock.text,
    parse_value=parse_datetime,
)
