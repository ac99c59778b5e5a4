"""Schema extensions that make strawberry follow the GraphQL spec where it does not by itself."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode
from strawberry.extensions import ParserCache, SchemaExtension

from schema.strawberry_adapter import provided_operation_name


class DocumentCache(ParserCache):
    """ParserCache, except that a document which does not parse is left to Strawberry.

    ParserCache raises the syntax error from its hook, past the operation, so it would reach
    the client without a code; Strawberry's own parse (inside the operation) reports it as a
    result that ErrorCodes marks GRAPHQL_PARSE_FAILED. Only failing documents parse twice.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        yield


class OperationNameRequired(SchemaExtension):
    """A document with several operations needs `operationName` (the spec's GetOperation);
    strawberry would quietly run the first one."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operations = [
            node for node in (document.definitions if document else ()) if isinstance(node, OperationDefinitionNode)
        ]
        # strawberry's public `operation_name` falls back to the first operation's name
        if len(operations) > 1 and provided_operation_name(context) is None:
            context.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "Must provide operationName when the document contains several operations",
                        extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                    )
                ],
            )
        yield
