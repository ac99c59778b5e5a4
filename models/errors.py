"""The expected ways an operation on the data can be refused, by meaning."""

from __future__ import annotations


class DomainError(Exception):
    """An expected refusal: the client asked for something the rules of the data forbid."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The operation names a row that does not exist."""


class Conflict(DomainError):
    """The operation collides with the current state of a row (an existing id, a stale version)."""


class InvalidInput(DomainError):
    """One input value breaks a rule; ``field`` names it as clients know it (`sessionId`), as does
    the message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
