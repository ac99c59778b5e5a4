"""The benchmark's floor stays honest: for every workload it sends the database the statements the
project sends, and answers the bytes the project answers.

The benchmark reports the project's speed as a fraction of the floor's (bench/floor.py, the same
SQL and JSON without GraphQL). If the project changes its SQL or its answers and the floor does
not follow, those fractions compare different work: this test fails first. No load is run.
"""

from __future__ import annotations

import asyncio
import enum
import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import httpx
import pytest

import models
from bench import dataset, floor
from bench.check import check_equivalence, compare, normalise, statement_differences
from bench.run import page_position, servers
from bench.workloads import (
    APPEND_MESSAGE,
    APPENDED_FIELDS,
    CREATE_SESSION,
    CREATED_FIELDS,
    LISTED_FIELDS,
    SESSION,
    SESSION_FIELDS,
    workloads,
)
from models import clock, sql
from models.columns import Row
from support.databases import throwaway_postgres_database
from tests.databases import ON_POSTGRES
from tests.test_columns import OUTPUTS, sample_row

TINY = dataset.DatasetSpec(sessions=120, messages=900)


def assert_floor_answers_as_the_project(database_url: str, log_dir: Path) -> None:
    page, cursor = page_position(database_url, TINY.sessions)
    assert page == 6  # the last page: 120 sessions, 20 a page
    chosen = workloads(page, cursor)
    other_statements = asyncio.run(statement_differences(database_url, chosen, TINY.sessions))
    assert not other_statements, "\n".join(other_statements)
    with servers(database_url, log_dir, core=None) as (project, floor):
        other_answers = check_equivalence(project.url, floor.url, chosen, TINY.sessions)
    assert not other_answers, "\n".join(str(difference) for difference in other_answers)


def test_the_floor_answers_as_the_project_on_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "bench.db"
    dataset.build_sqlite(database, TINY)
    assert_floor_answers_as_the_project(f"sqlite://{database}", tmp_path)


@ON_POSTGRES
def test_the_floor_answers_as_the_project_on_postgres(tmp_path: Path) -> None:
    with throwaway_postgres_database() as database_url:
        dataset.build_postgres(database_url, TINY)
        assert_floor_answers_as_the_project(database_url, tmp_path)


def answered(body: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=body.encode(), headers={"content-type": "application/json; charset=utf-8"})


def test_a_read_must_match_to_the_byte() -> None:
    same = '{"data":{"session":{"id":"a","name":"x"}}}'
    assert compare(SESSION, ("a", "a"), answered(same), answered(same)) is None
    # the same data, other bytes: a space, another field order
    assert compare(SESSION, ("a", "a"), answered(same), answered(same.replace(",", ", "))) is not None
    reordered = '{"data":{"session":{"name":"x","id":"a"}}}'
    assert compare(SESSION, ("a", "a"), answered(same), answered(reordered)) is not None
    # identical errors are no proof of anything
    error = '{"data":null,"errors":[{"message":"no"}]}'
    assert compare(SESSION, ("a", "a"), answered(error), answered(error)) is not None
    assert compare(SESSION, ("a", "a"), answered(same, 500), answered(same, 500)) is not None


def test_writes_may_differ_only_in_new_ids_and_moments() -> None:
    def created(session_id: str, moment: str, name: str = "Benchmark chat") -> str:
        return (
            f'{{"data":{{"createSession":{{"id":"{session_id}","name":"{name}","saved":false,'
            f'"createdAt":"{moment}","updatedAt":"{moment}"}}}}}}'
        )

    project = answered(created("check-1-project", "2026-01-01T10:00:00.001Z"))
    floor = answered(created("check-1-floor", "2026-01-01T10:00:00.250Z"))
    assert compare(CREATE_SESSION, ("check-1-project", "check-1-floor"), project, floor) is None
    renamed = answered(created("check-1-floor", "2026-01-01T10:00:00.250Z", name="New Chat"))
    assert compare(CREATE_SESSION, ("check-1-project", "check-1-floor"), project, renamed) is not None

    def appended(message_id: int, session_id: str) -> str:
        return f'{{"data":{{"appendMessage":{{"id":"{message_id}","sessionId":"{session_id}","role":"USER"}}}}}}'

    assert compare(APPEND_MESSAGE, ("s", "s"), answered(appended(7, "s")), answered(appended(8, "s"))) is None
    assert compare(APPEND_MESSAGE, ("s", "s"), answered(appended(7, "s")), answered(appended(7, "t"))) is not None


