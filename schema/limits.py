"""Limits on what one GraphQL document may ask, checked before validation, and production's
silence about the schema (no "Did you mean ...?" hints).

A document over a limit gets one error (`GRAPHQL_VALIDATION_FAILED`, as Apollo Server codes
its limits) and is neither validated nor executed. A query that runs past the time limit
ends with `OPERATION_TIMEOUT`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import MaxTokensLimiter, SchemaExtension, ValidationCache
from strawberry.types.graphql import OperationType

from settings import Settings

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
OPERATION_TIMEOUT = "OPERATION_TIMEOUT"


@dataclass(frozen=True)
class Limits:
    """The GraphQL-level limits; `Settings` holds their defaults and reads them from the environment."""

    max_depth: int = Settings.max_query_depth
    max_aliases: int = Settings.max_aliases
    max_tokens: int = Settings.max_tokens
    max_directives: int = Settings.max_directives
    operation_timeout_seconds: float = Settings.operation_timeout_seconds
    batch_max_operations: int = Settings.batch_max_operations

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_directives=settings.max_directives,
            operation_timeout_seconds=settings.operation_timeout_seconds,
            batch_max_operations=settings.batch_max_operations,
        )


# --- measuring a document -------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """What a document asks for: its deepest selection (a field with a selection set is one
    level: `{ sessions { totalCount } }` is 1 deep), its aliases with every fragment spread
    expanded where it is spread, and its directives as written.

    Introspection (`__schema`, `__type` and all below them) adds no depth: graphql-core's own
    MaxIntrospectionDepthRule bounds its one costly cycle (`fields { type { fields ...`), and
    the depth limit is then free to fit the application's queries, GraphiQL working whatever it
    is set to. Introspection's aliases and directives count like any others."""

    depth: int
    aliases: int
    directives: int


@dataclass
class _Part:
    """One operation or fragment, before its spreads are resolved."""

    depth: int = 0
    aliases: int = 0
    directives: int = 0
    # (fragment name, depth where it is spread, or None inside introspection)
    spreads: list[tuple[str, int | None]] = field(default_factory=list)


def _walk(selection_set: SelectionSetNode) -> _Part:
    """One pass over a selection set without recursion: the parser bounds nesting, but not
    for every caller, and an explicit stack cannot overflow."""
    part = _Part()
    stack: list[tuple[SelectionSetNode, int | None]] = [(selection_set, 0)]
    while stack:
        selections, depth = stack.pop()
        for selection in selections.selections:
            part.directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                part.aliases += int(selection.alias is not None)
                if selection.selection_set is None:
                    continue
                if depth is None or selection.name.value.startswith("__"):
                    stack.append((selection.selection_set, None))
                else:
                    part.depth = max(part.depth, depth + 1)
                    stack.append((selection.selection_set, depth + 1))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, depth))
            elif isinstance(selection, FragmentSpreadNode):
                part.spreads.append((selection.name.value, depth))
    return part


def measure(document: DocumentNode) -> Shape:
    """The shape of `document`, in time linear in its size.

    Each fragment is measured once and its totals reused wherever it is spread, so a chain of
    fragments that each spread the next twice costs no more than it is long (strawberry's
    MaxAliasesLimiter and QueryDepthLimiter walk every spread again: 8.5 s for 22 such
    fragments, 231 tokens). Fragment cycles count once; validation refuses them afterwards.
    """
    parts: dict[str, _Part] = {}
    operations: list[_Part] = []
    directives = 0
    for definition in document.definitions:
        if not isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode)):
            continue
        part = _walk(definition.selection_set)
        directives += part.directives + len(definition.directives or ())
        if isinstance(definition, OperationDefinitionNode):
            directives += sum(len(variable.directives or ()) for variable in definition.variable_definitions or ())
            operations.append(part)
        else:
            parts.setdefault(definition.name.value, part)

    totals = _resolve_fragments(parts)
    depth = aliases = 0
    for operation in operations:
        op_depth, op_aliases = _total(operation, totals)
        depth = max(depth, op_depth)
        aliases = _capped(aliases + op_aliases)
    return Shape(depth=depth, aliases=aliases, directives=directives)


def _total(part: _Part, totals: dict[str, tuple[int, int]]) -> tuple[int, int]:
    depth, aliases = part.depth, part.aliases
    for name, at in part.spreads:
        fragment_depth, fragment_aliases = totals.get(name, (0, 0))
        if at is not None:
            depth = max(depth, at + fragment_depth)
        aliases = _capped(aliases + fragment_aliases)
    return depth, aliases


def _resolve_fragments(parts: dict[str, _Part]) -> dict[str, tuple[int, int]]:
    """(depth, aliases) of every fragment with its spreads expanded, depth-first without recursion."""
    totals: dict[str, tuple[int, int]] = {}
    in_progress: set[str] = set()
    for root in parts:
        stack = [root]
        while stack:
            name = stack[-1]
            if name in totals:
                stack.pop()
                continue
            in_progress.add(name)
            pending = [
                spread
                for spread, _ in parts[name].spreads
                if spread in parts and spread not in totals and spread not in in_progress
            ]
            if pending:
                stack.extend(pending)
                continue
            # A spread still in progress closes a cycle: it counts as empty here.
            totals[name] = _total(parts[name], totals)
            in_progress.discard(name)
            stack.pop()
    return totals


def _capped(count: int) -> int:
    # A chain of fragments that each spread the next twice doubles the count per link: keep
    # the numbers small, they only need to tell that a limit is passed.
    return min(count, 1 << 62)


