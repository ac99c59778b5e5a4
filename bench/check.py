"""The floor is honest: for the same request it answers what the project answers, and sends the
database the same statements.

- Answers (`check_equivalence`, against the two running servers): reads must be byte-identical.
  Writes cannot be (each makes its own row, at its own moment), so their answers are compared
  with the values that must differ (new ids, timestamps) masked.
- Statements (`statement_differences`, both apps in this process): every SQL text that reaches
  the driver (aiosqlite or asyncpg), transaction control included, per request; compared as
  sorted lists, with column lists sorted (Tortoise's SELECT order changes from one process to
  the next) and `$n` placeholders written `?`.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite
import asyncpg
import httpx

from bench.workloads import ID_MARKER, Workload, session_id

_MOMENT = re.compile(rb'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"')
_MESSAGE_ID = re.compile(rb'("appendMessage":\{"id":)"\d+"')


def mask_write(body: bytes, new_id: str) -> bytes:
    """A write's answer with what legitimately differs between two writes replaced: the id the
    request made up, the id of a new message, the moments."""
    body = body.replace(f'"{new_id}"'.encode(), b'"<new id>"') if new_id else body
    return _MESSAGE_ID.sub(rb'\1"<id>"', _MOMENT.sub(b'"<moment>"', body))


@dataclass(frozen=True)
class Difference:
    workload: str
    request: str
    project: bytes
    floor: bytes

    def __str__(self) -> str:
        limit = 600
        return (
            f"{self.workload} ({self.request}): the floor answers differently\n"
            f"  project: {self.project[:limit]!r}\n"
            f"  floor:   {self.floor[:limit]!r}"
        )


def compare(
    workload: Workload,
    ids: tuple[str, str],
    project: httpx.Response,
    floor: httpx.Response,
) -> Difference | None:
    """`ids`: the id each server was sent (the same one, but for new rows)."""
    project_body, floor_body = project.content, floor.content
    project_id, floor_id = ids
    if workload.write:
        new = project_id != floor_id
        project_body = mask_write(project_body, project_id if new else "")
        floor_body = mask_write(floor_body, floor_id if new else "")
    request = project_id if project_id == floor_id else "a new id"
    same = (
        project.status_code == floor.status_code == 200
        and project_body == floor_body
        and b'"errors"' not in project_body
        and project.headers.get("content-type") == floor.headers.get("content-type")
    )
    return None if same else Difference(workload.title, request or "-", project.content, floor.content)


def check_equivalence(
    project_url: str, floor_url: str, workloads: Sequence[Workload], sessions: int
) -> list[Difference]:
    """Send each workload once to both servers (reads: several sessions, the first and the
    last), and answer the differences. Writes go to sessions of their own."""
    differences = []
    with httpx.Client(timeout=30) as client:

        def both(workload: Workload, project_id: str, floor_id: str) -> None:
            project = client.post(
                f"{project_url}/graphql",
                content=workload.body().replace(ID_MARKER, project_id),
                headers={"content-type": "application/json"},
            )
            floor = client.post(
                f"{floor_url}/floor/{workload.key}",
                content=workload.body().replace(ID_MARKER, floor_id),
                headers={"content-type": "application/json"},
            )
            difference = compare(workload, (project_id, floor_id), project, floor)
            if difference is not None:
                differences.append(difference)

        for workload in workloads:
            if workload.ids == "static":
                both(workload, "", "")
            elif workload.ids == "new":
                nonce = uuid.uuid4().hex[:12]
                both(workload, f"check-{nonce}-project", f"check-{nonce}-floor")
            else:
                first = sessions // 2 if workload.ids == "upper" else 0
                numbers = sorted({first, first + 1, (first + sessions) // 2, sessions - 2, sessions - 1})
                for number in numbers:
                    both(workload, session_id(number), session_id(number))
                if not workload.write:
                    both(workload, "no-such-session", "no-such-session")
    return differences


# --- the statements ---------------------------------------------------------------------------

_COLUMN_LIST = re.compile(
    r'(?<=SELECT )("[a-z_]+"(?: "[a-z_]+")?(?:,"[a-z_]+"(?: "[a-z_]+")?)*)(?= FROM)|'
    r'(?<=\()("[a-z_]+"(?:,"[a-z_]+")+)(?=\))'
)
_DOLLAR = re.compile(r"\$\d+")
# asyncpg's PostgreSQL LISTEN relay checks its connection now and then (broadcast/).
_BACKGROUND = {"SELECT 1"}


def normalise(statement: str) -> str:
    statement = _DOLLAR.sub("?", " ".join(statement.split()))
    return _COLUMN_LIST.sub(lambda match: ",".join(sorted(match.group(0).split(","))), statement)


@dataclass
class StatementRecorder:
    """Records the SQL text of every statement the two drivers run while `recording`."""

    statements: list[str] = field(default_factory=list)
    recording: bool = False

    def wrap(self, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def recorded(connection: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
            if self.recording and sql.strip() not in _BACKGROUND:
                self.statements.append(normalise(sql))
            return await method(connection, sql, *args, **kwargs)

        return recorded

    @contextlib.contextmanager
    def installed(self) -> Iterator[StatementRecorder]:
        targets = [(aiosqlite.Connection, name) for name in ("execute", "execute_fetchall", "execute_insert")] + [
            (asyncpg.connection.Connection, name) for name in ("execute", "fetch", "fetchrow", "fetchval")
        ]
        originals = [(owner, name, getattr(owner, name)) for owner, name in targets]
        for owner, name, method in originals:
            setattr(owner, name, self.wrap(method))
        try:
            yield self
        finally:
            for owner, name, method in originals:
                setattr(owner, name, method)

    @contextlib.asynccontextmanager
    async def one_request(self) -> AsyncIterator[list[str]]:
        self.statements, self.recording = [], True
        recorded = self.statements
        try:
            yield recorded
        finally:
            self.recording = False


@contextlib.asynccontextmanager
async def project_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The project's app in this process, on its database as its lifespan would open it (but
    without the lifespan's logging setup, event relay and sweeper, which run no statement of
    a request)."""
    from tortoise import Tortoise

    import models
    from models.tortoise_adapter import forget_compiled_statements
    from server import create_app
    from settings import Settings

    forget_compiled_statements()
    await Tortoise.init(config=models.tortoise_config(database_url))
    try:
        await models.prepare_database()
        app = create_app(Settings(database_url=database_url, ephemeral_ttl_seconds=0))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://project") as client:
            yield client
    finally:
        await Tortoise.close_connections()
        forget_compiled_statements()


