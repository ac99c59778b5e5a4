"""Sessions — one per conversation — and Kalito's save-only persistence policy.

A session is ephemeral (transient) until the user saves it; ephemeral sessions idle longer
than the TTL are purged (an imported one's idle clock starts at its import:
models/session_import.py); saved ones never expire. Every write moves `updated_at` forward,
which is also the version that compare-and-set updates check.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.indexes import Index
from tortoise.transactions import in_transaction

from models import clock, events, rules, sql
from models.errors import Conflict, NotFound
from models.events import SessionEventKind
from models.owners import Owner
from models.pagination import Listing, Ordering, Page, PageRequest, keyset_page
from models.persona import Persona
from models.session_columns import SessionColumns, SessionRow, session_by_id
from models.session_import import SessionImport

# How often a plain update re-reads the row when a concurrent writer moved it meanwhile.
_UPDATE_ATTEMPTS = 20


class SessionOrder(enum.Enum):
    UPDATED_AT_DESC = Ordering("updated_at", descending=True)
    UPDATED_AT_ASC = Ordering("updated_at", descending=False)
    CREATED_AT_DESC = Ordering("created_at", descending=True)
    CREATED_AT_ASC = Ordering("created_at", descending=False)
    NAME_ASC = Ordering("name", descending=False)
    NAME_DESC = Ordering("name", descending=True)


@dataclass(frozen=True)
class SessionFilter:
    saved: bool | None = True  # Kalito's sidebar: saved sessions only
    persona_id: str | None = None
    model: str | None = None
    search: str | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None

    def as_sql(self) -> tuple[str, tuple[Any, ...]]:
        """The filter as a SQL condition with `?` placeholders (empty for every session), and its
        parameters. `search` matches as Tortoise's `icontains` did: case folded by UPPER (all of
        Unicode on PostgreSQL, ASCII only on SQLite), `%`, `_` and `\\` taken literally."""
        conditions: list[str] = []
        params: list[Any] = []
        for condition, value in (
            ('"saved"=?', self.saved),
            ('"persona_id"=?', self.persona_id),
            ('"model"=?', self.model),
        ):
            if value is not None:
                conditions.append(condition)
                params.append(value)
        if self.search:
            pattern = "%" + self.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(
                """(UPPER(CAST("name" AS VARCHAR)) LIKE UPPER(?) ESCAPE '\\' """
                """OR UPPER(CAST("recap" AS VARCHAR)) LIKE UPPER(?) ESCAPE '\\')"""
            )
            params += [pattern, pattern]
        for condition, moment in (('"updated_at">?', self.updated_after), ('"updated_at"<?', self.updated_before)):
            if moment is not None:
                conditions.append(condition)
                params.append(sql.moment_param(moment))
        return " AND ".join(conditions), tuple(params)


async def _checked_columns(owner: Owner, values: Mapping[str, Any]) -> dict[str, Any]:
    """The input rules, then the one that needs the database: a persona id names a persona the
    owner may use."""
    checked = SessionRow.check(values)
    if checked.get("persona_id") is not None:
        await Persona.require_exists(owner, SessionRow.by_name["persona_id"].graphql_name, checked["persona_id"])
    return checked


def _taken(session_id: str) -> Conflict:
    # The one answer that tells of another user's session: its id cannot be made twice.
    return Conflict(f"a session with id {session_id!r} already exists")


class Session(SessionColumns):
    class Meta:
        table = "sessions"
        # The list queries filter on `saved` and walk one of these orders by keyset: with
        # accounts, within the owner's rows (the owner-led ones); without, or for an admin, over
        # every row (which the TTL sweep also seeks, by `saved` and `updated_at`).
        indexes = (
            Index(fields=("owner_id", "saved", "updated_at", "id")),
            Index(fields=("owner_id", "saved", "created_at", "id")),
            Index(fields=("owner_id", "saved", "name", "id")),
            Index(fields=("owner_id", "updated_at", "id")),
            Index(fields=("saved", "updated_at", "id")),
            Index(fields=("saved", "created_at", "id")),
            Index(fields=("saved", "name", "id")),
            Index(fields=("persona_id",)),
            # `saved: null` (every session) in the default order, newest activity first: without
            # it, each page sorts the whole table.
            Index(fields=("updated_at", "id")),
        )

    # --- reads -------------------------------------------------------------------------

    @classmethod
    async def by_id(cls, owner: Owner, session_id: str) -> SessionRow | None:
        rows = await sql.fetch(*session_by_id(owner, rules.check_id("id", session_id)))
        return SessionRow.from_db(rows[0]) if rows else None

    @classmethod
    async def page(
        cls, owner: Owner, where: SessionFilter, order: SessionOrder, request: PageRequest
    ) -> Page[SessionRow]:
        if where.persona_id is not None:
            rules.check_id("personaId", where.persona_id)
        for field, value in (("search", where.search), ("model", where.model)):
            if value is not None:
                rules.check_text(field, value, maximum=rules.NAME_MAX)
        sort_type = str if order.value.column == "name" else datetime
        # The owner first: the owner-led indexes seek (owner, saved, order column, id).
        owned, owner_params = owner.condition()
        condition, params = where.as_sql()
        listing = Listing(
            cls,
            SessionRow,
            " AND ".join(part for part in (owned, condition) if part),
            (*owner_params, *params),
        )
        return await keyset_page(listing, order.name, order.value, sort_type, request)

    # --- writes: each in one write_transaction, recording the event it publishes -------

    @classmethod
    async def create_session(cls, owner: Owner, session_id: str | None, **values: Any) -> SessionRow:
        """A new session of `owner` with the given columns (those of the create input; a null
        name is the default name); an id already taken, by anyone, is a Conflict."""
        session_id = rules.check_id_or_new("id", session_id)
        columns = await _checked_columns(owner, SessionRow.created(values))
        moment = clock.now()
        try:
            async with events.write_transaction():
                session = SessionRow.from_model(
                    await cls.create(id=session_id, **columns, created_at=moment, updated_at=moment, owner_id=owner.id)
                )
                events.record(SessionEventKind.CREATED, session)
        except IntegrityError:
            if await cls.exists(id=session_id):
                raise _taken(session_id) from None
            raise
        return session

    @classmethod
    async def update_session(
        cls,
        owner: Owner,
        session_id: str,
        changes: Mapping[str, Any],
        expected_updated_at: datetime | None = None,
    ) -> SessionRow:
        rules.check_id("id", session_id)
        columns = await _checked_columns(owner, SessionRow.changed(changes))
        async with events.write_transaction():
            session = await cls._apply(owner, session_id, columns, expected_updated_at)
            events.record(SessionEventKind.UPDATED, session)
        return session

    @classmethod
    async def _apply(
        cls, owner: Owner, session_id: str, columns: Mapping[str, Any], expected_updated_at: datetime | None = None
    ) -> SessionRow:
        """Change exactly the given (checked) columns and move `updated_at` on.

        The write is conditional on the `updated_at` read just before (compare-and-set), so
        two concurrent writers can never both succeed against the same version: with
        `expected_updated_at` the loser gets Conflict, without it the loser re-reads and
        applies its change on top.
        """
        expected = clock.to_millisecond(expected_updated_at) if expected_updated_at else None
        for _ in range(_UPDATE_ATTEMPTS):
            session = await cls.filter(id=session_id, **owner.scope).get_or_none()
            if session is None:
                raise NotFound(f"no session with id {session_id!r}")
            if expected is not None and session.updated_at != expected:
                raise Conflict(f"session {session_id!r} changed since {clock.text(expected)}")
            updated_at = clock.later_than(session.updated_at)
            written = await cls.filter(id=session_id, updated_at=session.updated_at).update(
                **columns, updated_at=updated_at
            )
            if written:
                session.update_from_dict({**columns, "updated_at": updated_at})
                return SessionRow.from_model(session)
            if expected is not None:
                raise Conflict(f"session {session_id!r} changed since {clock.text(expected)}")
        raise Conflict(f"session {session_id!r} is being changed by others; try again")

    @classmethod
    async def upsert(cls, owner: Owner, session_id: str | None, changes: Mapping[str, Any]) -> tuple[SessionRow, bool]:
        """Make sure the owner's session exists with `changes` applied, creating it when
        unknown; also answers whether it was created. Another user's id is taken (Conflict).
        Runs inside the caller's write_transaction."""
        session_id = rules.check_id_or_new("id", session_id)
        columns = await _checked_columns(owner, changes)
        found = await cls._owner_of(owner, session_id)
        if found is None:
            moment = clock.now()
            try:
                # A savepoint: on PostgreSQL a lost race must not abort the caller's transaction.
                async with in_transaction():
                    session = await cls.create(
                        id=session_id, **columns, created_at=moment, updated_at=moment, owner_id=owner.id
                    )
                return SessionRow.from_model(session), True
            except IntegrityError:
                found = await cls._owner_of(owner, session_id)
                if found is None:
                    raise
                # Created by a concurrent request meanwhile: apply the changes on top of it.
        if not owner.owns(found):
            raise _taken(session_id)
        return await cls._apply(owner, session_id, columns), False

    @classmethod
    async def switched(cls, owner: Owner, session_id: str) -> SessionRow:
        """The owner's session, its updatedAt moved on: its active branch is about to change.
        Runs inside the caller's write_transaction (and so serialises the session's writers)."""
        return await cls._apply(owner, session_id, {})

    @classmethod
    async def _owner_of(cls, owner: Owner, session_id: str) -> str | None:
        """Whose the session is (None: there is none); for everyone, only whether it exists."""
        if owner.everyone:
            return owner.id if await cls.exists(id=session_id) else None
        found = await cls.filter(id=session_id).values_list("owner_id", flat=True)
        return str(found[0]) if found else None

    @classmethod
    async def save_by_id(
        cls, owner: Owner, session_id: str, *, name: str | None = None, recap: str | None = None
    ) -> SessionRow:
        """Mark a session saved (creating it when unknown), optionally naming it."""
        changes: dict[str, Any] = {"saved": True}
        if name is not None:
            changes["name"] = name
        if recap is not None:
            changes["recap"] = recap
        async with events.write_transaction():
            session, _ = await cls.upsert(owner, session_id, changes)
            events.record(SessionEventKind.SAVED, session)
        return session

    @classmethod
    async def touch(
        cls, owner: Owner, session_id: str | None, *, model: str | None = None, persona_id: str | None = None
    ) -> SessionRow:
        """The agent's entry point: make sure the row exists (transient unless already saved),
        record the model and persona it runs with, and bump `updated_at`."""
        changes = {
            column: value for column, value in (("model", model), ("persona_id", persona_id)) if value is not None
        }
        async with events.write_transaction():
            session, created = await cls.upsert(owner, session_id, changes)
            events.record(SessionEventKind.CREATED if created else SessionEventKind.UPDATED, session)
        return session

    @classmethod
    async def delete_by_id(cls, owner: Owner, session_id: str) -> str:
        rules.check_id("id", session_id)
        async with events.write_transaction():
            # Whose it was, for the event's subscribers (an owner never changes).
            found = await cls.filter(id=session_id, **owner.scope).values_list("owner_id", flat=True)
            if not found or not await cls.filter(id=session_id, **owner.scope).delete():
                raise NotFound(f"no session with id {session_id!r}")
            events.record_deleted(session_id, str(found[0]))
        return session_id

    @classmethod
    async def delete_many(cls, owner: Owner, session_ids: Sequence[str]) -> list[str]:
        """Delete those of the owner's that exist, in one transaction; answer their ids in the
        order given."""
        wanted = [rules.check_id("ids", session_id) for session_id in dict.fromkeys(session_ids)]
        async with events.write_transaction():
            mine = cls.filter(id__in=wanted, **owner.scope)
            existing = {row["id"]: row["owner_id"] for row in await mine.values("id", "owner_id")}
            await cls.filter(id__in=existing).delete()
            deleted = [session_id for session_id in wanted if session_id in existing]
            for session_id in deleted:
                events.record_deleted(session_id, existing[session_id])
        return deleted

    @classmethod
    async def purge_expired(cls, owner: Owner, idle_seconds: int | None, *, default_ttl: int) -> int:
        """Delete the owner's ephemeral sessions idle for longer than `idle_seconds` (default:
        the TTL, where 0 means they never expire), counting an imported one's idleness from its
        import; saved ones stay. Answers how many went."""
        if idle_seconds is None:
            if default_ttl == 0:
                return 0
            idle_seconds = default_ttl
        rules.check_non_negative("idleSeconds", idle_seconds)
        cutoff = clock.now() - timedelta(seconds=idle_seconds)
        imported_since = SessionImport.filter(imported_at__gte=cutoff).values("session_id")
        expired = cls.filter(saved=False, updated_at__lt=cutoff, **owner.scope).exclude(id__in=Subquery(imported_since))
        async with events.write_transaction():
            # Listed on their own: on SQLite, Tortoise's count of a DELETE includes the messages
            # it cascades to. Locked first, so that what is listed is what goes.
            purged = await expired.select_for_update().only("id", "owner_id")
            await expired.delete()
            for session in purged:
                events.record_deleted(session.id, session.owner_id)
        return len(purged)
