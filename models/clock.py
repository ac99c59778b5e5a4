"""Timestamps as the API shows them: UTC, millisecond precision.

Stored values are cut to milliseconds so that the `updatedAt` a client reads back is exactly the
value in the row, which is what compare-and-set (`expectedUpdatedAt`) compares against.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

ONE_TICK = timedelta(milliseconds=1)


def to_millisecond(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def now() -> datetime:
    return to_millisecond(datetime.now(UTC))


def later_than(previous: datetime) -> datetime:
    """Now, or one tick past `previous` when the clock has not moved on: every write changes
    `updatedAt`, so a stale `expectedUpdatedAt` can never match by coincidence."""
    return max(now(), to_millisecond(previous) + ONE_TICK)