@contextlib.asynccontextmanager
async def floor_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    from bench.floor import create_app

    app = create_app(database_url)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://floor") as client,
    ):
        yield client


async def statement_differences(database_url: str, workloads: Sequence[Workload], sessions: int) -> list[str]:
    """Run each workload once on the project and once on the floor (in this process) and
    answer, for those whose statements differ, what each sent."""
    recorder = StatementRecorder()
    nonce = uuid.uuid4().hex[:12]

    def body(workload: Workload, side: str) -> str:
        if workload.ids == "new":
            return workload.body().replace(ID_MARKER, f"sql-{nonce}-{side}")
        return workload.body().replace(ID_MARKER, session_id(sessions - 1))

    seen: dict[str, dict[str, list[str]]] = {"project": {}, "floor": {}}
    with recorder.installed():
        for side, client_for in (("project", project_client), ("floor", floor_client)):
            async with client_for(database_url) as client:
                for workload in workloads:
                    path = "/graphql" if side == "project" else f"/floor/{workload.key}"
                    async with recorder.one_request() as statements:
                        response = await client.post(
                            path, content=body(workload, side), headers={"content-type": "application/json"}
                        )
                    response.raise_for_status()
                    seen[side][workload.title] = sorted(statements)
    differences = []
    for workload in workloads:
        project, floor = seen["project"][workload.title], seen["floor"][workload.title]
        if not project:  # every workload reads the database: the recorder missed a driver method
            differences.append(f"{workload.title}: no statement recorded")
        elif project != floor:
            differences.append(
                f"{workload.title}: the floor sends other statements\n"
                + "".join(f"  project: {statement}\n" for statement in project)
                + "".join(f"  floor:   {statement}\n" for statement in floor)
            )
    return differences
