"""Keyset pagination for Relay connections: opaque cursors, stable under inserts.

A cursor holds the position of a row in one ordering (its sort value and its id, the
tie-breaker), so the next page is "rows past this position" — an index range scan that
costs the same on page 10,000 as on page 1, unlike OFFSET.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson
from tortoise.exceptions import ValidationError
from tortoise.fields import IntField
from tortoise.models import Model

from models import sql
from models.columns import Row
from models.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

RowT = TypeVar("RowT", bound=Row)


@dataclass(frozen=True)
class Ordering:
    """Sort by `column` (then by id, so that the order is total)."""

    column: str
    descending: bool

    @property
    def order_by(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        return f'"{self.column}" {direction},"id" {direction}'

    def reversed(self) -> Ordering:
        return Ordering(self.column, not self.descending)

    def past(self, *, inclusive: bool = False) -> str:
        """Rows that come after a position (value, id) in this ordering, the two `?` of the position
        to fill. A row value, which both databases read as a seek in the (column, id) index:
        `column < ? OR (column = ? AND id < ?)` made SQLite walk the index from its start."""
        operator = ("<" if self.descending else ">") + ("=" if inclusive else "")
        return f'("{self.column}","id"){operator}(?,?)'


@dataclass(frozen=True)
class Listing(Generic[RowT]):
    """What a keyset page reads: the rows of `model`'s table that match `where` (SQL with `?`
    placeholders, empty for every row), each read as a `row`."""

    model: type[Model]
    row: type[RowT]
    where: str = ""
    params: tuple[Any, ...] = ()

    def select(self, conditions: Sequence[str], order_by: str, also: str = "") -> str:
        """The rows past `conditions` in `order_by`; `also` adds a last column (SQL, whose `?`
        come before those of the conditions)."""
        columns = self.row.select_list + (f",({also})" if also else "")
        return f"SELECT {columns} FROM {self.table}{self.where_clause(conditions)} ORDER BY {order_by} LIMIT ?"

    def exists(self, condition: str) -> str:
        return f"SELECT 1 FROM {self.table}{self.where_clause([condition])} LIMIT 1"

    def count(self) -> str:
        return f"SELECT COUNT(*) FROM {self.table}{self.where_clause([])}"

    @property
    def table(self) -> str:
        return f'"{self.model._meta.db_table}"'

    def where_clause(self, conditions: Sequence[str]) -> str:
        every = [self.where, *conditions] if self.where else list(conditions)
        return f" WHERE {' AND '.join(every)}" if every else ""

    @staticmethod
    def position_params(position: tuple[Any, str | int]) -> tuple[Any, Any]:
        value, row_id = position
        return (sql.moment_param(value) if isinstance(value, datetime) else value), row_id

    async def count_all(self) -> int:
        rows = await sql.fetch(self.count(), self.params)
        return int(rows[0][0])


@dataclass(frozen=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass
class Page(Generic[RowT]):
    rows: list[RowT]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    count_all: Callable[[], Awaitable[int]]


def encode_cursor(order_name: str, value: Any, row_id: str | int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    # orjson writes what json.dumps(separators=(",", ":"), ensure_ascii=False) wrote, 4x faster
    return base64.urlsafe_b64encode(orjson.dumps([order_name, value, row_id])).decode().rstrip("=")


def decode_cursor(field: str, cursor: str, order_name: str, sort_value_type: type) -> tuple[Any, str | int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        # orjson refuses what json would read but a cursor never holds: NaN, integers past 64
        # bits, escaped lone surrogates. Either way such a cursor is refused below.
        cursor_order, value, row_id = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(row_id, (str, int)) or isinstance(row_id, bool) or not _is_sort_value(value, sort_value_type):
            raise ValueError("malformed cursor")
        # A forged cursor must be refused here, not by the database driver (an internal error).
        if not (_storable(value) and _storable(row_id)):
            raise ValueError("malformed cursor")
        sort_value = _moment(value) if sort_value_type is datetime else value
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeError):
        raise InvalidInput(field, f"{field} is not a cursor this API issued") from None
    if cursor_order != order_name:
        raise InvalidInput(field, f"{field} is a cursor of another ordering ({cursor_order})")
    return sort_value, row_id


def _is_sort_value(value: Any, sort_value_type: type) -> bool:
    """A cursor holds its sort value as text (a moment, a name) or as an integer (a depth)."""
    if sort_value_type is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def _storable(part: str | int) -> bool:
    """A value any database can compare: text without NUL or lone surrogates, a 64-bit integer."""
    if isinstance(part, int):
        return -(2**63) <= part < 2**63
    return _UNSTORABLE_CHARACTER.search(part) is None


def _moment(value: str) -> datetime:
    """The cursors this API issues hold aware moments; in UTC, they must stay within years 1-9999."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("the moment of a cursor must have an offset")
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


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
    listing: Listing[RowT],
    order_name: str,
    ordering: Ordering,
    sort_value_type: type,
    request: PageRequest,
) -> Page[RowT]:
    """One page of `listing` in `ordering`, per the Relay cursor connection rules."""
    size = page_size(request)
    after = decode_cursor("after", request.after, order_name, sort_value_type) if request.after else None
    before = decode_cursor("before", request.before, order_name, sort_value_type) if request.before else None

    conditions: list[str] = []
    params: list[Any] = list(listing.params)
    # Each position as its columns store it, once: the query and the check beyond it use it.
    stored: dict[str, tuple[Any, Any]] = {}
    for field, position, side in (("after", after, ordering), ("before", before, ordering.reversed())):
        if position is not None:
            _check_position(field, listing.model, ordering.column, position)
            stored[field] = listing.position_params(position)
            conditions.append(side.past())
            params.extend(stored[field])

    backward = request.last is not None
    scan = ordering.reversed() if backward else ordering
    # The side the client came from: is there anything at or beyond the cursor it gave? Asked
    # in the same statement as the page, a column of each row (the database works it out
    # once), rather than by a second round trip; by a statement of its own if the page is empty.
    came_from, behind = ("before", ordering) if backward else ("after", ordering.reversed())
    check = listing.exists(behind.past(inclusive=True)) if came_from in stored else ""
    check_params = [*listing.params, *stored[came_from]] if check else []
    fetched = await sql.fetch(listing.select(conditions, scan.order_by, also=check), [*check_params, *params, size + 1])
    more = len(fetched) > size
    rows = [listing.row.from_db(raw) for raw in fetched[:size]]
    if backward:
        rows.reverse()
    behind_cursor = bool(check) and (
        fetched[0][-1] is not None if fetched else bool(await sql.fetch(check, check_params))
    )
    has_next, has_previous = (behind_cursor, more) if backward else (more, behind_cursor)

    cursors = [encode_cursor(order_name, getattr(row, ordering.column), row.id) for row in rows]
    return Page(rows, cursors, has_next, has_previous, listing.count_all)


