"""What each GraphQL operation was and how it ended: name, type, duration, error codes.

The extension only measures; whoever builds the schema decides what to do with a record
(server.py counts it in the metrics and writes the log line).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class OperationRecord(NamedTuple):
    """Immutable, and a named tuple rather than a frozen dataclass: one is made per operation,
    and a frozen dataclass sets each field through object.__setattr__ (1.2 µs, not 0.3)."""

    name: str | None  # as the client named it (or the document's first operation); None if anonymous
    type: str  # query, mutation, subscription, or unknown when the document did not parse
    validated: bool  # the document parsed and validated: its name belongs to a real operation
    duration_seconds: float
    error_codes: tuple[str, ...]  # distinct `extensions.code`s, in the order of the errors
    # The token's user, with accounts: in the log line, never a metric label (unbounded).
    user: str | None = None

    @property
    def outcome(self) -> str:
        """`ok`, or the one code that best says why it failed: a defect before anything else."""
        if not self.error_codes:
            return "ok"
        return INTERNAL_SERVER_ERROR if INTERNAL_SERVER_ERROR in self.error_codes else self.error_codes[0]


OperationReporter = Callable[[OperationRecord], None]


def error_codes(errors: Sequence[GraphQLError] | None) -> tuple[str, ...]:
    """The distinct `extensions.code`s of an operation's errors, in their order."""
    if not errors:
        return ()
    codes = (str((error.extensions or {}).get("code", INTERNAL_SERVER_ERROR)) for error in errors)
    return tuple(dict.fromkeys(codes))


class OperationObserver(SchemaExtension):
    """Must come before ErrorCodes in the schema's extensions: strawberry enters the `on_operation`
    hooks in list order and leaves them in reverse, so this one ends last and sees the codes
    ErrorCodes has given.

    An operation that strawberry refuses by raising (a mutation over GET, an unknown
    operationName) never gets a result: it is not reported here, and the HTTP layer logs the
    refusal with its status instead. A subscription is reported when it ends.
    """

    def __init__(self, report: OperationReporter) -> None:
        self.report = report
        self.executing = False

    def on_execute(self) -> Iterator[None]:
        self.executing = True
        yield

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except (GeneratorExit, asyncio.CancelledError):
            # A subscription ends this way when its client completes it or goes away: its normal end.
            self.report(self.record(started))
            raise
        except GraphQLError as error:
            # Raised rather than returned (the operation time limit): strawberry makes the response.
            self.report(self.record(started, raised=error))
            raise
        self.report(self.record(started))

    def record(self, started: float, raised: GraphQLError | None = None) -> OperationRecord:
        context = self.execution_context
        try:
            operation_type = context.operation_type.value
        except RuntimeError:  # no document, or no operation of that name in it
            operation_type = "unknown"
        errors = [raised] if raised is not None else context.result.errors if context.result is not None else None
        return OperationRecord(
            name=context.operation_name,
            type=operation_type,
            validated=self.executing,
            duration_seconds=time.perf_counter() - started,
            error_codes=error_codes(errors),
            user=getattr(context.context, "user_id", None),
        )
