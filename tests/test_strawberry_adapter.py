"""What schema/strawberry_adapter.py relies on in strawberry's and graphql-core's internals, one
test per behaviour: an upgrade that changes one fails here by name, before the plans do."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import FieldNode, GraphQLSchema, OperationDefinitionNode, VariableDefinitionNode, parse
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType

from schema import KalitoSchema, build_schema, strawberry_adapter
from schema.batches import batch_of
from schema.context import MESSAGE_COUNTS, PERSONAS
from schema.inputs import SessionFilter
from schema.strawberry_adapter import VariableValues


@pytest.fixture(scope="module")
def kalito() -> KalitoSchema:
    return build_schema(compiled_operations=False)


@pytest.fixture(scope="module")
def graphql(kalito: KalitoSchema) -> GraphQLSchema:
    return strawberry_adapter.graphql_schema(kalito)


def operation(document: str) -> OperationDefinitionNode:
    (node,) = parse(document).definitions
    assert isinstance(node, OperationDefinitionNode)
    return node


def variables_of(document: str) -> tuple[VariableDefinitionNode, ...]:
    return operation(document).variable_definitions or ()


def root_field(document: str) -> FieldNode:
    (node,) = operation(document).selection_set.selections
    assert isinstance(node, FieldNode)
    return node


def field_of(graphql: GraphQLSchema, type_name: str, name: str) -> StrawberryField:
    field = strawberry_adapter.strawberry_field(graphql.get_type(type_name).fields[name])  # type: ignore[union-attr]
    assert field is not None
    return field


# --- strawberry ---------------------------------------------------------------------------------


def test_the_graphql_schema_is_the_one_strawberry_built(kalito: KalitoSchema, graphql: GraphQLSchema) -> None:
    assert isinstance(graphql, GraphQLSchema)
    assert graphql.query_type is not None and graphql.query_type.name == "Query"
    assert set(graphql.query_type.fields) == {"session", "sessions", "persona", "personas", "viewer"}


def test_the_provided_operation_name_is_what_the_request_sent(kalito: KalitoSchema) -> None:
    document = "query A { __typename } query B { __typename }"
    context = ExecutionContext(query=document, schema=kalito, allowed_operations=[OperationType.QUERY])
    context.graphql_document = parse(document)
    assert strawberry_adapter.provided_operation_name(context) is None
    assert context.operation_name == "A"  # the public name falls back to the first operation's
    named = ExecutionContext(document, kalito, [OperationType.QUERY], provided_operation_name="B")
    assert strawberry_adapter.provided_operation_name(named) == "B"


def test_each_graphql_field_leads_back_to_its_strawberry_field(graphql: GraphQLSchema) -> None:
    session = field_of(graphql, "Query", "session")
    assert session.base_resolver is not None and session.python_name == "session"
    assert field_of(graphql, "Session", "createdAt").base_resolver is None
    # the batch metadata strawberry.field(metadata=...) was given, which the plans read
    assert batch_of(field_of(graphql, "Session", "persona").metadata) is PERSONAS
    assert batch_of(field_of(graphql, "Session", "messageCount").metadata) is MESSAGE_COUNTS
    assert batch_of(field_of(graphql, "Session", "messages").metadata) is None
    assert graphql.mutation_type is not None
    purge = graphql.mutation_type.fields["purgeEphemeralSessions"]
    argument = strawberry_adapter.strawberry_argument(purge.args["idleSeconds"])
    assert argument.python_name == "idle_seconds"


def test_the_argument_conversion_has_the_schemas_scalars_and_config(kalito: KalitoSchema) -> None:
    conversion = strawberry_adapter.argument_conversion(kalito)
    assert isinstance(conversion.config, StrawberryConfig)
    assert strawberry_adapter.is_leaf_type(str, conversion.registry)
    assert not strawberry_adapter.is_leaf_type(SessionFilter, conversion.registry)
    assert strawberry_adapter.is_optional_leaf_type(StrawberryOptional(str), conversion.registry)
    assert not strawberry_adapter.is_optional_leaf_type(str, conversion.registry)
    assert not strawberry_adapter.is_leaf_type(str, conversion.registry, skip_classes=(str,))


def test_strawberrys_own_conversion_builds_inputs_and_passes_self(kalito: KalitoSchema, graphql: GraphQLSchema) -> None:
    sessions = field_of(graphql, "Query", "sessions")
    source = object()
    args, kwargs = strawberry_adapter.strawberry_arguments(
        sessions,
        source,
        None,
        {"filter": {"saved": None, "search": "trip"}},
        strawberry_adapter.argument_conversion(kalito),
    )
    assert args == [source]
    assert isinstance(kwargs["filter"], SessionFilter)
    assert (kwargs["filter"].saved, kwargs["filter"].search) == (None, "trip")


def test_a_resolvers_call_adds_what_it_asks_for(graphql: GraphQLSchema) -> None:
    source, info = object(), object()
    persona = field_of(graphql, "Session", "persona")  # (self, info)
    assert strawberry_adapter.resolver_call(persona, source, info, {}) == ([source], {"info": info})
    purge = field_of(graphql, "Mutation", "purgeEphemeralSessions")  # (self, info, idle_seconds)
    assert strawberry_adapter.resolver_call(purge, source, info, {"idle_seconds": 5}) == (
        [source],
        {"idle_seconds": 5, "info": info},
    )
    assert strawberry_adapter.asks_for_self_and_info_only(field_of(graphql, "Query", "session"))
    assert strawberry_adapter.asks_for_self_and_info_only(persona)
    assert not strawberry_adapter.asks_for_self_and_info_only(field_of(graphql, "Session", "id"))  # no resolver
    assert strawberry_adapter.info_parameter(persona) == "info"


def test_what_a_resolver_reads_of_its_info_is_read_from_its_source(graphql: GraphQLSchema) -> None:
    assert strawberry_adapter.context_reads(field_of(graphql, "Query", "session")) == frozenset({"owner"})
    assert strawberry_adapter.context_reads(field_of(graphql, "Session", "persona")) == frozenset({"load_batched"})
    assert strawberry_adapter.context_reads(field_of(graphql, "PageInfo", "hasNextPage")) == frozenset()

    @strawberry.type
    class Hazards:
        @strawberry.field
        def headers(self, info: strawberry.Info) -> str:
            return str(info.context.request.headers)

        @strawberry.field
        def handed_on(self, info: strawberry.Info) -> str:
            return str(vars(info))

        @strawberry.field
        def field_name(self, info: strawberry.Info) -> str:
            return info.field_name

        @strawberry.field
        def settings(self, info: strawberry.Info) -> bool:
            return bool(info.context.settings.production and info.context.owner)

    hazards = Hazards.__strawberry_definition__.fields  # type: ignore[attr-defined]
    reads = {field.python_name: strawberry_adapter.context_reads(field) for field in hazards}
    assert reads == {"headers": {"request"}, "handed_on": None, "field_name": None, "settings": {"settings", "owner"}}


# --- graphql-core -------------------------------------------------------------------------------

SESSIONS = """query ($saved: Boolean, $search: String = "trip", $first: Int, $order: SessionOrder = NAME_ASC) {
  sessions(filter: {saved: $saved, search: $search}, first: $first, orderBy: $order) { totalCount }
}"""


def test_variables_coerce_to_variable_values_with_defaults(graphql: GraphQLSchema) -> None:
    definitions = variables_of(SESSIONS)
    coerced = strawberry_adapter.coerce_variables(graphql, definitions, {"saved": None, "first": 2})
    assert isinstance(coerced, VariableValues)
    order = coerced.coerced.pop("order")  # the enum's Python value, as strawberry's enums give it
    assert (coerced.coerced, order.name) == ({"saved": None, "search": "trip", "first": 2}, "NAME_ASC")
    assert strawberry_adapter.coerce_variables(graphql, definitions, {"first": "two"}) is None


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        # a variable sent null inside a literal is null; one not sent falls to the variable's default
        ({"saved": None}, {"filter": {"saved": None, "search": "trip"}, "orderBy": "NAME_ASC"}),
        # a variable not sent inside an input literal: the input field's own default (saved: true)
        ({}, {"filter": {"saved": True, "search": "trip"}, "orderBy": "NAME_ASC"}),
        ({"first": 3, "search": "x"}, {"filter": {"saved": True, "search": "x"}, "first": 3, "orderBy": "NAME_ASC"}),
    ],
)
def test_arguments_read_variables_inside_literals(
    graphql: GraphQLSchema, variables: dict[str, Any], expected: dict[str, Any]
) -> None:
    definitions = variables_of(SESSIONS)
    coerced = strawberry_adapter.coerce_variables(graphql, definitions, variables)
    assert coerced is not None
    definition = graphql.query_type.fields["sessions"]  # type: ignore[union-attr]
    values = strawberry_adapter.argument_values(definition, root_field(SESSIONS), coerced)
    enum = values.pop("orderBy")
    assert {**values, "orderBy": enum.name} == {
        "first": None,
        "after": None,
        "last": None,
        "before": None,
        **expected,
        "filter": {"personaId": None, "model": None, "updatedAfter": None, "updatedBefore": None, **expected["filter"]},
    }


def test_scalar_variables_coerced_apart_read_as_graphql_cores(graphql: GraphQLSchema) -> None:
    """The plans' fast coercion of built-in scalars makes the same VariableValues: a variable
    alone, inside a list literal beside a literal, inside an input-object literal."""
    document = 'mutation ($id: ID!) { deleteSessions(ids: [$id, "x"]) }'
    definitions = variables_of(document)
    signatures = strawberry_adapter.scalar_signatures(graphql, definitions)
    fast = strawberry_adapter.scalar_variable_values(signatures, {"id": "s1"}, {"id": "s1"})
    full = strawberry_adapter.coerce_variables(graphql, definitions, {"id": "s1"})
    assert full is not None and fast.coerced == full.coerced

    def sources(values: VariableValues) -> dict[str, tuple[str, str, Any]]:
        return {
            name: (source.signature.name, str(source.signature.type), source.value)
            for name, source in values.sources.items()
        }

    assert sources(fast) == sources(full)
    definition = graphql.mutation_type.fields["deleteSessions"]  # type: ignore[union-attr]
    assert strawberry_adapter.argument_values(definition, root_field(document), fast) == {"ids": ["s1", "x"]}


def test_a_signature_of_a_type_that_is_no_input_is_refused(graphql: GraphQLSchema) -> None:
    with pytest.raises(Exception, match="cannot be used as an input type"):
        strawberry_adapter.scalar_signatures(graphql, variables_of("query ($s: Session) { __typename }"))
