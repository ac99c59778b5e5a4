"""Each column of a table declared once, on its Tortoise field, and the row type derived from it.

A model's field is the declaration. Tortoise's own arguments say the column's name, storage
type, nullability and default; `column()` adds what the API needs of it:

    recap = column(fields.TextField(null=True), rule=rules.check_recap, update=WRITABLE)

— the input rule its values obey, the inputs clients may write it in (create, update), and how
it appears in GraphQL (a description; the name, camelCase of the attribute unless given; the
type, from the storage type, ID for keys). A field without `column()` is read, never written;
one declared `exposed=False` (a row's owner) is the server's own, in no type or input.
A JSON column says the Python type of its values as the field's type argument, and its GraphQL
type follows (`fields.JSONField[list[str]](...)`: `[String!]!`; `JSONField[dict[str, str]]`: the
JSON scalar). A rule that reads other columns of the row names them (`reads=("role",)`: they
come checked, by keyword); a value computed from the others when a create leaves it out says
how (`computed=`); `Writable(null_resets=True)` makes null in an update empty a list or map.

From `Model._meta`, `Row` makes each table's row type: the plain tuple that the hand-written SQL
reads into (without a model instance, models/sql.py) and that every write answers, with its SQL
column list, its JSON mapping (the event payload) and the input checks. schema/columns.py
derives the GraphQL types and inputs; bench/floor.py its statements and answers.

A NOT NULL column added to a table that holds rows says what those rows get with Tortoise's
own `db_default=` (the migration writes it as the column's DEFAULT, so that ADD COLUMN works on
both databases); tests/test_migrations.py refuses a migration that adds one without it.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeVar, get_args

from tortoise.fields import BooleanField, DatetimeField, JSONField
from tortoise.fields.base import Field
from tortoise.fields.data import CharEnumFieldInstance
from tortoise.fields.relational import ForeignKeyFieldInstance, RelationalField
from tortoise.models import Model

from models import sql
from models.errors import InvalidInput

FieldT = TypeVar("FieldT")
# A checker of models/rules.py: (the field as clients name it, the value, and by keyword the
# other columns it `reads`) -> the value to store.
Rule = Callable[..., Any]

Input = Literal["create", "update"]  # the two inputs a client writes a row's columns in

_API = "api"  # the attribute of a Tortoise field that holds its API (Tortoise ignores it)


@dataclass(frozen=True)
class Writable:
    """How clients write a column in one input (the create input or the update input)."""

    # The input field's default, in a create input: null, unless the column wants another one.
    default: Any = None
    description: str | None = None  # the input field's own GraphQL description
    # The column this one follows in the input, where that is not the declaration order.
    after: str | None = None
    # In an update input, null sets a NOT NULL column back to its default (an empty list or map)
    # rather than being refused.
    null_resets: bool = False
    # In a create input, leaving the field out differs from null (a message's parent: the active
    # leaf, or none): the input holds only the fields given.
    omittable: bool = False


WRITABLE = Writable()


@dataclass(frozen=True)
class Api:
    """What `column()` adds to a Tortoise field."""

    rule: Rule | None = None  # None: any value of its GraphQL type
    create: Writable | None = None  # None: not in the create input
    update: Writable | None = None  # None: not in the update input
    description: str | None = None  # the GraphQL field's
    name: str | None = None  # the GraphQL field's, when not camelCase of the attribute
    # The other columns the rule reads, given to it by keyword (checked first; None when absent).
    reads: tuple[str, ...] = ()
    # The value a create that leaves the column out (or null) gets, from the row's other values.
    computed: Callable[[Mapping[str, Any]], Any] | None = None
    # The column holds another row's id without a foreign key (a pin's source message): an ID.
    key: bool = False
    # False: the server's own (a row's owner), never a field or an input of the API.
    exposed: bool = True


def column(
    field: FieldT,
    *,
    rule: Rule | None = None,
    create: Writable | None = None,
    update: Writable | None = None,
    description: str | None = None,
    name: str | None = None,
    reads: tuple[str, ...] = (),
    computed: Callable[[Mapping[str, Any]], Any] | None = None,
    key: bool = False,
    exposed: bool = True,
) -> FieldT:
    """The Tortoise field `field`, declaring also how the API reads and writes its column."""
    setattr(field, _API, Api(rule, create, update, description, name, reads, computed, key, exposed))
    return field


def camel_case(name: str) -> str:
    """A snake_case attribute as GraphQL names it (what strawberry does to a field's name)."""
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True)
class Column:
    """One column of a table, as its declaration says. What follows from the declaration alone
    is worked out once (the input checks read it for every value); `sql_name` is not, as
    Tortoise's initialisation may still set a field's source column."""

    name: str  # the attribute (and the row's): `persona_id` for the reference `persona`
    field: Field[Any]  # its Tortoise field: a reference's ForeignKeyField
    api: Api

    @property
    def sql_name(self) -> str:
        return self.name if self.is_reference else self.field.source_field or self.name

    @cached_property
    def graphql_name(self) -> str:
        return self.api.name or camel_case(self.name)

    @cached_property
    def nullable(self) -> bool:
        return bool(self.field.null)

    @cached_property
    def is_key(self) -> bool:
        """The row's own id or a reference to another row's: GraphQL's ID."""
        return bool(self.field.pk) or self.is_reference or self.api.key

    @cached_property
    def is_json(self) -> bool:
        """Stored as JSON (SQLite: text; PostgreSQL: jsonb, which asyncpg also hands over as text)."""
        return isinstance(self.field, JSONField)

    @cached_property
    def is_reference(self) -> bool:
        return isinstance(self.field, ForeignKeyFieldInstance)

    @cached_property
    def value_type(self) -> Any:
        """The Python type of its values (a reference's: that of the id it holds, as text or a
        number; GraphQL writes it as an ID either way; a JSON column's: its type argument)."""
        if self.is_json:
            declared = getattr(self.field, "__orig_class__", None)
            if declared is None:
                raise TypeError(f"{self.name}: say what the JSON holds, e.g. fields.JSONField[list[str]](...)")
            return get_args(declared)[0]
        if isinstance(self.field, CharEnumFieldInstance):
            return self.field.enum_type
        if self.is_reference:
            return object
        return self.field.field_type

    @property
    def default(self) -> Any:
        """What a row gets when a write leaves the column out (None: nothing, or null); a new
        value each time where the default is a factory (`default=list`)."""
        default = self.field.default
        return default() if callable(default) else default

    def writable(self, input: Input) -> Writable | None:
        """How clients write the column in `input`; None when they do not."""
        return self.api.create if input == "create" else self.api.update


