"""The converters built once per field (schema/arguments.py) give every resolver of the schema
exactly what strawberry's `convert_arguments` gives it, for any arguments a request can carry."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from schema import arguments, build_schema

SCHEMA = build_schema()
CONVERTER = SCHEMA.schema_converter
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "ID": st.text(max_size=8),
    "String": st.text(max_size=8),
    "Int": st.integers(-(2**31), 2**31 - 1),
    "Float": st.floats(allow_nan=False),
    "Boolean": st.booleans(),
    "DateTime": st.datetimes(),
    # any JSON value, as graphql-core hands it over (strawberry's JSON scalar parses nothing)
    "JSON": st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda items: st.lists(items, max_size=3) | st.dictionaries(st.text(max_size=4), items, max_size=3),
        max_leaves=6,
    ),
}


def fields_with_arguments() -> list[tuple[str, StrawberryField, dict[str, GraphQLArgument]]]:
    found = []
    for graphql_type in SCHEMA._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for name, definition in graphql_type.fields.items():
            strawberry_field = definition.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if strawberry_field is not None and definition.args:
                found.append((f"{graphql_type.name}.{name}", strawberry_field, definition.args))
    return found


FIELDS = fields_with_arguments()


def values_of(graphql_type: GraphQLInputType) -> st.SearchStrategy[Any]:
    """What graphql-core hands over for an input of this type, once coerced."""
    if isinstance(graphql_type, GraphQLNonNull):
        return present_values_of(graphql_type.of_type)
    return st.none() | present_values_of(graphql_type)


def present_values_of(graphql_type: GraphQLInputType) -> st.SearchStrategy[Any]:
    if isinstance(graphql_type, GraphQLScalarType):
        return SCALARS[graphql_type.name]
    if isinstance(graphql_type, GraphQLEnumType):
        return st.sampled_from([value.value for value in graphql_type.values.values()])
    if isinstance(graphql_type, GraphQLList):
        return st.lists(values_of(graphql_type.of_type), max_size=3)
    assert isinstance(graphql_type, GraphQLInputObjectType)
    return given_subset({name: field.type for name, field in graphql_type.fields.items()})


def given_subset(types: dict[str, GraphQLInputType]) -> st.SearchStrategy[dict[str, Any]]:
    """Some of the named values: an omitted one is absent from the dict, as graphql-core leaves it."""
    return st.fixed_dictionaries({}, optional={name: values_of(graphql_type) for name, graphql_type in types.items()})


def test_every_argument_of_the_schema_has_converters() -> None:
    assert len(FIELDS) > 10
    for _, strawberry_field, _ in FIELDS:
        arguments.field_converters(strawberry_field, CONVERTER.scalar_registry, CONVERTER.config)


@pytest.mark.parametrize(("name", "strawberry_field", "graphql_arguments"), FIELDS, ids=[name for name, *_ in FIELDS])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_converters_give_what_strawberry_gives(
    name: str, strawberry_field: StrawberryField, graphql_arguments: dict[str, GraphQLArgument], data: st.DataObject
) -> None:
    raw = data.draw(given_subset({key: argument.type for key, argument in graphql_arguments.items()}))
    converters = arguments.field_converters(strawberry_field, CONVERTER.scalar_registry, CONVERTER.config)
    expected = convert_arguments(raw, strawberry_field.arguments, CONVERTER.scalar_registry, CONVERTER.config)
    converted = arguments.convert(converters, raw)
    assert converted == expected
    assert [type(value) for value in converted.values()] == [type(value) for value in expected.values()]
