"""GraphQL fields made from the models' column declarations (models/columns.py).

An output type or an input names its table's row type, and gets a field per column before
strawberry reads the class, so that a column declared in `models/` is in the API with nothing
more written here:

    @strawberry.type(description="One conversation with the assistant.")
    class Session(ColumnFields[models.SessionRow]):
        ...  # the fields with resolvers, after the columns

- `ColumnFields`: every exposed column (not the owner), named and described as declared, typed by its storage type
  (ID for keys, an enum column's Python enum, a JSON column's declared `value_type`: a list as
  a GraphQL list, a map as the JSON scalar; null where the column is nullable);
  `from_model(row)` makes the object.
- `CreateFields`: the key (optional: generated when omitted) and the columns written at
  creation; a NOT NULL column without a default is required, the others default to null (or
  to the declared default).
- `UpdateFields`: the key (required) and the columns clients may change, each left out
  unless given: `changes()` answers those the client sent.
"""

from __future__ import annotations

import enum
import inspect
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, get_args, get_origin

import strawberry
from strawberry.scalars import JSON
from strawberry.types.field import StrawberryField

from models.columns import Column, Row

RowT = TypeVar("RowT", bound=Row)


def graphql_type(column: Column) -> Any:
    """The Python annotation strawberry reads the column's GraphQL type from."""
    value_type: Any = strawberry.ID if column.is_key else column.value_type
    if get_origin(value_type) is dict:  # a map has no GraphQL type but the JSON scalar
        value_type = JSON
    if isinstance(value_type, enum.EnumMeta) and not hasattr(value_type, "__strawberry_definition__"):
        # The enum of a column is a GraphQL enum of its own, described by its docstring; made
        # once, by the first type or input that has the column.
        strawberry.enum(value_type, description=value_type.__dict__.get("__doc__"))
    return value_type | None if column.nullable else value_type


def _row_of(cls: type) -> type[Row]:
    """The row type a class names in its base: `class Session(ColumnFields[models.SessionRow])`."""
    for base in cls.__dict__.get("__orig_bases__", ()):
        for argument in get_args(base):
            if isinstance(argument, type) and issubclass(argument, Row):
                return argument
    raise TypeError(f"{cls.__name__} must name its row type, e.g. ColumnFields[models.SessionRow]")


Fields = dict[str, tuple[Any, StrawberryField]]  # attribute -> (annotation, strawberry field)


def _add_fields(cls: type, fields: Fields) -> None:
    """Put the fields first in the class, before those it declares itself, as strawberry reads them."""
    own = inspect.get_annotations(cls)
    if clash := fields.keys() & (own.keys() | vars(cls).keys()):
        raise TypeError(f"{cls.__name__} declares {', '.join(sorted(clash))}, which its columns already are")
    cls.__annotations__ = {**{name: annotation for name, (annotation, _) in fields.items()}, **own}
    for name, (_, field) in fields.items():
        setattr(cls, name, field)


class _FromColumns(Generic[RowT]):
    """What the three kinds share: a class that names its row type gets its columns' fields."""

    _row: ClassVar[type[Row]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("__parameters__"):  # ColumnFields and its kin themselves, still generic
            return
        cls._row = _row_of(cls)
        _add_fields(cls, cls._fields())

    @classmethod
    def _fields(cls) -> Fields:
        raise NotImplementedError

    if TYPE_CHECKING:  # the columns, which mypy does not see added

        def __getattr__(self, name: str) -> Any: ...


class ColumnFields(_FromColumns[RowT]):
    """An output type with a field per column of its row type."""

    # Keys whose values may be numbers (an integer id, a reference to one): GraphQL's ID is text.
    _as_text: ClassVar[tuple[str, ...]]

    @classmethod
    def _fields(cls) -> Fields:
        columns = cls._row.columns
        cls._as_text = tuple(column.name for column in columns if column.is_key and column.value_type is not str)
        return {
            column.name: (
                graphql_type(column),
                strawberry.field(name=column.api.name, description=column.api.description),
            )
            for column in columns
            if column.api.exposed
        }

    @classmethod
    def from_model(cls, row: RowT) -> Self:
        # What the dataclass's __init__ would do, setting each column's attribute, without its
        # call by keywords: half the time, for each session of a page. A row has exactly its
        # columns, and zip's `strict=` would cost a third of the rest.
        made = object.__new__(cls)
        values = vars(made)
        values.update(zip(cls._row.names, row))  # noqa: B905
        for name in cls._as_text:
            if type(values[name]) is int:
                values[name] = str(values[name])
        return made


class CreateFields(_FromColumns[RowT]):
    """A create input: the key, when clients may make it, and the columns written at creation."""

    _columns: ClassVar[tuple[str, ...]]

    @classmethod
    def _fields(cls) -> Fields:
        written = cls._row.writable("create")
        cls._columns = tuple(column.name for column in written if not column.field.pk)
        return {column.name: _create_field(column) for column in written}

    def columns(self) -> dict[str, Any]:
        """The columns to create the row with (its key apart), as the input gave them; an
        omittable column only when given."""
        return {name: value for name in self._columns if (value := getattr(self, name)) is not strawberry.UNSET}


def _create_field(column: Column) -> tuple[Any, StrawberryField]:
    written = column.writable("create")
    assert written is not None
    annotation = graphql_type(column)
    if not column.nullable and column.default is None and not column.field.pk:  # required
        return annotation, strawberry.field(name=column.api.name, description=written.description)
    default = strawberry.UNSET if written.omittable else written.default
    field = strawberry.field(name=column.api.name, default=default, description=written.description)
    return annotation if column.nullable else annotation | None, field


class UpdateFields(_FromColumns[RowT]):
    """An update input: the key (required) and the columns clients may change, each left out
    (UNSET) unless given, so that "leave alone" and "set to null" differ."""

    _columns: ClassVar[tuple[str, ...]]

    @classmethod
    def _fields(cls) -> Fields:
        key = next(column for column in cls._row.columns if column.field.pk)
        written = cls._row.writable("update")
        cls._columns = tuple(column.name for column in written)
        fields = {key.name: (graphql_type(key), strawberry.field(name=key.api.name))}
        for column in written:
            face = column.writable("update")
            assert face is not None
            annotation = graphql_type(column)
            fields[column.name] = (
                annotation if column.nullable else annotation | None,
                strawberry.field(name=column.api.name, default=strawberry.UNSET, description=face.description),
            )
        return fields

    def changes(self) -> dict[str, Any]:
        """The columns the client sent (null included, omitted left out)."""
        return {name: value for name in self._columns if (value := getattr(self, name)) is not strawberry.UNSET}


def cleared_by_null(row: type[Row]) -> str:
    """The fields of the update input that null clears, as a sentence lists them."""
    names = [column.graphql_name for column in row.columns if _cleared_by_null(column)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _cleared_by_null(column: Column) -> bool:
    written = column.writable("update")
    return written is not None and (column.nullable or written.null_resets)
