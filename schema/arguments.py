"""A field's arguments converted to its resolver's Python values, by converters built once.

Strawberry's `convert_arguments` works out each argument's type anew on every call: it
resolves annotations, converts names and asks what kind of type each one is, for every field
of every input object. For `sessions(filter: ..., after: ...)` that was a quarter of a planned
request, more than the database's part. The converters here make the same decisions once per
field, when a plan is compiled, and keep only what varies with the request: the values.

They follow strawberry's `convert_argument` (0.341) case by case, for the types this schema's
arguments have: scalars, enums, lists, and input objects built from their fields. A type
outside those (`Maybe`, a GlobalID, an input with its own `from_input`) raises Unconvertible,
and the plan converts that field's arguments with strawberry's own function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    StrawberryType,
    has_object_definition,
)
from strawberry.types.enum import has_enum_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

from schema.strawberry_adapter import is_leaf_type, is_optional_leaf_type

Converter = Callable[[Any], Any]
Registry = Mapping[object, Any]


class Unconvertible(Exception):
    """An argument type that these converters do not follow: strawberry converts it."""


def field_converters(
    field: StrawberryField, registry: Registry, config: StrawberryConfig
) -> list[tuple[str, str, Converter]]:
    """(GraphQL name, Python name, converter) of each argument of `field`, as convert_arguments
    uses them: an argument the request does not give is left out of the resolver's kwargs."""
    return [
        (
            config.name_converter.from_argument(argument),
            argument.python_name,
            converter(argument.type, registry, config),
        )
        for argument in field.arguments
    ]


def convert(converters: list[tuple[str, str, Converter]], raw: Mapping[str, Any]) -> dict[str, Any]:
    return {python_name: convert(raw[name]) for name, python_name, convert in converters if name in raw}


def converter(type_: StrawberryType | type, registry: Registry, config: StrawberryConfig) -> Converter:
    """The value of an argument of `type_`, as strawberry's convert_argument makes it."""
    if isinstance(type_, StrawberryMaybe):
        raise Unconvertible("Maybe")
    if isinstance(type_, StrawberryOptional):
        return converter(type_.of_type, registry, config)
    if isinstance(type_, LazyType):
        return converter(type_.resolve_type(), registry, config)
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        if is_leaf_type(item, registry, skip_classes=(GlobalID,)) or is_optional_leaf_type(
            item, registry, skip_classes=(GlobalID,)
        ):
            # copied: graphql-core hands every request that omits the value the same default list
            return _unless_absent(list)
        convert_item = converter(item, registry, config)
        return _unless_absent(lambda values: [convert_item(value) for value in values])
    if type_ is GlobalID:
        raise Unconvertible("GlobalID")
    if is_leaf_type(type_, registry) or has_enum_definition(type_):
        return _unless_absent(_identity)  # graphql-core has already parsed scalars and enums
    if has_object_definition(type_):
        return _unless_absent(_input_object(type_, registry, config))
    raise Unconvertible(str(type_))


def _input_object(type_: Any, registry: Registry, config: StrawberryConfig) -> Converter:
    definition = type_.__strawberry_definition__
    if definition.from_input is not None:
        raise Unconvertible(f"{definition.name} builds itself")
    # An input's fields without a default get None unless given (graphql-core has checked
    # that the non-null ones are).
    implicit = {
        field.python_name: None
        for field in definition.fields
        if definition.is_input and field.default_value is MISSING and field.default_factory is MISSING
    }
    fields = [
        (
            config.name_converter.from_field(field),
            field.python_name,
            converter(field.resolve_type(type_definition=definition), registry, config),
        )
        for field in definition.fields
    ]

    def build(value: Mapping[str, Any]) -> Any:
        kwargs = dict(implicit)
        for name, python_name, convert_field in fields:
            if name in value:
                kwargs[python_name] = convert_field(value[name])
        return type_(**kwargs)

    return build


def _unless_absent(convert_value: Converter) -> Converter:
    """null stays None and an unset value UNSET, whatever the type (convert_argument's order)."""

    def convert_present(value: Any) -> Any:
        return value if value is None or value is UNSET else convert_value(value)

    return convert_present


def _identity(value: Any) -> Any:
    return value
