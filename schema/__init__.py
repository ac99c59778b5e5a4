"""The GraphQL schema (strawberry): composed from the roots, with error codes and caches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.context import Context
from schema.deadlines import Deadlines
from schema.errors import ErrorCodes
from schema.extensions import DocumentCache, OperationNameRequired
from schema.limits import Limits, limit_extensions
from schema.mutations import Mutation
from schema.observability import OperationObserver, OperationRecord, OperationReporter
from schema.plans import CompiledOperations
from schema.queries import Query
from schema.scalars import DateTime
from schema.strawberry_adapter import argument_conversion, graphql_schema
from schema.subscriptions import Subscription

# Bounded: a client sending ever-new documents must not grow the server's memory.
DOCUMENT_CACHE_SIZE = 512


class KalitoSchema(strawberry.Schema):
    # The fast path for documents seen before (schema/plans.py); None when it is turned off.
    compiled: CompiledOperations | None = None

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Strawberry would log every error, expected ones included; ErrorCodes logs the
        unexpected ones, with their tracebacks, and nothing else."""


def build_schema(
    *,
    production: bool = False,
    report: OperationReporter | None = None,
    limits: Limits | None = None,
    compiled_operations: bool = True,
) -> KalitoSchema:
    """`report` receives an OperationRecord as each operation ends (the server's logs and metrics);
    `limits` defaults to Settings' defaults; `compiled_operations` turns the fast path on."""
    limits = limits or Limits()
    # One timer for every operation's time limit, on both paths (strawberry's and the plans').
    deadlines = Deadlines(limits.operation_timeout_seconds) if limits.operation_timeout_seconds else None
    extensions: list[Any] = [
        # First: it leaves its hook last, so it sees the codes that ErrorCodes gives.
        *([lambda: OperationObserver(report)] if report is not None else []),
        ErrorCodes,
        OperationNameRequired,
        lambda: DocumentCache(maxsize=DOCUMENT_CACHE_SIZE),
        # the validation cache is DocumentLimits: it refuses a document over a limit unvalidated
        *limit_extensions(limits, deadlines, production=production, cache_size=DOCUMENT_CACHE_SIZE),
    ]
    if production:
        extensions.append(DisableIntrospection)
    schema = KalitoSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(
            scalar_map={datetime: DateTime},
            batching_config={"max_operations": limits.batch_max_operations} if limits.batch_max_operations else None,
        ),
    )
    if compiled_operations:
        schema.compiled = CompiledOperations(
            graphql_schema(schema),
            argument_conversion(schema),
            report=report,
            deadlines=deadlines,
            maxsize=DOCUMENT_CACHE_SIZE,
        )
    return schema


__all__ = ["Context", "KalitoSchema", "OperationRecord", "OperationReporter", "build_schema"]
