"""Keyset pagination for Relay connections: opaque cursors, stable under inserts.

A cursor holds the position of a row in one ordering (its sort value and its id, the
tie-breaker), so the next page is "rows past this position" — an index range scan that
costs the same on page 10,000 as on page 1, unlike OFFSET.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from tortoise.exceptions import ValidationError
from tortoise.expressions import Q
from tortoise.fields import IntField
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

ModelT = TypeVar("ModelT", bound=Model)


@dataclass(frozen=True)
class Ordering:
    """Sort by `column` (then by id, so that the order is total)."""

    column: str
    descending: bool

    @property
    def order_by(self) -> tuple[str, str]:
        sign = "-" if self.descending else ""
        return (f"{sign}{self.column}", f"{sign}id")

    def reversed(self) -> Ordering:
        return Ordering(self.column, not self.descending)

    def past(self, value: Any, row_id: str | int, *, inclusive: bool = False) -> Q:
        """Rows that come after the position (value, row_id) in this ordering."""
        op = "lt" if self.descending else "gt"
        id_op = f"{op}e" if inclusive else op
        return Q(**{f"{self.column}__{op}": value}) | Q(**{self.column: value, f"id__{id_op}": row_id})


@dataclass(frozen=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass
class Page(Generic[ModelT]):
    rows: list[ModelT]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    count_all: Callable[[], Awaitable[int]]


def encode_cursor(order_name: str, value: Any, row_id: str | int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([order_name, value, row_id], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(field: str, cursor: str, order_name: str, sort_value_type: type) -> tuple[Any, str | int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_order, value, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(row_id, (str, int)) or isinstance(row_id, bool) or not isinstance(value, str):
            raise ValueError("malformed cursor")
        # A forged cursor must be refused here, not by the database driver (an internal error).
        if not all(_storable(part) for part in (value, row_id)):
            raise ValueError("malformed cursor")
        sort_value = _moment(value) if sort_value_type is datetime else value
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeError):
        raise InvalidInput(field, f"{field} is not a cursor this API issued") from None
    if cursor_order != order_name:
        raise InvalidInput(field, f"{field} is a cursor of another ordering ({cursor_order})")
    return sort_value, row_id


def _storable(part: str | int) -> bool:
    """A value any database can compare: text without NUL or lone surrogates, a 64-bit integer."""
    if isinstance(part, int):
        return -(2**63) <= part < 2**63
    return "\x00" not in part and not any("\ud800" <= char <= "\udfff" for char in part)


def _moment(value: str) -> datetime:
    """The cursors this API issues hold aware moments; in UTC, they must stay within years 1-9999."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("the moment of a cursor must have an offset")
    return moment.astimezone(UTC)


def _check_position(field: str, model: type[Model], column: str, position: tuple[Any, str | int]) -> None:
    """The cursor's value and id must fit their columns (a longer name was never stored)."""
    value, row_id = position
    try:
        if isinstance(row_id, int) != isinstance(model._meta.pk, IntField):
            raise TypeError("the id of a cursor has the wrong type")
        model._meta.fields_map[column].validate(value)
        model._meta.pk.validate(row_id)
    except (ValidationError, TypeError, ValueError):
        raise InvalidInput(field, f"{field} is not a cursor this API issued") from None


def page_size(request: PageRequest) -> int:
    if request.first is not None and request.last is not None:
        raise InvalidInput("last", "give first or last, not both")
    for field, size in (("first", request.first), ("last", request.last)):
        if size is not None and not 1 <= size <= MAX_PAGE_SIZE:
            raise InvalidInput(field, f"{field} must be 1 to {MAX_PAGE_SIZE}")
    return request.first or request.last or DEFAULT_PAGE_SIZE


async def keyset_page(
    base: QuerySet[ModelT],
    order_name: str,
    ordering: Ordering,
    sort_value_type: type,
    request: PageRequest,
) -> Page[ModelT]:
    """One page of `base` in `ordering`, per the Relay cursor connection rules."""
    size = page_size(request)
    after = decode_cursor("after", request.after, order_name, sort_value_type) if request.after else None
    before = decode_cursor("before", request.before, order_name, sort_value_type) if request.before else None

    for field, position in (("after", after), ("before", before)):
        if position is not None:
            _check_position(field, base.model, ordering.column, position)

    window = base
    if after is not None:
        window = window.filter(ordering.past(*after))
    if before is not None:
        window = window.filter(ordering.reversed().past(*before))

    backward = request.last is not None
    scan = ordering.reversed() if backward else ordering
    rows = await window.order_by(*scan.order_by).limit(size + 1)
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()

    # The side the client came from: is there anything at or beyond the cursor it gave?
    if backward:
        has_next = before is not None and await base.filter(ordering.past(*before, inclusive=True)).exists()
        has_previous = more
    else:
        has_next = more
        has_previous = (
            after is not None and await base.filter(ordering.reversed().past(*after, inclusive=True)).exists()
        )

    cursors = [encode_cursor(order_name, getattr(row, ordering.column), row.pk) for row in rows]
    return Page(rows, cursors, has_next, has_previous, base.count)
