"""The benchmark's floor stays honest: for every workload it sends the database the statements the
project sends, and answers the bytes the project answers.

The benchmark reports the project's speed as a fraction of the floor's (bench/floor.py, the same
SQL and JSON without GraphQL). If the project changes its SQL or its answers and the floor does
not follow, those fractions compare different work: this test fails first. No load is run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from bench import dataset
from bench.check import check_equivalence, compare, normalise, statement_differences
from bench.run import page_position, servers
from bench.workloads import APPEND_MESSAGE, CREATE_SESSION, SESSION, workloads
from support.databases import throwaway_postgres_database
from tests.databases import ON_POSTGRES

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
