"""One declaration per column (models/columns.py): every list derived from the declarations
agrees with them — the row types and their SQL, the event payload, the GraphQL types and inputs,
the input checks (the bench floor's: tests/test_bench_smoke.py) — and the payload carries every
column across processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import enum
import json
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, get_origin

import asyncpg
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLType,
    get_named_type,
)
from strawberry.types.base import StrawberryObjectDefinition
from tortoise import connections, fields
from tortoise.context import TortoiseContext
from tortoise.models import Model

import models
from models import events, sql
from models.columns import Column, Row, columns_of
from schema import build_schema
from schema.columns import graphql_type
from schema.inputs import (
    AppendMessageInput,
    CreatePersonaInput,
    CreatePinInput,
    CreateSessionInput,
    CreateSummaryInput,
    UpdatePersonaInput,
    UpdateSessionInput,
)
from schema.memory import Pin, Summary
from schema.messages import Message
from schema.personas import Persona
from schema.strawberry_adapter import graphql_schema
from schema.types import Session
from support.databases import postgres_url_for

ROWS: list[type[Row]] = [models.SessionRow, models.MessageRow, models.PersonaRow, models.PinRow, models.SummaryRow]
MODELS: dict[type[Row], type[models.Session | models.Message | models.Persona | models.Pin | models.Summary]] = {
    models.SessionRow: models.Session,
    models.MessageRow: models.Message,
    models.PersonaRow: models.Persona,
    models.PinRow: models.Pin,
    models.SummaryRow: models.Summary,
}
# Each GraphQL type and input made from a row type: (the strawberry class, its row type).
OUTPUTS: list[tuple[type[Any], type[Row]]] = [
    (Session, models.SessionRow),
    (Message, models.MessageRow),
    (Persona, models.PersonaRow),
    (Pin, models.PinRow),
    (Summary, models.SummaryRow),
]
CREATE_INPUTS: list[tuple[type[Any], type[Row]]] = [
    (CreateSessionInput, models.SessionRow),
    (AppendMessageInput, models.MessageRow),
    (CreatePersonaInput, models.PersonaRow),
    (CreatePinInput, models.PinRow),
    (CreateSummaryInput, models.SummaryRow),
]
UPDATE_INPUTS: list[tuple[type[Any], type[Row]]] = [
    (UpdateSessionInput, models.SessionRow),
    (UpdatePersonaInput, models.PersonaRow),
]
MOMENT = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)


def sample_value(column: Column, index: int) -> Any:
    """A value of the column that every rule accepts and no default equals."""
    value_type = column.value_type
    if value_type is datetime:
        return MOMENT
    if value_type is bool:
        return not column.default
    if isinstance(value_type, enum.EnumMeta):
        return list(value_type)[-1]
    if value_type is int or (column.field.pk and value_type is not str):
        return 40 + index
    if value_type is float:
        return index / 100  # below every maximum (importance's 1, topP's 1)
    if get_origin(value_type) is list:
        return [f"{column.name}-{index}", "second"]
    if get_origin(value_type) is dict:
        return {f"{column.name}-{index}": "a value", "kalito.care_category": ""}
    return f"{column.name}-{index}"  # an id, a name, a model and a text alike


def stored_value(value: Any) -> Any:
    """A value as SQLite's driver gives it back: moments and JSON as text."""
    if isinstance(value, datetime):
        return value.isoformat(" ")
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


def sample_row(row: type[Row]) -> Row:
    return row(*(sample_value(column, index) for index, column in enumerate(row.columns)))


@pytest.fixture
async def initialised() -> AsyncIterator[None]:
    """The models as Tortoise completes them at start (a reference's column a field of its own),
    on a database in memory: the tests below read no row."""
    async with TortoiseContext() as context:
        await context.init(config=models.tortoise_config("sqlite://:memory:"))
        yield


# --- the row types and their SQL ------------------------------------------------------------------


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.__name__)
async def test_a_row_type_holds_exactly_the_columns_of_its_table(row: type[Row], initialised: None) -> None:
    model = MODELS[row]
    assert {column.sql_name for column in row.columns} == set(model._meta.db_fields)
    assert row.select_list == sql.column_list([column.sql_name for column in row.columns])
    # the statement Tortoise makes for the same table names the same columns
    tortoise_select = model.all().sql()
    assert sorted(tortoise_select.split(" FROM ")[0].removeprefix("SELECT ").split(",")) == sorted(
        row.select_list.split(",")
    )


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.__name__)
def test_a_row_reads_back_from_its_mapping_and_from_stored_values(row: type[Row]) -> None:
    written = sample_row(row)
    assert list(written.as_mapping()) == list(row.names)
    assert row.from_mapping(json.loads(json.dumps(written.as_mapping()))) == written
    stored = [stored_value(value) for value in written]
    assert row.from_db([*stored, "a last column the page asks"]) == written