def columns_of(model: type[Model]) -> tuple[Column, ...]:
    """The columns of `model`, in declaration order; a reference as the column that holds it."""
    found = []
    for name, field in model._meta.fields_map.items():
        if isinstance(field, ForeignKeyFieldInstance):
            found.append(Column(field.source_field or f"{name}_id", field, getattr(field, _API, Api())))
        elif not isinstance(field, RelationalField) and getattr(field, "reference", None) is None:
            # (after Tortoise.init a reference's column is a field of its own too: skipped)
            found.append(Column(name, field, getattr(field, _API, Api())))
    return tuple(found)


def _from_stored(column: Column) -> Callable[[Any], Any] | None:
    """How a value of the column, as either driver (or a JSON payload) gives it, becomes the
    row's; None where it already is."""
    field = column.field
    convert: Callable[[Any], Any] | None
    if isinstance(field, DatetimeField):
        convert = sql.moment_from_db
    elif isinstance(field, BooleanField):
        convert = bool  # SQLite gives 0 and 1
    elif column.value_type in (str, int, float, object):
        convert = None
    else:
        convert = field.to_python_value  # enums, JSON (text on SQLite, and from asyncpg), ...
    if convert is None or not column.nullable:
        return convert
    present = convert
    return lambda value: None if value is None else present(value)


