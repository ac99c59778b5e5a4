"""Every error gets the contract's `extensions.code`, in this one place.

Expected refusals (models.DomainError) keep their message and get their code (and `field`
for input errors); anything else is a defect: logged in full here, masked for the client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any, Protocol

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

import models

logger = logging.getLogger("kalito.errors")

INTERNAL_MESSAGE = "Internal server error"

DOMAIN_CODES: dict[type[models.DomainError], str] = {
    models.InvalidInput: "BAD_USER_INPUT",
    models.NotFound: "NOT_FOUND",
    models.Conflict: "CONFLICT",
}


def with_code(error: GraphQLError, code: str, message: str | None = None, **extra: object) -> GraphQLError:
    return GraphQLError(
        message if message is not None else error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), "code": code, **extra},
    )


def coded_domain_error(error: GraphQLError, cause: models.DomainError) -> GraphQLError:
    code = next(code for kind, code in DOMAIN_CODES.items() if isinstance(cause, kind))
    if isinstance(cause, models.InvalidInput):
        return with_code(error, code, cause.message, field=cause.field)
    return with_code(error, code, cause.message)


_REQUIRED_FIELD = re.compile(r"required field '(\w+)'")
_VALUE_PATH = re.compile(r" at ([.\w\[\]]+):")
_VARIABLE = re.compile(r"Variable '\$(\w+)'")


def variable_field(message: str) -> str | None:
    """The input field a variable-coercion error is about, read from graphql-core's message
    ("Variable '$input' has invalid value at .role: ..."), which carries it in no other form."""
    if required := _REQUIRED_FIELD.search(message):
        return required[1]
    if at := _VALUE_PATH.search(message):
        names: list[str] = [name for name in re.findall(r"\w+", at[1]) if not name.isdigit()]
        if names:
            return names[-1]
    variable = _VARIABLE.search(message)
    return variable[1] if variable else None


def masked(error: GraphQLError) -> GraphQLError:
    cause = error.original_error or error
    logger.error(
        "unexpected error at %s: %s",
        ".".join(str(key) for key in error.path or ()) or "(operation)",
        error.message,
        exc_info=(type(cause), cause, cause.__traceback__),
    )
    return with_code(error, "INTERNAL_SERVER_ERROR", INTERNAL_MESSAGE)


def resolver_error(error: GraphQLError) -> GraphQLError:
    """An error a resolver raised: an expected refusal keeps its message and gets its code; any
    other is a defect, logged in full and masked. (The compiled path maps its errors here too.)"""
    if isinstance(error.original_error, models.DomainError):
        return coded_domain_error(error, error.original_error)
    return masked(error)


class WithErrors(Protocol):
    """A result of an operation, as strawberry or graphql-core hands it to an extension."""

    errors: list[GraphQLError] | None


class ErrorCodes(SchemaExtension):
    """Classifies each error of an operation by the phase it came from and by its cause."""

    def __init__(self) -> None:
        self.executing = False

    def on_execute(self) -> Iterator[None]:
        self.executing = True
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        self.classify_errors_of(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result of a subscription (over WebSocket), before it is sent."""
        self.classify_errors_of(result)
        yield

    def classify_errors_of(self, result: WithErrors | None) -> None:
        if result is not None and result.errors:
            result.errors = [self.classify(error) for error in result.errors]

    def classify(self, error: GraphQLError) -> GraphQLError:
        if error.extensions and "code" in error.extensions:
            return error
        cause = error.original_error
        if not isinstance(cause, models.DomainError):
            if self.execution_context.graphql_document is None:
                return with_code(error, "GRAPHQL_PARSE_FAILED")
            if not self.executing:
                return with_code(error, "GRAPHQL_VALIDATION_FAILED")
            if error.path is None and (cause is None or isinstance(cause, (ValueError, TypeError, GraphQLError))):
                # Raised while coercing the variables, before any resolver ran: by our scalars
                # (ValueError) or by GraphQL's own Int, Float, Boolean and enums (GraphQLError).
                return with_code(error, "BAD_USER_INPUT", field=variable_field(error.message))
        return resolver_error(error)
