"""Whose rows a request reads and writes (api.md §11).

Every session (and, through it, its messages, pins, summaries and events) and every persona
that is not a Kalito default has an owner: the `sub` of the token that created it, or
`UNOWNED` ("") when it was written without accounts. A request acts as an `Owner`:

- with accounts, a user's own rows, or every row for an admin (who still creates rows as
  themselves);
- without accounts, every row, as before accounts existed; what it creates is UNOWNED, and
  goes to KALITO_DEFAULT_OWNER when accounts are turned on (models.prepare_database).

Nested reads (a session's messages, pins, persona) need no owner of their own: they start from
a session that the owner's read has already found.
"""

from __future__ import annotations

from dataclasses import dataclass

UNOWNED = ""
OWNER_MAX = 255  # the longest `sub` stored; PostgreSQL's and SQLite's VARCHAR alike


@dataclass(frozen=True)
class Viewer:
    """The user a verified token names (`sub`), and whether its roles make an admin."""

    id: str
    is_admin: bool = False


@dataclass(frozen=True)
class Owner:
    id: str  # what the rows this request creates are owned by
    everyone: bool  # reads and changes every owner's rows
    manages_defaults: bool  # may change Kalito's default personas

    @classmethod
    def of(cls, viewer: Viewer) -> Owner:
        return cls(viewer.id, everyone=viewer.is_admin, manages_defaults=viewer.is_admin)

    def condition(self, column: str = '"owner_id"') -> tuple[str, tuple[str, ...]]:
        """The SQL condition (with a `?`) that keeps this owner's rows; empty for everyone."""
        return ("", ()) if self.everyone else (f"{column}=?", (self.id,))

    @property
    def scope(self) -> dict[str, str]:
        """The same, as a Tortoise filter: `Session.filter(id=..., **owner.scope)`."""
        return {} if self.everyone else {"owner_id": self.id}

    def owns(self, owner_id: str) -> bool:
        return self.everyone or owner_id == self.id


# Without accounts: one user, who is everyone.
ONE_USER = Owner(UNOWNED, everyone=True, manages_defaults=True)
# The server's own jobs (the TTL sweep, the relay's reads): every row, creating none.
EVERYONE = ONE_USER