def test_the_event_payload_is_the_session_row_s_own_mapping() -> None:
    session = models.SessionRow(*sample_row(models.SessionRow))
    event = events.SessionEvent(events.SessionEventKind.UPDATED, session.id, session.owner_id, session)
    payload = json.loads(event.to_payload())
    assert payload == {
        "kind": "UPDATED",
        "sessionId": session.id,
        "ownerId": session.owner_id,
        "session": session.as_mapping(),
    }
    assert events.SessionEvent.from_payload(event.to_payload()) == event


def refused_value(column: Column) -> Any:
    """A value below every minimum, or holding a NUL (which no text or id may: an integer id
    too, as GraphQL's ID carries it)."""
    value_type = column.value_type
    if value_type in (int, float) and not column.is_key:
        return value_type(-1)
    if get_origin(value_type) is list:
        return ["a\x00b"]
    if get_origin(value_type) is dict:
        return {"key": "a\x00b"}
    return "a\x00b"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.__name__)
def test_every_rule_refuses_naming_the_field_as_clients_know_it(row: type[Row]) -> None:
    for column in row.columns:
        if column.api.rule is None:
            continue
        refused = refused_value(column)
        with pytest.raises(models.InvalidInput) as refusal:
            row.check({column.name: refused})
        assert refusal.value.field == column.graphql_name
        assert refusal.value.message.startswith(f"{column.graphql_name} ")
        if not column.nullable:
            with pytest.raises(models.InvalidInput, match=f"^{column.graphql_name} cannot be null$"):
                row.check({column.name: None})


# --- what a declaration may add: rules across columns, computed values, null that resets ---------


def test_a_rule_that_reads_another_column_gets_its_checked_value_in_any_order() -> None:
    assistant, user = models.MessageRole.ASSISTANT, models.MessageRole.USER
    assert models.MessageRow.check({"text": "", "role": assistant}) == {"text": "", "role": assistant}
    for values in ({"text": "", "role": user}, {"role": user, "text": ""}, {"text": ""}):
        with pytest.raises(models.InvalidInput, match=r"^text must be 1 to 100000 characters$"):
            models.MessageRow.check(values)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_number_rule_refuses_what_json_cannot_send_too(value: float) -> None:
    """NaN and the infinities never arrive in JSON, but a rule must not let them through."""
    with pytest.raises(models.InvalidInput, match=r"^importance must be a finite number from 0 to 1$"):
        models.MessageRow.check({"importance": value})


def test_a_computed_column_is_computed_only_when_a_create_leaves_it_out_or_null() -> None:
    question = {"session_id": "s", "role": models.MessageRole.USER, "text": "why?"}
    assert models.MessageRow.created(question)["importance"] == 0.7
    assert models.MessageRow.created({**question, "importance": None})["importance"] == 0.7
    assert models.MessageRow.created({**question, "importance": 0.0})["importance"] == 0.0


def test_null_in_an_update_resets_only_the_columns_declared_so() -> None:
    assert models.PersonaRow.changed({"stop_sequences": None, "temperature": None}) == {
        "stop_sequences": [],
        "temperature": None,
    }
    assert models.SessionRow.changed({"metadata": None}) == {"metadata": {}}
    assert models.SessionRow.changed({"name": None}) == {"name": None}  # and check() refuses it
    first, second = (
        models.PersonaRow.changed({"suggested_models": None}),
        models.PersonaRow.changed({"suggested_models": None}),
    )
    assert first["suggested_models"] is not second["suggested_models"]  # a new list each time


def test_a_json_column_must_say_what_it_holds() -> None:
    class Untyped(Model):
        settings: fields.JSONField[Any] = fields.JSONField(default=dict)  # no type argument

        class Meta:
            abstract = True

    [column] = [column for column in columns_of(Untyped) if column.name == "settings"]
    with pytest.raises(TypeError, match=r"settings: say what the JSON holds"):
        graphql_type(column)


# --- the GraphQL face ----------------------------------------------------------------------------


def graphql_type_of(name: str) -> Any:
    return graphql_schema(build_schema()).get_type(name)


def is_of_column_type(graphql: GraphQLType, column: Column) -> bool:
    named = get_named_type(graphql)
    if column.is_key:
        return named.name == "ID"
    if isinstance(column.value_type, enum.EnumMeta):
        return isinstance(named, GraphQLEnumType) and named.name == column.value_type.__name__
    if get_origin(column.value_type) is list:  # [String!]
        listed = graphql.of_type if isinstance(graphql, GraphQLNonNull) else graphql
        return isinstance(listed, GraphQLList) and isinstance(listed.of_type, GraphQLNonNull) and named.name == "String"
    if get_origin(column.value_type) is dict:
        return named.name == "JSON"
    expected = {str: "String", int: "Int", float: "Float", bool: "Boolean", datetime: "DateTime"}[column.value_type]
    return named.name == expected


