"""The DateTime scalar as the contract writes it: ISO 8601, UTC, milliseconds, `Z`."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry


def serialize_datetime(value: datetime) -> str:
    if value.tzinfo is not UTC:  # what the models give is UTC already: two of these per session
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    # %-formatting of the fields: half the time of isoformat(timespec=...) on an aware datetime
    # (0.7 µs, not 1.3), a hundred times for a page of 50 sessions; strftime is slower still.
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031  (an f-string is as slow as isoformat)
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 1000,
    )


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
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)
