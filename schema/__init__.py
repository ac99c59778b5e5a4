"""The GraphQL schema (strawberry): composed from the roots, with error codes and caches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.context import Context
from schema.errors import ErrorCodes
from schema.extensions import DocumentCache, OperationNameRequired
from schema.mutations import Mutation
from schema.queries import Query
from schema.scalars import DateTime
from schema.subscriptions import Subscription

# Bounded: a client sending ever-new documents must not grow the server's memory.
DOCUMENT_CACHE_SIZE = 512


class KalitoSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Strawberry would log every error, expected ones included; ErrorCodes logs the
        unexpected ones, with their tracebacks, and nothing else."""


def build_schema(*, production: bool = False) -> KalitoSchema:
    extensions: list[Any] = [
        ErrorCodes,
        OperationNameRequired,
        lambda: DocumentCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
    ]
    if production:
        extensions.append(DisableIntrospection)
    return KalitoSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
    )


__all__ = ["Context", "KalitoSchema", "build_schema"]