@pytest.mark.parametrize(("output", "row"), OUTPUTS, ids=lambda value: value.__name__)
def test_an_output_type_has_a_field_per_column_as_declared(output: type[Any], row: type[Row]) -> None:
    definition: StrawberryObjectDefinition = output.__strawberry_definition__
    graphql = graphql_type_of(definition.name)
    assert isinstance(graphql, GraphQLObjectType)
    exposed = [column for column in row.columns if column.api.exposed]
    assert list(graphql.fields)[: len(exposed)] == [column.graphql_name for column in exposed]
    hidden = {column.graphql_name for column in row.columns if not column.api.exposed}
    assert not hidden & set(graphql.fields)  # the owner is the server's own
    for column in exposed:
        field = graphql.fields[column.graphql_name]
        assert isinstance(field.type, GraphQLNonNull) is not column.nullable, column.name
        assert is_of_column_type(field.type, column), column.name
        assert field.description == column.api.description, column.name


@pytest.mark.parametrize(("output", "row"), OUTPUTS, ids=lambda value: value.__name__)
def test_from_model_sets_every_field_that_has_no_resolver(output: type[Any], row: type[Row]) -> None:
    definition: StrawberryObjectDefinition = output.__strawberry_definition__
    read = [field.python_name for field in definition.fields if field.base_resolver is None]
    assert read == [column.name for column in row.columns if column.api.exposed]
    written = sample_row(row)
    made = output.from_model(written)
    for column, value in zip(row.columns, written, strict=True):
        expected = str(value) if column.is_key else value  # GraphQL's ID is text
        assert getattr(made, column.name) == expected, column.name


def input_fields(strawberry_input: type[Any]) -> Any:
    graphql = graphql_type_of(strawberry_input.__strawberry_definition__.name)
    assert isinstance(graphql, GraphQLInputObjectType)
    return graphql.fields


@pytest.mark.parametrize(("strawberry_input", "row"), CREATE_INPUTS, ids=lambda value: value.__name__)
def test_a_create_input_has_the_columns_written_at_creation(strawberry_input: type[Any], row: type[Row]) -> None:
    fields = input_fields(strawberry_input)
    written = row.writable("create")
    assert list(fields) == [column.graphql_name for column in written]
    for column in written:
        field, face = fields[column.graphql_name], column.writable("create")
        assert face is not None
        required = not column.nullable and column.default is None and not column.field.pk
        assert isinstance(field.type, GraphQLNonNull) is required, column.name
        assert is_of_column_type(field.type, column), column.name
        assert field.description == face.description, column.name
        if not required:
            assert field.default_value == face.default  # an enum's member: the SDL prints its name


@pytest.mark.parametrize(("strawberry_input", "row"), UPDATE_INPUTS, ids=lambda value: value.__name__)
def test_an_update_input_has_the_key_and_the_columns_clients_change(
    strawberry_input: type[Any], row: type[Row]
) -> None:
    fields = input_fields(strawberry_input)
    written = row.writable("update")
    names = ["id", *(column.graphql_name for column in written)]
    assert list(fields)[: len(names)] == names
    assert isinstance(fields["id"].type, GraphQLNonNull)
    for column in written:
        field = fields[column.graphql_name]
        assert not isinstance(field.type, GraphQLNonNull), column.name  # null clears, or is refused
        assert is_of_column_type(field.type, column), column.name
    # every field after them is the input's own (expectedUpdatedAt), none a column
    assert not set(list(fields)[len(names) :]) & {column.graphql_name for column in row.columns}


# --- every column through PostgreSQL's NOTIFY --------------------------------------------------------


@pytest.fixture
async def notifications(db: str) -> AsyncIterator[asyncio.Queue[str]]:
    """The payloads of the session events channel, on a LISTEN connection of its own."""
    if db != "postgres":
        pytest.skip("NOTIFY is PostgreSQL's")
    connection = await asyncpg.connect(postgres_url_for(connections.get("default").database))
    payloads: asyncio.Queue[str] = asyncio.Queue()
    await connection.add_listener(events.CHANNEL, lambda *notification: payloads.put_nowait(notification[3]))
    try:
        yield payloads
    finally:
        await connection.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_every_column_of_a_session_travels_through_notify(notifications: asyncio.Queue[str]) -> None:
    """A column the payload lost would reach other processes' subscribers with its default."""
    await models.Session.create_session(models.ONE_USER, "everything")
    changes = {}
    for index, column in enumerate(models.SessionRow.writable("update")):
        target = getattr(column.field, "related_model", None)
        changes[column.name] = (await target.first()).pk if target is not None else sample_value(column, index)
    await models.Session.update_session(models.ONE_USER, "everything", changes)
    stored = await models.Session.by_id(models.ONE_USER, "everything")
    assert stored is not None
    for name, value in changes.items():
        assert getattr(stored, name) == value != models.SessionRow.by_name[name].default, name

    created, updated = [
        events.SessionEvent.from_payload(await asyncio.wait_for(notifications.get(), 5)) for _ in range(2)
    ]

    assert created.kind is events.SessionEventKind.CREATED
    assert updated == events.SessionEvent(events.SessionEventKind.UPDATED, "everything", "", stored)