def json_value(value: Any) -> Any:
    """A row's value as its JSON mapping holds it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


class Row(tuple[Any, ...]):
    """A row of a table, without a model instance: its columns' values in declaration order,
    each also an attribute. Each table's row type names its model:

        class SessionRow(Row, model=SessionColumns):
            __slots__ = ()
    """

    __slots__ = ()
    declared_by: ClassVar[type[Model]]  # the model whose fields declare the columns
    columns: ClassVar[tuple[Column, ...]]
    by_name: ClassVar[dict[str, Column]]
    names: ClassVar[tuple[str, ...]]
    select_list: ClassVar[str]  # the SQL column list: "id","name",...
    _conversions: ClassVar[tuple[tuple[int, Callable[[Any], Any]], ...]]

    def __init_subclass__(cls, *, model: type[Model], **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.declared_by = model
        cls.columns = columns_of(model)
        cls.by_name = {column.name: column for column in cls.columns}
        cls.names = tuple(cls.by_name)
        cls.select_list = sql.column_list([column.sql_name for column in cls.columns])
        conversions = ((index, _from_stored(column)) for index, column in enumerate(cls.columns))
        cls._conversions = tuple((index, convert) for index, convert in conversions if convert is not None)
        # Each column's attribute is the one a named tuple of the same fields has: it reads the
        # tuple's item in C (a property over itemgetter takes half as long again).
        named = collections.namedtuple(cls.__name__, cls.names)  # type: ignore[misc]  # names known at run time
        for column in cls.columns:
            if hasattr(cls, column.name):
                raise TypeError(f"{model.__name__}.{column.name}: a row type already has an attribute so named")
            setattr(cls, column.name, vars(named)[column.name])

    def __new__(cls, *values: Any, **named: Any) -> Self:
        """A row from its values, by position or by column name, as a named tuple is made."""
        given = dict(zip(cls.names, values, strict=False)) | named
        if len(values) > len(cls.names) or given.keys() != set(cls.names):
            raise TypeError(f"{cls.__name__} takes exactly its columns: {', '.join(cls.names)}")
        return tuple.__new__(cls, [given[name] for name in cls.names])

    @classmethod
    def from_db(cls, raw: Sequence[Any]) -> Self:
        """From the values of `select_list` (first) as either driver gives them."""
        values = list(raw[: len(cls.names)])
        for index, convert in cls._conversions:
            values[index] = convert(values[index])
        return tuple.__new__(cls, values)

    @classmethod
    def from_model(cls, instance: Model) -> Self:
        """From a model instance, as a write made it or Tortoise read it."""
        return tuple.__new__(cls, [getattr(instance, name) for name in cls.names])

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Self:
        """From its JSON mapping (`as_mapping`)."""
        return cls.from_db([mapping[name] for name in cls.names])

    def as_mapping(self) -> dict[str, Any]:
        """Column -> value, as JSON can hold it: what an event carries across processes."""
        return {name: json_value(value) for name, value in zip(self.names, self, strict=True)}

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in zip(self.names, self, strict=True))
        return f"{type(self).__name__}({values})"

    # --- the input checks ----------------------------------------------------------------

    @classmethod
    def check(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """Each value by its column's rule, in the order given (a rule that reads other columns
        after those); null only where the column is nullable. A refusal names the field as
        clients know it."""
        checked: dict[str, Any] = {}
        reading = [name for name in values if cls.by_name[name].api.reads]
        for name in [*(name for name in values if name not in reading), *reading]:
            column, value = cls.by_name[name], values[name]
            field = column.graphql_name
            if value is None:
                if not column.nullable:
                    raise InvalidInput(field, f"{field} cannot be null")
                checked[name] = None
            elif column.api.rule is None:
                checked[name] = value
            else:
                read = {other: checked.get(other) for other in column.api.reads}
                checked[name] = column.api.rule(field, value, **read)
        return {name: checked[name] for name in values}

    @classmethod
    def created(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values a create input gave, with the nulls that mean "the column's default" left
        out (a NOT NULL column with a default, whose create input defaults to null), and the
        computed columns it left out computed from the others."""
        created = {
            name: value for name, value in values.items() if value is not None or not cls._null_means_default(name)
        }
        for column in cls.columns:
            if column.api.computed is not None and created.get(column.name) is None:
                created[column.name] = column.api.computed(created)
        return created

    @classmethod
    def changed(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values an update input gave, a null that resets a column (`null_resets`) as the
        column's default."""
        return {name: cls._reset(name) if value is None else value for name, value in values.items()}

    @classmethod
    def _reset(cls, name: str) -> Any:
        column = cls.by_name[name]
        written = column.writable("update")
        return column.default if written is not None and written.null_resets else None

    @classmethod
    def _null_means_default(cls, name: str) -> bool:
        column = cls.by_name[name]
        written = column.writable("create")
        return written is not None and written.default is None and not column.nullable and column.default is not None

    @classmethod
    def writable(cls, input: Input) -> list[Column]:
        """The columns clients write in the create or update input, in that input's order."""
        return in_input_order(cls.columns, input)

    if TYPE_CHECKING:  # a column's value, read by its name

        def __getattr__(self, name: str) -> Any: ...


def in_input_order(columns: Iterable[Column], input: Input) -> list[Column]:
    """The columns written in `input`, each declared `after` another moved behind that one."""
    written = [column for column in columns if column.writable(input) is not None]
    ordered = [column for column in written if _after(column, input) is None]
    for column in written:
        if (after := _after(column, input)) is not None:
            position = next(index for index, other in enumerate(ordered) if other.name == after)
            ordered.insert(position + 1, column)
    return ordered


def _after(column: Column, input: Input) -> str | None:
    written = column.writable(input)
    return written.after if written is not None else None