def test_statements_compare_without_column_order_and_placeholder_style() -> None:
    sqlite = 'SELECT "name","id" FROM "sessions" WHERE "id"=? LIMIT ?'
    assert normalise(sqlite) == normalise('SELECT "id","name" FROM "sessions" WHERE "id"=$1 LIMIT $2')
    assert normalise(sqlite) != normalise('SELECT "id","name" FROM "sessions" WHERE "id"=$1')
    assert normalise(sqlite) != normalise('SELECT "id" FROM "sessions" WHERE "id"=? LIMIT ?')


# --- the floor's statements and answers follow the column declarations -------------------------


def test_the_floor_reads_and_writes_every_column_of_a_session() -> None:
    for statement in (floor.SQL_SESSION, floor.SQL_SESSION_TO_WRITE, floor.SQL_SAVED_PAGE, floor.SQL_INSERT_SESSION):
        assert models.SessionRow.select_list in statement
    assert models.PersonaRow.select_list in floor.SQL_PERSONAS
    generated = [column.sql_name for column in models.MessageRow.columns if column.field.generated]
    assert floor.SQL_INSERT_MESSAGE.startswith(
        f'INSERT INTO "messages" ({models.MessageRow.select_list.replace(sql.column_list(generated) + ",", "")})'
    )


@pytest.mark.parametrize(
    ("row", "fields"),
    [
        (models.SessionRow, SESSION_FIELDS),
        (models.SessionRow, LISTED_FIELDS),
        (models.SessionRow, CREATED_FIELDS),
        (models.MessageRow, APPENDED_FIELDS),
        (models.SessionRow, "id metadata"),  # JSON, stored as text
        (models.MessageRow, "id importance"),
        (models.PersonaRow, "id temperature maxTokens stopSequences suggestedModels"),
    ],
)
def test_the_floor_answers_a_row_s_fields_as_the_api_writes_them(row: type[Row], fields: str) -> None:
    written = sample_row(row)
    stored = [
        value.value if isinstance(value, enum.Enum) else json.dumps(value) if isinstance(value, (list, dict)) else value
        for value in written
    ]
    node = floor.node_of(row, fields, floor.Rows)(stored)
    # what the API answers: the strawberry object, serialized
    expected_object = next(output for output, source in OUTPUTS if source is row).from_model(written)
    by_graphql = {column.graphql_name: column for column in row.columns}
    assert list(node) == fields.split()
    for name in fields.split():
        value = getattr(expected_object, by_graphql[name].name)
        if isinstance(value, datetime):
            value = clock.text(value)
        elif isinstance(value, enum.Enum):
            value = value.name
        assert node[name] == value, name


def test_the_floor_writes_a_new_row_s_defaults_and_computed_columns_as_the_project() -> None:
    moment = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
    message = floor.new_row(models.MessageRow, {"sessionId": "s", "role": "ASSISTANT", "text": "Why?"}, moment)
    given = floor.new_row(
        models.MessageRow, {"sessionId": "s", "role": "USER", "text": "Why?", "importance": 0}, moment
    )
    session = floor.new_row(models.SessionRow, {"id": "s"}, moment)

    importance = models.MessageRow.names.index("importance")
    assert (message[importance], given[importance]) == (0.75, 0)
    metadata = models.SessionRow.names.index("metadata")
    assert session[metadata] == {}
    on_sqlite = floor.Floor(cast(floor.Database, SimpleNamespace(rows=floor.SqliteRows)))
    assert on_sqlite.stored(session)[metadata] == "{}"
