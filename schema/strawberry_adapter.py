"""The one door to what the project uses of strawberry's and graphql-core's internals.

The compiled plans (schema/plans.py) and the argument converters (schema/arguments.py) do,
faster, what strawberry's execution does: they need the GraphQL schema strawberry built, the
strawberry field behind each GraphQL field, graphql-core's coercion of variables and arguments,
and strawberry's own argument conversion where theirs does not apply. None of that is
strawberry's documented API, and graphql-core changed the shape of its variables between 3.2
(a plain dict) and 3.3 (`VariableValues`): an upgrade of either library is this file, and
tests/test_strawberry_adapter.py pins each behaviour relied on here.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

import strawberry
from graphql import (
    DirectiveNode,
    FieldNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    VariableDefinitionNode,
)
from graphql.execution.get_variable_signature import GraphQLVariableSignature, get_variable_signature
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_argument_values,
    get_variable_values,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema_converter import GraphQLCoreConverter, get_arguments
from strawberry.types import ExecutionContext
from strawberry.types.arguments import StrawberryArgument, _is_leaf_type, _is_optional_leaf_type
from strawberry.types.base import StrawberryType
from strawberry.types.field import StrawberryField

__all__ = [
    "ArgumentConversion",
    "VariableValues",
    "argument_conversion",
    "argument_values",
    "asks_for_self_and_info_only",
    "coerce_variables",
    "context_reads",
    "graphql_schema",
    "is_leaf_type",
    "is_optional_leaf_type",
    "provided_operation_name",
    "resolver_call",
    "scalar_signatures",
    "scalar_variable_values",
    "strawberry_argument",
    "strawberry_arguments",
    "strawberry_field",
]

Registry = Mapping[object, Any]


# --- strawberry ---------------------------------------------------------------------------------


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema strawberry built and executes against."""
    return schema._schema


def provided_operation_name(context: ExecutionContext) -> str | None:
    """The request's `operationName` as sent: the public `operation_name` falls back to the
    name of the document's first operation."""
    return context._provided_operation_name


def strawberry_field(definition: GraphQLField) -> StrawberryField | None:
    """The strawberry field a GraphQL field was converted from (None for one strawberry did not make)."""
    field = definition.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return field if isinstance(field, StrawberryField) else None


def strawberry_argument(argument: GraphQLArgument) -> StrawberryArgument:
    found = argument.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
    assert isinstance(found, StrawberryArgument)
    return found


class ArgumentConversion(NamedTuple):
    """What strawberry's argument conversion reads besides the values: its scalars and config."""

    registry: Registry
    config: StrawberryConfig


def argument_conversion(schema: strawberry.Schema) -> ArgumentConversion:
    converter = schema.schema_converter
    return ArgumentConversion(converter.scalar_registry, converter.config)


def is_leaf_type(type_: StrawberryType | type, registry: Registry, skip_classes: tuple[type, ...] = ()) -> bool:
    """strawberry's own test, in convert_argument, of a type it passes through unconverted."""
    return _is_leaf_type(type_, registry, skip_classes)


def is_optional_leaf_type(
    type_: StrawberryType | type, registry: Registry, skip_classes: tuple[type, ...] = ()
) -> bool:
    return _is_optional_leaf_type(type_, registry, skip_classes)


def strawberry_arguments(
    field: StrawberryField, source: Any, info: Any, raw: dict[str, Any], conversion: ArgumentConversion
) -> tuple[list[Any], dict[str, Any]]:
    """The resolver's (args, kwargs) exactly as strawberry makes them from graphql-core's
    argument values: converted, reshaped by the field's extensions, with self, info and root."""
    return get_arguments(
        field=field,
        source=source,
        info=info,
        kwargs=raw,
        config=conversion.config,
        scalar_registry=conversion.registry,
    )


def resolver_call(
    field: StrawberryField, source: Any, info: Any, kwargs: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """The resolver's (args, kwargs) around arguments already converted: what strawberry's
    get_arguments adds after its conversion (self, parent, root and info, as the resolver asks)."""
    resolver = field.base_resolver
    assert resolver is not None
    args = [source] if resolver.self_parameter else []
    for parameter in (resolver.parent_parameter, resolver.root_parameter):
        if parameter:
            kwargs[parameter.name] = source
    if resolver.info_parameter:
        kwargs[resolver.info_parameter.name] = info
    return args, kwargs


def asks_for_self_and_info_only(field: StrawberryField) -> bool:
    """Whether strawberry calls the resolver with `self`, its arguments and at most `info`:
    no parent or root parameter, no field extension to reshape the arguments."""
    resolver = field.base_resolver
    return (
        resolver is not None
        and not field.extensions
        and resolver.self_parameter is not None
        and not resolver.parent_parameter
        and not resolver.root_parameter
    )


def info_parameter(field: StrawberryField) -> str | None:
    """The name of the resolver's `info` parameter, if it has one."""
    resolver = field.base_resolver
    return resolver.info_parameter.name if resolver is not None and resolver.info_parameter else None


@functools.cache
def context_reads(field: StrawberryField) -> frozenset[str] | None:
    """The attributes of `info.context` the resolver reads (empty when it takes no info); None
    when it uses `info` otherwise (reads another attribute of it, hands it on, or its source
    cannot be read), which no one can vouch for. Read from the resolver's source, once."""
    name = info_parameter(field)
    if name is None:
        return frozenset()
    resolver = field.base_resolver
    assert resolver is not None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(resolver.wrapped_func)))  # type: ignore[arg-type]
    except (OSError, TypeError, SyntaxError):
        return None
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    reads = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == name) or isinstance(parents.get(node), ast.arg):
            continue
        context = parents.get(node)
        attribute = parents.get(context) if context is not None else None
        if not (
            isinstance(context, ast.Attribute)
            and context.attr == "context"
            and isinstance(attribute, ast.Attribute)
            and attribute.value is context
        ):
            return None
        reads.add(attribute.attr)
    return frozenset(reads)


# --- graphql-core -------------------------------------------------------------------------------


def coerce_variables(
    schema: GraphQLSchema, definitions: Collection[VariableDefinitionNode], inputs: dict[str, Any]
) -> VariableValues | None:
    """The variables as graphql-core's execution coerces them, or None when they are invalid."""
    coerced = get_variable_values(schema, definitions, inputs)
    return None if isinstance(coerced, list) else coerced


def scalar_signatures(
    schema: GraphQLSchema, definitions: Sequence[VariableDefinitionNode]
) -> tuple[GraphQLVariableSignature, ...]:
    """Each variable's signature (its name, type and default), as coerce_variables works it out."""
    signatures = []
    for definition in definitions:
        signature = get_variable_signature(schema, definition)
        if isinstance(signature, GraphQLError):
            raise signature  # validation refuses such a document before any plan is made
        signatures.append(signature)
    return tuple(signatures)


def scalar_variable_values(
    signatures: Sequence[GraphQLVariableSignature], inputs: Mapping[str, Any], coerced: dict[str, Any]
) -> VariableValues:
    """The VariableValues of variables coerced without graphql-core's walk: the same two
    dicts its coercion makes, the values as sent (the sources) and as coerced."""
    sources = {signature.name: VariableValueSource(signature, inputs[signature.name]) for signature in signatures}
    return VariableValues(sources, coerced)


def argument_values(
    definition: GraphQLField, node: FieldNode | DirectiveNode, variables: VariableValues
) -> dict[str, Any]:
    """A field's arguments as graphql-core's execution coerces them: literals, variables
    (alone or inside literals), defaults, out names."""
    return get_argument_values(definition, node, variables)
