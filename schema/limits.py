"""Limits on what one GraphQL document may ask, checked before validation, and production's
silence about the schema (no "Did you mean ...?" hints).

A document over a limit, whose fragments form a cycle or that repeats a directive at one
location gets one error (`GRAPHQL_VALIDATION_FAILED`, as Apollo Server codes its limits) and is
neither validated nor executed. A query that runs past the time limit ends with `OPERATION_TIMEOUT`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Container, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import MaxTokensLimiter, SchemaExtension, ValidationCache
from strawberry.types.graphql import OperationType

from schema.deadlines import Deadlines
from schema.strawberry_adapter import graphql_schema
from settings import Settings

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
OPERATION_TIMEOUT = "OPERATION_TIMEOUT"


@dataclass(frozen=True)
class Limits:
    """The GraphQL-level limits; `Settings` holds their defaults and reads them from the environment."""

    max_depth: int = Settings.max_query_depth
    max_aliases: int = Settings.max_aliases
    max_fields: int = Settings.max_fields
    max_tokens: int = Settings.max_tokens
    max_directives: int = Settings.max_directives
    operation_timeout_seconds: float = Settings.operation_timeout_seconds
    batch_max_operations: int = Settings.batch_max_operations

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_fields=settings.max_fields,
            max_tokens=settings.max_tokens,
            max_directives=settings.max_directives,
            operation_timeout_seconds=settings.operation_timeout_seconds,
            batch_max_operations=settings.batch_max_operations,
        )


# --- measuring a document -------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """What a document asks for: its deepest selection (a field with a selection set is one
    level: `{ sessions { totalCount } }` is 1 deep), its aliases and its fields (`__typename`
    included) with every fragment spread expanded where it is spread, its directives as
    written, and the first directive it writes twice at one location (`repeated_directive`,
    None if it writes none; a repeatable directive may repeat).

    Introspection (`__schema`, `__type` and all below them) adds no depth: graphql-core's own
    MaxIntrospectionDepthRule bounds its one costly cycle (`fields { type { fields ...`), and
    the depth limit is then free to fit the application's queries, GraphiQL working whatever it
    is set to. Introspection's aliases, fields and directives count like any others: its fields
    are what that rule does not bound (`{ __schema { __typename __typename ... } }`, each
    duplicate compared with every other by OverlappingFieldsCanBeMergedRule, which gives up
    with a RecursionError by a thousand), and GraphiQL's introspection query has 226 fields with its
    fragments spread (graphql-core's fullest 230), under the default limit of 300."""

    depth: int
    aliases: int
    fields: int
    directives: int
    repeated_directive: str | None


@dataclass
class _Part:
    """One operation or fragment, before its spreads are resolved."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0
    directives: int = 0
    repeated_directive: str | None = None
    # (fragment name, depth where it is spread, or None inside introspection)
    spreads: list[tuple[str, int | None]] = field(default_factory=list)

    def count_directives(self, directives: Sequence[DirectiveNode] | None, repeatable: Container[str]) -> None:
        """Counts the directives of one location and notes the first that repeats there unless
        `repeatable` names it, in time linear in their number. Validation would answer an error
        per copy (KnownDirectivesRule for an unknown one, UniqueDirectivesPerLocationRule for a
        known one), which graphql-cop's "directive overloading" check reads as a server that
        works through every copy."""
        if not directives:
            return
        self.directives += len(directives)
        if len(directives) < 2 or self.repeated_directive is not None:
            return
        seen: set[str] = set()
        for directive in directives:
            name = directive.name.value
            if name in seen and name not in repeatable:
                self.repeated_directive = name
                return
            seen.add(name)


def _walk(definition: OperationDefinitionNode | FragmentDefinitionNode, repeatable: Container[str]) -> _Part:
    """One pass over an operation or a fragment without recursion: the parser bounds nesting,
    but not for every caller, and an explicit stack cannot overflow."""
    part = _Part()
    part.count_directives(definition.directives, repeatable)
    for variable in definition.variable_definitions or ():
        part.count_directives(variable.directives, repeatable)
    stack: list[tuple[SelectionSetNode, int | None]] = [(definition.selection_set, 0)]
    while stack:
        selections, depth = stack.pop()
        for selection in selections.selections:
            if selection.directives:
                part.count_directives(selection.directives, repeatable)
            if isinstance(selection, FieldNode):
                part.fields += 1
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


def measure(document: DocumentNode, repeatable: Container[str] = frozenset()) -> Shape:
    """The shape of `document`, in time linear in its size; `repeatable` names the directives
    that may appear more than once at one location.

    Each fragment is measured once and its totals reused wherever it is spread, so a chain of
    fragments that each spread the next twice costs no more than it is long (strawberry's
    MaxAliasesLimiter and QueryDepthLimiter walk every spread again: 8.5 s for 22 such
    fragments, 231 tokens).

    Raises FragmentCycle if the fragments spread one another in a cycle: such a document has no
    finite shape.
    """
    parts: dict[str, _Part] = {}
    operations: list[_Part] = []
    directives = 0
    repeated_directive: str | None = None
    for definition in document.definitions:
        if not isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode)):
            continue
        part = _walk(definition, repeatable)
        directives += part.directives
        # from every definition, a fragment's second definition included (validation refuses it)
        repeated_directive = repeated_directive or part.repeated_directive
        if isinstance(definition, OperationDefinitionNode):
            operations.append(part)
        else:
            parts.setdefault(definition.name.value, part)

    totals = _resolve_fragments(parts)
    depth = aliases = fields = 0
    for operation in operations:
        total = _total(operation, totals)
        depth = max(depth, total.depth)
        aliases = _capped(aliases + total.aliases)
        fields = _capped(fields + total.fields)
    return Shape(
        depth=depth, aliases=aliases, fields=fields, directives=directives, repeated_directive=repeated_directive
    )


class _Total(NamedTuple):
    """An operation's or a fragment's counts with its spreads expanded."""

    depth: int
    aliases: int
    fields: int


# What the spread of an unknown fragment adds: validation refuses it afterwards.
_NOTHING = _Total(0, 0, 0)


class FragmentCycle(Exception):
    """Fragments that spread one another in a cycle, given in the order they spread with the
    first again at the end: ["F1", "F2", "F1"]."""

    def __init__(self, cycle: list[str]) -> None:
        names, path = cycle[:-1], " → ".join(cycle)
        if len(names) == 1:
            super().__init__(f"The fragment {names[0]} forms a cycle ({path}).")
        else:
            super().__init__(f"The fragments {', '.join(names)} form a cycle ({path}).")


def _total(part: _Part, totals: dict[str, _Total]) -> _Total:
    depth, aliases, fields = part.depth, part.aliases, part.fields
    for name, at in part.spreads:
        fragment = totals.get(name, _NOTHING)
        if at is not None:
            depth = max(depth, at + fragment.depth)
        aliases = _capped(aliases + fragment.aliases)
        fields = _capped(fields + fragment.fields)
    return _Total(depth, aliases, fields)


def _resolve_fragments(parts: dict[str, _Part]) -> dict[str, _Total]:
    """The totals of every fragment with its spreads expanded, depth-first without recursion;
    FragmentCycle at the first spread of a fragment still being resolved.

    Every fragment is entered once and each of its spreads looked at once: linear time, used
    or not (graphql-core's NoFragmentCyclesRule refuses a cycle among unused fragments too)."""
    totals: dict[str, _Total] = {}
    for root in parts:
        if root in totals:
            continue
        # The fragments being resolved, each spreading the next, with their position in the
        # path and what is left of their spreads.
        path = [root]
        position = {root: 0}
        remaining = [iter(parts[root].spreads)]
        while path:
            spread = next((name for name, _ in remaining[-1] if name in parts and name not in totals), None)
            if spread is None:
                name = path.pop()
                del position[name]
                remaining.pop()
                totals[name] = _total(parts[name], totals)
            elif spread in position:
                raise FragmentCycle([*path[position[spread] :], spread])
            else:
                position[spread] = len(path)
                path.append(spread)
                remaining.append(iter(parts[spread].spreads))
    return totals


def _capped(count: int) -> int:
    # A chain of fragments that each spread the next twice doubles the counts per link: keep
    # the numbers small, they only need to tell that a limit is passed.
    return min(count, 1 << 62)


# --- the extensions ---------------------------------------------------------------------------


def limit_error(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": VALIDATION_FAILED})


class DocumentLimits(ValidationCache):
    """Refuses a document over a limit, whose fragments form a cycle or that repeats a
    directive at one location, with one error before validating it; validates the others, with
    ValidationCache's LRU.

    It is the validation cache itself because ValidationCache validates unconditionally (it
    would overwrite an earlier refusal), and strawberry's `_run_validation` skips validation
    once `pre_execution_errors` is set, so a refusal here is all the client gets: ten `@aa` on
    one field get one error, not ten from KnownDirectivesRule, and a thousand repeated
    `@include`s one, not a hundred from UniqueDirectivesPerLocationRule.

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

    def refusal(self, document: DocumentNode, schema: GraphQLSchema) -> GraphQLError | None:
        try:
            shape = measure(document, {directive.name for directive in schema.directives if directive.is_repeatable})
        except FragmentCycle as cycle:
            # Named as a cycle: graphql-core's NoFragmentCyclesRule would say "Cannot spread
            # fragment 'F1' within itself via 'F2'.", which scanners do not read as one.
            return limit_error(str(cycle))
        limits = self.limits
        if shape.depth > limits.max_depth:
            return limit_error(f"The operation is {shape.depth} levels deep; the limit is {limits.max_depth}.")
        if shape.aliases > limits.max_aliases:
            return limit_error(f"The document has {shape.aliases} aliases; the limit is {limits.max_aliases}.")
        if shape.fields > limits.max_fields:
            return limit_error(f"The document has {shape.fields} fields; the limit is {limits.max_fields}.")
        if shape.directives > limits.max_directives:
            return limit_error(f"The document has {shape.directives} directives; the limit is {limits.max_directives}.")
        if shape.repeated_directive is not None:
            name = shape.repeated_directive
            return limit_error(f"The directive @{name} is repeated at one location; it may appear once per location.")
        return None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        refusal = self.refusal(context.graphql_document, graphql_schema(context.schema))
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

    def __init__(self, deadlines: Deadlines) -> None:
        self.deadlines = deadlines

    async def on_execute(self) -> AsyncIterator[None]:
        if self.execution_context.operation_type is not OperationType.QUERY:
            yield
            return
        try:
            async with self.deadlines.limit():
                yield
        except TimeoutError:
            # Raised, not returned as a result: strawberry's execute() turns an exception from
            # the execution phase into a result with this one error (the data is gone with it).
            raise operation_timeout_error(self.deadlines.seconds) from None


def operation_timeout_error(seconds: float) -> GraphQLError:
    return GraphQLError(f"The query did not finish within {seconds:g} seconds.", extensions={"code": OPERATION_TIMEOUT})


def limit_extensions(limits: Limits, deadlines: Deadlines | None, *, production: bool, cache_size: int) -> list[Any]:
    """The extensions (as factories) that enforce `limits`, in the order build_schema lists them;
    `deadlines` keeps the operation time limit (None: no limit)."""
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: DocumentLimits(limits, maxsize=cache_size),
    ]
    if deadlines is not None:
        extensions.append(lambda: OperationTimeLimit(deadlines))
    if production:
        extensions.append(HideSuggestions)
    return extensions