async def rows_per_session(
    row: type[RowT],
    table: str,
    order: str,
    session_ids: Sequence[str],
    limit: int | None = None,
    *,
    also: str = "",
) -> list[list[RowT]]:
    """The rows of each session (its rows of `table` that meet the condition `also`, when given,
    in the ORDER BY list `order`, which ends with a tie-break), the first `limit` of each when
    given, in one statement whatever the number of sessions; in the order of `session_ids`."""
    distinct = list(dict.fromkeys(session_ids))
    if not distinct:
        return []
    where = f'"session_id" IN ({sql.placeholders(len(distinct))})' + (f" AND {also}" if also else "")
    columns = row.select_list
    if limit is None:
        statement = f'SELECT {columns} FROM "{table}" WHERE {where} ORDER BY "session_id",{order}'
        params: list[Any] = distinct
    else:
        statement = (
            f"SELECT {columns} FROM (SELECT {columns},"
            f'ROW_NUMBER() OVER (PARTITION BY "session_id" ORDER BY {order}) AS position '
            f'FROM "{table}" WHERE {where}) AS ranked WHERE position<=? ORDER BY "session_id",position'
        )
        params = [*distinct, limit]
    by_session: dict[str, list[RowT]] = {}
    for raw in await sql.fetch(statement, params):
        read = row.from_db(raw)
        by_session.setdefault(read.session_id, []).append(read)
    return [by_session.get(session_id, []) for session_id in session_ids]