# --- the extensions ---------------------------------------------------------------------------


def limit_error(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": VALIDATION_FAILED})


class DocumentLimits(ValidationCache):
    """Refuses a document over a limit with one error before validating it; validates the
    others, with ValidationCache's LRU.

    It is the validation cache itself because ValidationCache validates unconditionally (it
    would overwrite an earlier refusal), and strawberry's `_run_validation` skips validation
    once `pre_execution_errors` is set, so a refusal here is all the client gets: a thousand
    repeated `@include`s get one error, not a hundred from UniqueDirectivesPerLocationRule.

    Depth and aliases are measured here rather than with strawberry's QueryDepthLimiter and
    MaxAliasesLimiter, which are validation rules: they run alongside the other rules (their
    errors come with all the others), the depth rule reports every field past the limit, and
    both walk a fragment again at every spread (exponential, see `measure`).

    The token limit is graphql-core's, enforced while parsing (strawberry's MaxTokensLimiter
    sets it); this extension only gives its error, and that of a document nested deeper than
    the parser can recurse, the code of a limit.
    """

    def __init__(self, limits: Limits, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.limits = limits

    def refusal(self, shape: Shape) -> GraphQLError | None:
        limits = self.limits
        if shape.depth > limits.max_depth:
            return limit_error(f"The operation is {shape.depth} levels deep; the limit is {limits.max_depth}.")
        if shape.aliases > limits.max_aliases:
            return limit_error(f"The document has {shape.aliases} aliases; the limit is {limits.max_aliases}.")
        if shape.directives > limits.max_directives:
            return limit_error(f"The document has {shape.directives} directives; the limit is {limits.max_directives}.")
        return None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        refusal = self.refusal(measure(context.graphql_document))
        if refusal is None:
            yield from super().on_validate()
            return
        context.pre_execution_errors = [refusal]
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors and self.execution_context.graphql_document is None:
            result.errors = [self.parse_limit_error(error) or error for error in result.errors]

    def parse_limit_error(self, error: GraphQLError) -> GraphQLError | None:
        if error.message.endswith(f"Document contains more than {self.limits.max_tokens} tokens. Parsing aborted."):
            return limit_error(f"The document has more than {self.limits.max_tokens} tokens; that is the limit.")
        if error.message.endswith("Document is nested too deeply. Parsing aborted."):
            return limit_error("The document is nested too deeply.")
        return None


# graphql-core's did_you_mean(): " Did you mean 'a', 'b', or 'c'?", after an optional sub-message
# ("the enum value", "to use an inline fragment on"); every suggestion is a quoted GraphQL name.
_NAME = r"'[_A-Za-z][_0-9A-Za-z]*'"
DID_YOU_MEAN = re.compile(rf" ?Did you mean (?:[a-z ]+ )?{_NAME}(?:(?:, or |, | or ){_NAME})*\?")


def without_suggestions(message: str) -> str:
    return DID_YOU_MEAN.sub("", message)


class HideSuggestions(SchemaExtension):
    """Production mode: no "Did you mean ...?" in any error, so that guessing at names does not
    map the schema once introspection is off.

    graphql-core can leave the hints out (`hide_suggestions`, for validation and for variable
    coercion) but strawberry 0.341 passes that to neither, and its own
    `disable_field_suggestions` covers field names only. The hints all come from graphql-core's
    `did_you_mean()` (field, argument, type, input field and enum value names; in validation,
    in variable coercion and in literal coercion), whose fixed form is removed here, as Apollo
    Server does when it hides schema details.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [self.hidden(error) for error in result.errors]

    @staticmethod
    def hidden(error: GraphQLError) -> GraphQLError:
        message = without_suggestions(error.message)
        if message == error.message:
            return error
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions=error.extensions,
        )


class OperationTimeLimit(SchemaExtension):
    """Ends a query still executing after `seconds` with OPERATION_TIMEOUT.

    Queries only. Cancelling a query loses nothing. Cancelling a mutation could land between
    two of its root fields, each its own transaction (the first committed, the second not), or
    between a commit and the event it publishes, and on SQLite the statement would run on in
    aiosqlite's thread anyway. A mutation's own writes are a few statements on indexed rows;
    what can be slow is the selection it asks back, which the depth and alias limits bound.

    The limit interrupts at the next `await`: it bounds waiting on the database, not a stretch
    of synchronous work (parsing and validation, bounded by the document limits, run before).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def on_execute(self) -> AsyncIterator[None]:
        if self.execution_context.operation_type is not OperationType.QUERY:
            yield
            return
        try:
            async with asyncio.timeout(self.seconds):
                yield
        except TimeoutError:
            # Raised, not returned as a result: strawberry's execute() turns an exception from
            # the execution phase into a result with this one error (the data is gone with it).
            raise GraphQLError(
                f"The query did not finish within {self.seconds:g} seconds.",
                extensions={"code": OPERATION_TIMEOUT},
            ) from None


def limit_extensions(limits: Limits, *, production: bool, cache_size: int) -> list[Any]:
    """The extensions (as factories) that enforce `limits`, in the order build_schema lists them."""
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: DocumentLimits(limits, maxsize=cache_size),
    ]
    if limits.operation_timeout_seconds:
        extensions.append(lambda: OperationTimeLimit(limits.operation_timeout_seconds))
    if production:
        extensions.append(HideSuggestions)
    return extensions
