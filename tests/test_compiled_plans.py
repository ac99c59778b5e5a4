"""The fast path (schema/plans.py) answers every operation exactly as strawberry does.

Two apps, each over its own database: one with compiled operations, one without
(`KALITO_COMPILED_OPERATIONS=0`). Hypothesis draws the data (unicode names, ties in every
timestamp, personas, messages) and the documents, and the documents come from the schema
itself, read by introspection of the strawberry schema: any root field of Query or Mutation,
each of its arguments left out (when it may be), as a literal, as a variable (sent, sent null,
declared and not sent, with a default of its own), or as a literal whose fields or items are
again any of these, down to the scalars; selections of the fields of each type, with their
arguments drawn the same way, aliases, Apollo Client's `__typename`, fragments named and inline,
a field selected twice with other sub-selections. A field added to the schema is drawn from the
next run on, with nothing to copy here.

Every document goes to each app twice (on the compiled app, the first run, through strawberry,
teaches the plan, the second follows it), and often a third time with one variable changed
(refused, of the wrong type, left out): status, content type and body must be the same. A
write runs on each side from the same starting rows and must leave the same rows behind;
generated ids and the moments of writes are normalised before the comparison.

So that the comparison cannot pass because no plan was ever used, each document that plans.py
says it follows (everything drawn here but a per-object resolver inside a list, or any resolver
below a mutation's root field) must have a plan once strawberry answered it with data, and most
of the documents answered with data must have one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import functools
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    StringValueNode,
    get_named_type,
    is_required_argument,
    is_required_input_field,
    print_ast,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tortoise import connections

import models
from schema import build_schema
from schema.batches import batch_of
from schema.plans import CompiledOperations
from schema.strawberry_adapter import graphql_schema, strawberry_field
from server import create_app
from settings import Settings
from support.databases import postgres_url_for
from tests.conftest import open_database
from tests.tokens import bearer, jwt_settings, mint
from web.graphql_view import GraphQLView

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
ACCEPT_HEADERS = [
    JSON,
    GRAPHQL_RESPONSE_JSON,
    f"{GRAPHQL_RESPONSE_JSON},{JSON};q=0.9",  # Apollo Client 4
    f"multipart/mixed;deferSpec=20220824,{JSON}",  # Apollo Client 3
    "*/*",
]
BASE = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
GENERATED_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
# A pin's or a summary's generated id (models/rules.py kalito_style_id): its moment and random part.
GENERATED_KALITO_ID = re.compile(r"\b(pin|summary)_\d+_[0-9a-z]{9}\b")
# A moment as the API writes it or as a stored row prints: the data's are within a minute of BASE,
# any later one was made by a write (each side makes its own).
MOMENT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
NEW_MOMENTS_FROM = (BASE + timedelta(days=1)).isoformat()
DEFAULT_PERSONA_IDS = ("default-cloud", "default-local")
MALFORMED_IDS = ("", "bad id", "x" * 65, "é", "a/b")
# The schema the documents are drawn from, as strawberry builds it for the server.
SCHEMA: GraphQLSchema = graphql_schema(build_schema())
T = TypeVar("T")
Draw = Callable[..., Any]  # hypothesis' draw, from st.composite or st.data()


# --- two apps, each over its own database --------------------------------------------------------


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    method: str = "POST"
    accept: str = JSON
    content_type: str = JSON  # of a POST

    def describe(self) -> str:
        variables = shortened(repr(self.variables), 0)
        return f"{self.method} {self.query}\nvariables: {variables}\noperationName: {self.operation_name!r}"


class Answer(NamedTuple):
    status: int
    content_type: str
    body: str


def decoded(answer: Answer) -> Any:
    """The JSON body, or None for another (a 500's text)."""
    return (
        json.loads(answer.body) if answer.content_type.startswith(("application/json", GRAPHQL_RESPONSE_JSON)) else None
    )


def answered_data(answer: Answer) -> bool:
    body = decoded(answer)
    return isinstance(body, dict) and body.get("data") is not None


def shortened(text: str, around: int, width: int = 300) -> str:
    start = max(0, around - width)
    return ("..." if start else "") + text[start : around + width] + ("..." if around + width < len(text) else "")


def normalised(text: str) -> str:
    """Generated ids and the moments writes made, which each side makes its own."""
    text = GENERATED_UUID.sub("<uuid>", text)
    text = GENERATED_KALITO_ID.sub(r"<\1 id>", text)
    return MOMENT.sub(lambda moment: "<now>" if moment[0].replace(" ", "T") >= NEW_MOMENTS_FROM else moment[0], text)


def must_match(plain: object, compiled: object, run: str, request: GraphQLRequest) -> None:
    """Fails showing where the two differ: pytest's own diff of two answers of 100,000
    characters takes minutes, and hypothesis meets many while it shrinks."""
    if compiled != plain:
        plain_text, compiled_text = repr(plain), repr(compiled)
        at = next(
            (i for i, (one, other) in enumerate(zip(plain_text, compiled_text, strict=False)) if one != other),
            min(len(plain_text), len(compiled_text)),
        )
        raise AssertionError(
            f"run {run} of the compiled app differs from the plain app's answer to\n{request.describe()}\n"
            f"plain:    {shortened(plain_text, at)}\ncompiled: {shortened(compiled_text, at)}"
        )


async def send(http: httpx.AsyncClient, request: GraphQLRequest) -> Answer:
    headers = {"accept": request.accept}
    if request.method == "GET":
        params = {"query": request.query}
        if request.variables is not None:
            params["variables"] = json.dumps(request.variables)
        if request.operation_name is not None:
            params["operationName"] = request.operation_name
        response = await http.get("/graphql", params=params, headers=headers)
    else:
        payload: dict[str, Any] = {"query": request.query, "variables": request.variables}
        if request.operation_name is not None:
            payload["operationName"] = request.operation_name
        # ASCII with \u escapes, as a browser's JSON.stringify sends it
        headers["content-type"] = request.content_type
        response = await http.post("/graphql", content=json.dumps(payload), headers=headers)
    answer = Answer(response.status_code, response.headers.get("content-type", ""), normalised(response.text))
    return answer._replace(body=errors_in_one_order(answer))


def errors_in_one_order(answer: Answer) -> str:
    """The body with its errors sorted: root fields run concurrently, so the order in which two of
    them fail (on PostgreSQL above all) is the scheduler's, on either path."""
    body = decoded(answer)
    if not isinstance(body, dict) or len(body.get("errors") or ()) < 2:
        return answer.body
    body["errors"] = sorted(body["errors"], key=json.dumps)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def graphql_view(app: Any) -> GraphQLView:
    for route in app.routes:
        endpoint = getattr(route, "endpoint", None)
        if isinstance(endpoint, GraphQLView):
            return endpoint
    raise LookupError("the app serves no GraphQLView")


@dataclass
class Side:
    """One app and its database. Tortoise finds its database in a contextvar: everything a
    side does runs in the context captured where its database was opened."""

    http: httpx.AsyncClient
    context: contextvars.Context

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        async def job() -> T:
            return await work()

        return await asyncio.create_task(job(), context=self.context.copy())


@dataclass
class TwoPaths:
    compiled: Side
    plain: Side
    plans: CompiledOperations

    async def restore(self, dataset: Dataset) -> None:
        for side in (self.compiled, self.plain):
            await side.run(lambda: restore(dataset))

    async def compare(self, request: GraphQLRequest) -> Answer:
        """The answer of both paths to a read, which must be the same on each run."""
        learning = await self.compiled.run(lambda: send(self.compiled.http, request))
        planned = await self.compiled.run(lambda: send(self.compiled.http, request))
        plain = await self.plain.run(lambda: send(self.plain.http, request))
        must_match(plain, learning, "1", request)
        must_match(plain, planned, "2", request)
        return plain

    async def compare_writes(self, dataset: Dataset, requests: list[GraphQLRequest]) -> list[Answer]:
        """Each side from the rows of `dataset` on its own database, each request sent twice in
        turn: the same answers, the same rows after them. The plain side's answers."""

        async def writes(side: Side) -> tuple[list[Answer], list[list[str]]]:
            await restore(dataset)
            answers = [await send(side.http, request) for request in requests for _ in range(2)]
            return answers, await stored_rows()

        plain_answers, plain_rows = await self.plain.run(lambda: writes(self.plain))
        compiled_answers, compiled_rows = await self.compiled.run(lambda: writes(self.compiled))
        for number, (plain, compiled) in enumerate(zip(plain_answers, compiled_answers, strict=True)):
            must_match(plain, compiled, str(number % 2 + 1), requests[number // 2])
        must_match(plain_rows, compiled_rows, "rows after", requests[-1])
        return plain_answers[::2]

    def has_plan(self, request: GraphQLRequest) -> bool:
        return self.plans.plan_for(request.query, request.operation_name) is not None


def another_database_url(database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite://{tmp_path / 'plain.db'}"
    return postgres_url_for("kalito_test_{}")


@pytest.fixture(params=["one user", "accounts"])
async def paths(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> AsyncIterator[TwoPaths]:
    """No lifespan runs under ASGITransport: each app uses the database of its side's context.
    With accounts, every request is alice's (the datasets' rows are alice's and bob's)."""
    accounts = jwt_settings() if request.param == "accounts" else {}
    headers = bearer(mint("alice", exp_in=3600)) if accounts else {}
    compiled_app = create_app(Settings(database_url=database_url, compiled_operations=True, **accounts))
    plain_app = create_app(Settings(database_url=database_url, compiled_operations=False, **accounts))
    plans = graphql_view(compiled_app).schema.compiled
    assert plans is not None
    assert graphql_view(plain_app).schema.compiled is None

    def client(app: Any) -> httpx.AsyncClient:
        # an exception the app lets escape is the 500 a client gets, to compare like any answer
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://kalito.test", headers=headers)

    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(open_database(database_url))
        compiled = Side(await stack.enter_async_context(client(compiled_app)), contextvars.copy_context())
        await stack.enter_async_context(open_database(another_database_url(database_url, tmp_path)))
        plain = Side(await stack.enter_async_context(client(plain_app)), contextvars.copy_context())
        yield TwoPaths(compiled, plain, plans)


@dataclass
class PlanTally:
    """How many documents were drawn, how many strawberry answered with data (a document
    refused as a whole, or whose root field failed, is never planned), and how many of those
    the compiled app had a plan for."""

    counts: Counter[str] = field(default_factory=Counter)

    def record(self, answer: Answer, planned: bool) -> None:
        self.counts["documents"] += 1
        body = decoded(answer)
        for error in body.get("errors", [])[:1] if isinstance(body, dict) else ():
            extensions = error.get("extensions", {})
            self.counts[" ".join(str(extensions[key]) for key in ("code", "field") if extensions.get(key))] += 1
        if answered_data(answer):
            self.counts["answered with data"] += 1
            self.counts["planned"] += planned


@pytest.fixture
def plan_tally(request: pytest.FixtureRequest) -> Iterator[PlanTally]:
    """Shared by all the examples of a test: after the last one, most of the documents
    answered with data had a plan. (`pytest -s` shows the counts.)"""
    tally = PlanTally()
    yield tally
    print(f"\n{request.node.name}: {dict(tally.counts)}")
    assert tally.counts["planned"] >= 0.5 * tally.counts["answered with data"], tally.counts


def examples(count: int) -> settings:
    """Few examples, each several requests: the file runs in about a minute per database."""
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- data ----------------------------------------------------------------------------------------

MOMENTS = st.sampled_from([0, 1, 2, 1_000, 60_000]).map(lambda ms: BASE + timedelta(milliseconds=ms))
# Printable unicode (what the API stores: no control characters, trimmed), and names that
# meet the search filter's case folding and its escaped LIKE characters.
TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=12)
NAMES = st.one_of(
    TEXT.map(str.strip).filter(bool),
    st.sampled_from(["Trip", "trip", "TRIP 100%", "a_b", "Émile", "émile", "🦉 owl", "会话"]),
)
MODELS = st.sampled_from([None, "llama3", "Llama3", "gpt-4.1-nano"])
# Short, and prefixed by a letter where used: never a generated UUID, never a message id.
ROW_IDS = st.text("abz09_-", min_size=1, max_size=4)
IMPORTANCES = st.sampled_from([0.0, 0.5, 0.8, 0.8, 1.0])


@dataclass(frozen=True)
class Dataset:
    """Rows as the models layer creates them (much faster than one mutation each)."""

    personas: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    pins: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        """Every row's id, as a client would send it."""
        return [
            *DEFAULT_PERSONA_IDS,
            *(row["id"] for row in (*self.personas, *self.sessions, *self.pins, *self.summaries)),
            *(str(row["id"]) for row in self.messages),
        ]

    @property
    def moments(self) -> list[datetime]:
        return sorted({row[column] for row in self.sessions for column in ("created_at", "updated_at")} | {BASE})


OWNERS = st.sampled_from(["alice", "bob"])


@st.composite
def datasets(draw: st.DrawFn, max_sessions: int = 8) -> Dataset:
    personas = [
        {
            "id": persona_id,
            "name": draw(NAMES),
            "prompt": draw(TEXT),
            "description": draw(st.none() | TEXT),
            "icon": draw(st.sampled_from([None, "🦉", "☁️"])),
            "category": draw(st.sampled_from([None, "cloud", "cuisine"])),
            "default_model": draw(MODELS),
            "created_at": BASE,
            "updated_at": draw(MOMENTS),
            "owner_id": draw(OWNERS),
        }
        for persona_id in draw(st.lists(st.sampled_from(["chef", "poet"]), unique=True))
    ]
    persona_choices = [None, *DEFAULT_PERSONA_IDS, *(persona["id"] for persona in personas)]
    sessions = []
    # two at least: a page of one cannot mix up its rows (or their personas)
    for session_id in draw(st.lists(ROW_IDS.map("s".__add__), min_size=2, max_size=max_sessions, unique=True)):
        created, updated = sorted([draw(MOMENTS), draw(MOMENTS)])
        sessions.append(
            {
                "id": session_id,
                "name": draw(NAMES),
                "model": draw(MODELS),
                "recap": draw(st.none() | NAMES),
                "persona_id": draw(st.sampled_from(persona_choices)),
                "saved": draw(st.booleans()),
                # With accounts, the requests are alice's: bob's rows must stay out of every answer.
                "owner_id": draw(OWNERS),
                "created_at": created,
                "updated_at": updated,
            }
        )
    messages = [
        {
            "session_id": session["id"],
            "role": draw(st.sampled_from(models.MessageRole)),
            "text": draw(TEXT),
            "model": draw(MODELS),
            "token_usage": draw(st.sampled_from([None, 0, 7, 2**31 - 1])),
            "created_at": draw(MOMENTS),
        }
        for session in sessions
        for _ in range(draw(st.integers(0, 3)))
    ]
    messages = [{"id": number, **row} for number, row in enumerate(messages, 1)]
    # Pins and summaries with ties in importance and time, ids that locales order otherwise than
    # by code point ("p-a", "p_a", "pa"), and references to messages of their session.
    message_ids = {
        session["id"]: [row["id"] for row in messages if row["session_id"] == session["id"]] for session in sessions
    }
    pins, summaries = [], []
    for pin_id in draw(st.lists(ROW_IDS.map("p".__add__), max_size=4, unique=True)):
        owner = draw(st.sampled_from(sessions))["id"]
        pins.append(
            {
                "id": pin_id,
                "session_id": owner,
                "content": draw(TEXT),
                "source_message_id": draw(st.sampled_from([None, *message_ids[owner]])),
                "importance": draw(IMPORTANCES),
                "type": draw(st.sampled_from(models.PinType)),
                "created_at": draw(MOMENTS),
            }
        )
    for summary_id in draw(st.lists(ROW_IDS.map("u".__add__), max_size=3, unique=True)):
        owner = draw(st.sampled_from(sessions))["id"]
        summaries.append(
            {
                "id": summary_id,
                "session_id": owner,
                "text": draw(TEXT),
                "message_count": draw(st.sampled_from([0, 2, 40])),
                "start_message_id": draw(st.sampled_from([None, *message_ids[owner]])),
                "end_message_id": draw(st.sampled_from([None, *message_ids[owner]])),
                "importance": draw(IMPORTANCES),
                "created_at": draw(MOMENTS),
            }
        )
    return Dataset(personas, sessions, messages, pins, summaries)


async def restore(dataset: Dataset) -> None:
    """Exactly the rows of `dataset` (and the default personas), the next message id included:
    the examples of a test share the databases, and each write starts from the same state."""
    await models.Message.all().delete()
    await models.Session.all().delete()
    await models.Persona.all().delete()
    await models.Persona.ensure_defaults()  # as on first start (a write may have changed one)
    await models.Persona.bulk_create([models.Persona(**row) for row in dataset.personas])
    await models.Session.bulk_create([models.Session(**row) for row in dataset.sessions])
    await models.Message.bulk_create([models.Message(**row) for row in dataset.messages])
    await models.chain_every_session()
    await models.Pin.bulk_create([models.Pin(**row) for row in dataset.pins])
    await models.Summary.bulk_create([models.Summary(**row) for row in dataset.summaries])
    connection = connections.get("default")
    last_id = max((row["id"] for row in dataset.messages), default=0)
    if connection.capabilities.dialect == "sqlite":
        await connection.execute_script(f"UPDATE sqlite_sequence SET seq = {last_id} WHERE name = 'messages'")
    else:
        await connection.execute_query(f"SELECT setval(pg_get_serial_sequence('messages', 'id'), {last_id + 1}, false)")


async def stored_rows() -> list[list[str]]:
    """Every row, normalised, to compare what two sides' writes left behind: in the order of
    the normalised rows (generated ids sort anywhere among the others)."""
    tables = [
        await model.all().values()
        for model in (models.Persona, models.Session, models.Message, models.Pin, models.Summary)
    ]
    return [sorted(normalised(json.dumps(row, default=str, ensure_ascii=False)) for row in rows) for rows in tables]


# --- values of the schema's input types ----------------------------------------------------------


@dataclass
class Pool:
    """What a document's values are drawn from: the rows' ids and moments, and the cursors
    earlier answers gave."""

    dataset: Dataset
    cursors: list[str] = field(default_factory=list)

    def learn(self, answer: Answer) -> None:
        for value in strings_in(decoded(answer)):
            if value not in self.cursors and is_cursor(value):
                self.cursors.append(value)


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def is_cursor(value: str) -> bool:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except ValueError:
        return False
    return isinstance(decoded, list) and len(decoded) == 3


def forged_cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


FORGED_CURSORS = [
    "",
    "not a cursor",
    "e30",  # {}
    forged_cursor("NO_SUCH_ORDER", "2025-09-16T10:08:36.188000+00:00", "s1"),
    forged_cursor("UPDATED_AT_DESC", "yesterday", "s1"),
    forged_cursor("UPDATED_AT_DESC", "2025-09-16T10:08:36.188000+00:00", "nobody"),
    forged_cursor("NAME_ASC", 5, "s1"),
    forged_cursor("NAME_ASC", "Trip", ""),
]
INTS = [0, 1, 2, 3, 5, 20, 100, 101, -1, 2**31 - 1]
# importance, temperature, topP, repeatPenalty: in and out of their ranges, -0.0, an integer
FLOATS = [0.0, -0.0, 0.5, 0.8999999999999999, 1.0, 1.0000001, 2.0, 2.5, -0.1, 1601, 1e-07]
# metadata: a map of strings, and what its rule refuses (keys are GraphQL names: also literals)
JSON_VALUES: list[Any] = [
    {},
    {"topic": "Poe", "kalito_care_category": "elder"},
    {"topic": ""},
    {"k" * 65: "v"},
    {"topic": "v" * 513},
    {"pages": 12},
    {"nested": {"a": "b"}},
    {"tags": ["a"]},
    {"gone": None},
    ["not", "a", "map"],
    "text",
    3.5,
    True,
]


def sometimes(draw: Draw, probability: float) -> bool:
    """True with about this probability (hypothesis' floats and integers favour their bounds)."""
    return bool(draw(st.sampled_from(range(20))) < probability * 20)


def scalar_values(scalar: GraphQLScalarType, pool: Pool) -> st.SearchStrategy[Any]:
    """Values of a scalar by its name: mostly what the data holds, else what the API refuses."""
    # (a branch twice: drawn twice as often)
    if scalar.name == "ID":
        rows = st.sampled_from(pool.dataset.ids)
        fresh = ROW_IDS.map("n".__add__)  # no row has it: a create makes one
        return st.one_of(rows, rows, fresh, st.sampled_from(["nobody", *MALFORMED_IDS]))
    if scalar.name == "String":
        cursors = st.sampled_from(pool.cursors) if pool.cursors else NAMES
        odd = st.sampled_from(["", "   ", "  padded  ", "x" * 201, "a\x07b", "%", "_", *FORGED_CURSORS])
        return st.one_of(NAMES, NAMES, cursors, MODELS.filter(bool), odd)
    if scalar.name == "Int":
        return st.sampled_from(INTS)
    if scalar.name == "Float":
        return st.sampled_from([0, 0.5, 0.8, 1, 1.5, -0.25])
    if scalar.name == "Boolean":
        return st.booleans()
    if scalar.name == "Float":
        return st.one_of(st.sampled_from(FLOATS), st.sampled_from(INTS))
    if scalar.name == "JSON":
        return st.sampled_from(JSON_VALUES)
    if scalar.name == "DateTime":
        near = st.builds(
            lambda moment, shift: (moment + timedelta(milliseconds=shift)).isoformat().replace("+00:00", "Z"),
            st.sampled_from(pool.dataset.moments),
            st.sampled_from([0, 0, -1, 1]),
        )
        return st.one_of(near, st.sampled_from(["2025-09-16T10:08:36.188+02:00", "2025-09-16", "soon"]))
    raise AssertionError(f"a scalar this test has no values for: {scalar.name} (add them to scalar_values)")


def input_values(draw: Draw, type_: GraphQLInputType, pool: Pool, *, nullable: bool = True) -> Any:
    """A value of `type_` as a client sends it in variables (an enum by its name)."""
    if isinstance(type_, GraphQLNonNull):
        return input_values(draw, type_.of_type, pool, nullable=False)
    if nullable and sometimes(draw, 0.1):
        return None
    if isinstance(type_, GraphQLList):
        return [input_values(draw, type_.of_type, pool) for _ in range(draw(st.integers(0, 3)))]
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: input_values(draw, input_field.type, pool)
            for name, input_field in type_.fields.items()
            if is_required_input_field(input_field) or sometimes(draw, 0.5)
        }
    if isinstance(type_, GraphQLEnumType):
        return draw(st.sampled_from(list(type_.values)))
    assert isinstance(type_, GraphQLScalarType)
    return draw(scalar_values(type_, pool))


Writer = Callable[[Any, GraphQLInputType], str]


def composite(value: Any, type_: GraphQLInputType, write: Writer) -> str:
    """A list or input object written with its items or fields each written by `write`."""
    type_ = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(type_, GraphQLList):
        return "[" + ", ".join(write(item, type_.of_type) for item in value) + "]"
    assert isinstance(type_, GraphQLInputObjectType)
    return "{" + ", ".join(f"{name}: {write(item, type_.fields[name].type)}" for name, item in value.items()) + "}"


def literal(value: Any, type_: GraphQLInputType) -> str:
    """`value` written in a document at a position of `type_`."""
    type_ = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if value is None:
        return "null"
    if isinstance(type_, (GraphQLList, GraphQLInputObjectType)):
        return composite(value, type_, literal)
    if isinstance(type_, GraphQLEnumType):
        return str(value)
    if isinstance(type_, GraphQLScalarType) and type_.name == "JSON":
        return json_literal(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # 1e-07 and -0.0 are GraphQL literals too
    return print_ast(StringValueNode(value=value))


def json_literal(value: Any) -> str:
    """A JSON value as a GraphQL literal: an object's keys as names, a list's items, a scalar."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {json_literal(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(json_literal(item) for item in value) + "]"
    return "null" if value is None else literal(value, GraphQLString)


# --- documents drawn from the schema -------------------------------------------------------------


class Document:
    """One document being drawn: its text grows while the draws say what goes in it."""

    def __init__(self, draw: Draw, pool: Pool, *, mutation: bool = False) -> None:
        self.draw = draw
        self.pool = pool
        self.mutation = mutation
        self.variable_definitions: list[str] = []
        self.variables: dict[str, Any] = {}
        self.variable_types: dict[str, GraphQLInputType] = {}
        self.fragments: list[str] = []
        self.names = count()
        self.apollo = sometimes(draw, 0.5)  # Apollo Client: __typename in every selection set
        self.plannable = True
        # a field's arguments, once per response key: a merged field must have the same ones
        self.field_arguments: dict[tuple[str, str], str] = {}

    # arguments and values

    def arguments(self, definition: GraphQLField) -> str:
        given = []
        for name, argument in definition.args.items():
            if not is_required_argument(argument) and sometimes(self.draw, 0.4):
                continue  # left out: the argument's default
            value = input_values(self.draw, argument.type, self.pool)
            given.append(f"{name}: {self.value(value, argument.type)}")
        return f"({', '.join(given)})" if given else ""

    def value(self, value: Any, type_: GraphQLInputType) -> str:
        """`value` at a position of `type_`: a literal, a variable, or a literal whose fields or
        items are again any of these."""
        nested = isinstance(value, (dict, list)) and not isinstance(get_named_type(type_), GraphQLScalarType)
        choice = self.draw(st.sampled_from(["literal", "variable", "inside"] if nested else ["literal", "variable"]))
        if choice == "literal":
            return literal(value, type_)
        if choice == "variable":
            return self.variable(value, type_)
        return composite(value, type_, self.value)

    def variable(self, value: Any, type_: GraphQLInputType) -> str:
        same_type = [name for name, declared in self.variable_types.items() if str(declared) == str(type_)]
        if same_type and sometimes(self.draw, 0.15):
            return f"${self.draw(st.sampled_from(same_type))}"  # one variable in two places
        name = f"v{next(self.names)}"
        declared = type_
        if isinstance(type_, GraphQLNonNull) and sometimes(self.draw, 0.15):
            declared = type_.of_type  # allowed where non-null as it has a default
            default = f" = {literal(input_values(self.draw, type_, self.pool), type_)}"
        elif not isinstance(type_, GraphQLNonNull) and sometimes(self.draw, 0.2):
            default = f" = {literal(input_values(self.draw, type_, self.pool), type_)}"
        else:
            default = ""
        self.variable_definitions.append(f"${name}: {declared}{default}")
        self.variable_types[name] = declared
        if isinstance(declared, GraphQLNonNull) or not sometimes(self.draw, 0.2):
            self.variables[name] = value
        # else declared and not sent: its default, or the position's
        return f"${name}"

    # selections

    def selection(self, parent: GraphQLObjectType, *, in_list: bool) -> str:
        candidates = list(parent.fields)
        if self.mutation and sometimes(self.draw, 0.5):
            # what a plan follows below a mutation's root field: no resolver (else strawberry runs it)
            candidates = [name for name in candidates if not has_resolver(parent.fields[name])] or candidates
        names = self.draw(st.permutations(candidates))[: self.draw(st.sampled_from(range(1, 7)))]
        aliases = {name: self.alias() for name in names}
        items = [self.field(parent, name, aliases[name], in_list=in_list) for name in names]
        if self.apollo or sometimes(self.draw, 0.3):
            items.append(f"{self.alias()}__typename")
        objects = [name for name in names if isinstance(get_named_type(parent.fields[name].type), GraphQLObjectType)]
        if objects and sometimes(self.draw, 0.3):  # selected again, another sub-selection: merged
            again = self.draw(st.sampled_from(objects))
            items.append(self.field(parent, again, aliases[again], in_list=in_list))
        return "{ " + " ".join(self.grouped(parent.name, items)) + " }"

    def alias(self) -> str:
        return f"a{next(self.names)}: " if sometimes(self.draw, 0.2) else ""

    def field(self, parent: GraphQLObjectType, name: str, alias: str, *, in_list: bool) -> str:
        definition = parent.fields[name]
        self.note_resolver(parent, definition, in_list=in_list)
        key = (parent.name, alias or name)
        if key not in self.field_arguments:
            self.field_arguments[key] = self.arguments(definition)
        text = f"{alias}{name}{self.field_arguments[key]}"
        output = get_named_type(definition.type)
        if not isinstance(output, GraphQLObjectType):
            return text
        nullable = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
        return f"{text} {self.selection(output, in_list=in_list or isinstance(nullable, GraphQLList))}"

    def note_resolver(self, parent: GraphQLObjectType, definition: GraphQLField, *, in_list: bool) -> None:
        """What plans.py does not follow: a resolver run once per object of a list (unless the
        field loads in batches), and any resolver below a mutation's root field."""
        field = strawberry_field(definition)
        if field is None or not has_resolver(definition):
            return
        below_root = parent not in (SCHEMA.query_type, SCHEMA.mutation_type)
        if (self.mutation and below_root) or (in_list and batch_of(field.metadata) is None):
            self.plannable = False

    def grouped(self, type_name: str, items: list[str]) -> list[str]:
        """Some of the items moved into an inline fragment or a named one."""
        items = self.draw(st.permutations(items))
        moved = self.draw(st.integers(0, len(items)))
        wrapper = self.draw(st.sampled_from(["none", "inline", "typed inline", "named", "named twice"]))
        if wrapper == "none" or moved == 0:
            return items
        inner = " ".join(items[:moved])
        if wrapper == "inline":
            return [f"... {{ {inner} }}", *items[moved:]]
        if wrapper == "typed inline":
            return [*items[moved:], f"... on {type_name} {{ {inner} }}"]
        name = f"F{next(self.names)}"
        self.fragments.append(f"fragment {name} on {type_name} {{ {inner} }}")
        return [f"...{name}", *items[moved:], *([f"...{name}"] if wrapper == "named twice" else [])]

    def text(self, operation: str, name: str | None, root: str) -> str:
        definitions = f"({', '.join(self.variable_definitions)})" if self.variable_definitions else ""
        signature = f"{name or ''}{definitions}"
        head = f"{operation} {signature} " if signature else ("" if operation == "query" else f"{operation} ")
        return "\n".join([f"{head}{root}", *self.fragments])

    def root(self, root_type: GraphQLObjectType, names: list[str]) -> str:
        """The root fields; a mutation's repeated one is the same write again, merged."""
        aliases: dict[str, str] = {}
        fields = []
        for name in names:
            if name in aliases and self.mutation:
                alias = aliases[name]
            else:
                alias = f"r{next(self.names)}: " if name in aliases or sometimes(self.draw, 0.2) else ""
            aliases.setdefault(name, alias)
            fields.append("__typename" if name == "__typename" else self.field(root_type, name, alias, in_list=False))
        return "{ " + " ".join(self.grouped(root_type.name, fields)) + " }"


def has_resolver(definition: GraphQLField) -> bool:
    field = strawberry_field(definition)
    return field is not None and field.base_resolver is not None


def draw_query(draw: Draw, pool: Pool) -> tuple[GraphQLRequest, Document]:
    document = Document(draw, pool)
    assert SCHEMA.query_type is not None
    roots = draw(st.lists(st.sampled_from([*SCHEMA.query_type.fields, "__typename"]), min_size=1, max_size=3))
    name = draw(st.sampled_from([None, "Page", "Sidebar"]))
    query = document.text("query", name, document.root(SCHEMA.query_type, roots))
    operation_name = draw(st.sampled_from([None, name])) if name else None
    if name and sometimes(draw, 0.15):  # several operations: operationName picks one
        query += "\nquery Other { __typename }"
        operation_name = name
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET"]))
    accept = draw(st.sampled_from(ACCEPT_HEADERS))
    # the planned fast path takes exactly application/json; strawberry reads the others
    content_types = [JSON, f"{JSON}; charset=utf-8"] if sometimes(draw, 0.9) else [GRAPHQL_RESPONSE_JSON]
    content_type = draw(st.sampled_from(content_types))
    variables = document.variables if document.variable_definitions or sometimes(draw, 0.5) else None
    return GraphQLRequest(query, variables, operation_name, method, accept, content_type), document


def draw_mutation(draw: Draw, pool: Pool) -> tuple[GraphQLRequest, Document]:
    """One root field: a plan runs a single mutation (several are each their own transaction)."""
    document = Document(draw, pool, mutation=True)
    assert SCHEMA.mutation_type is not None
    roots = [draw(st.sampled_from(list(SCHEMA.mutation_type.fields)))]
    if sometimes(draw, 0.2):
        roots.append(roots[0])  # the same write again, merged (perhaps with another selection)
    name = draw(st.sampled_from([None, "Write"]))
    text = document.text("mutation", name, document.root(SCHEMA.mutation_type, roots))
    return GraphQLRequest(text, document.variables), document


# Integers beyond 64 bits too: a JSON parser may round them (orjson makes them floats).
BEYOND_64_BITS = (-(2**63) - 1, 2**64)
WRONG_VARIABLE_VALUES = st.sampled_from(["ten", 2**40, *BEYOND_64_BITS, 1.5, True, {"id": "x"}, [1], "", None])


def with_other_variables(draw: Draw, request: GraphQLRequest, document: Document) -> GraphQLRequest:
    """The same document (planned by now) with one variable changed: to another value of its
    type, to one of the wrong type, to null, or left out (a request error when it is required)."""
    variables = dict(request.variables or {})
    name = draw(st.sampled_from(sorted(document.variable_types)))
    change = draw(st.sampled_from(["another", "another", "wrong", "missing"]))
    if change == "missing":
        variables.pop(name, None)
    elif change == "another":
        variables[name] = input_values(draw, document.variable_types[name], document.pool)
    else:
        variables[name] = draw(WRONG_VARIABLE_VALUES)
    return replace(request, variables=variables)


# --- reads ---------------------------------------------------------------------------------------


@examples(80)
@given(dataset=datasets(), data=st.data())
async def test_queries_answer_the_same_on_both_paths(
    paths: TwoPaths, plan_tally: PlanTally, dataset: Dataset, data: st.DataObject
) -> None:
    await paths.restore(dataset)
    pool = Pool(dataset)
    for _ in range(data.draw(st.integers(4, 8), label="documents")):
        request, document = draw_query(data.draw, pool)
        answer = await paths.compare(request)
        pool.learn(answer)
        planned = paths.has_plan(request)
        plan_tally.record(answer, planned)
        if document.plannable and answered_data(answer) and request.method == "POST":
            assert planned, f"no plan for a document plans.py follows:\n{request.describe()}"
        if document.variable_types and sometimes(data.draw, 0.4):
            await paths.compare(with_other_variables(data.draw, request, document))


@pytest.mark.parametrize("number", BEYOND_64_BITS)
async def test_an_integer_beyond_64_bits_is_read_exactly_on_the_planned_path(paths: TwoPaths, number: int) -> None:
    """An ID may be sent as a JSON integer: stored exactly as written, not rounded."""
    query = "mutation ($input: CreatePersonaInput!) { createPersona(input: $input) { id } }"
    for persona_id in (number, number - 1 if number < 0 else number + 1):  # learning, then planned
        request = GraphQLRequest(query=query, variables={"input": {"id": persona_id, "name": "P", "prompt": "p"}})
        answer = await paths.compiled.run(functools.partial(send, paths.compiled.http, request))
        assert decoded(answer) == {"data": {"createPersona": {"id": str(persona_id)}}}
    assert paths.has_plan(request)


# --- writes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteCase:
    """Requests of one write document over one dataset, sent in turn on each side."""

    dataset: Dataset
    requests: list[GraphQLRequest]
    plannable: bool  # as plans.py promises: no resolver below the mutation's root field


@st.composite
def write_cases(draw: st.DrawFn) -> WriteCase:
    dataset = draw(datasets(max_sessions=3))
    pool = Pool(dataset)
    request, document = draw_mutation(draw, pool)
    requests = [request]
    if document.variable_types and sometimes(draw, 0.5):
        requests.append(with_other_variables(draw, request, document))
    if sometimes(draw, 0.1):  # a mutation over GET: 405 on both
        requests.append(replace(request, method="GET"))
    return WriteCase(dataset, requests, document.plannable)


def written_case(query: str, *variables: dict[str, Any], plannable: bool = True) -> WriteCase:
    return WriteCase(ONE_SESSION, [GraphQLRequest(query, values) for values in variables], plannable)


ONE_SESSION = Dataset(
    [{"id": "p0", "name": "Mine", "prompt": "p", "created_at": BASE, "updated_at": BASE, "owner_id": "alice"}],
    [
        {
            "id": "s1",
            "name": "Chat",
            "model": None,
            "recap": None,
            "persona_id": None,
            "saved": False,
            "created_at": BASE,
            "updated_at": BASE,
            "owner_id": "alice",  # the requests' user, with accounts
        }
    ],
    [],
)
# Found by this test: a planned mutation whose selection failed after the write (messages(first: 0)
# is BAD_USER_INPUT) let the exception escape, a 500, where strawberry answers the error beside
# the committed write. plans.py now leaves resolvers below a mutation's root field to strawberry.
NESTED_ERROR_AFTER_A_PLANNED_WRITE = written_case(
    "mutation ($input: CreateSessionInput!, $size: Int) "
    "{ createSession(input: $input) { id messages(first: $size) { totalCount } } }",
    {"input": {"id": "taught"}, "size": 1},
    {"input": {"id": "next"}, "size": 0},
    plannable=False,
)
# Found by this test: graphql-core collects a fragment spread twice in one selection set once
# (CollectFields skips the fragments it has visited); the plan collected it twice, so the error
# of a planned mutation named the field's location twice.
A_FRAGMENT_SPREAD_TWICE = written_case(
    "mutation ($input: AppendMessageInput!) { ...Append ...Append }\n"
    "fragment Append on Mutation { appendMessage(input: $input) { id } }",
    {"input": {"sessionId": "s1", "role": "USER", "text": "Hello"}},
    {"input": {"sessionId": "s1", "role": "USER", "text": ""}},
)
# Found by this test (issue 14): a variable inside an input-object literal reached graphql-core
# 3.3's get_argument_values as a plain dict, INTERNAL_SERVER_ERROR on every planned send.
A_VARIABLE_INSIDE_AN_INPUT_LITERAL = written_case(
    'mutation ($id: ID!) { updateSession(input: {id: $id, name: "x"}) { id name } }', {"id": "s1"}
)


@examples(200)
@given(case=write_cases())
@example(case=NESTED_ERROR_AFTER_A_PLANNED_WRITE).via("a nested error after a planned write")
@example(case=A_FRAGMENT_SPREAD_TWICE).via("a fragment spread twice")
@example(case=A_VARIABLE_INSIDE_AN_INPUT_LITERAL).via("a variable inside an input-object literal")
async def test_mutations_answer_and_store_the_same_on_both_paths(
    paths: TwoPaths, plan_tally: PlanTally, case: WriteCase
) -> None:
    answers = await paths.compare_writes(case.dataset, case.requests)
    for request, answer in zip(case.requests, answers, strict=True):
        planned = paths.has_plan(request)
        plan_tally.record(answer, planned)
        # a document plans.py follows is planned once strawberry answered it with data (not one
        # that a limit refused: KALITO_MAX_ALIASES counts a fragment's aliases at each spread)
        if case.plannable and answered_data(answer) and request.method == "POST":
            assert planned, f"no plan for a write:\n{request.describe()}"


# Writes whose every argument is a non-null variable of a built-in scalar: the plan hands the
# coerced variables to the resolver itself, without strawberry's argument conversion, and coerces
# the variables without graphql-core's walk (schema/plans.py, direct_arguments and Plan.coerce).
SAVE = (
    "mutation Save($id: ID!, $name: String!, $recap: String!) "
    "{ saveSession(id: $id, name: $name, recap: $recap) { id name recap saved updatedAt } }"
)
DELETE = "mutation Delete($id: ID!) { deleteSession(id: $id) }"
# Each document: a request that succeeds (it teaches the plan), then the same document with
# other variables: valid, refused by a rule, of the wrong type, null, missing, extra.
SCALAR_ARGUMENT_WRITES = [
    (
        SAVE,
        {"id": "s1", "name": "Saved", "recap": "A recap"},
        [
            {"id": "s1", "name": "Other", "recap": ""},
            {"id": "s1", "name": "", "recap": "x"},
            {"id": "s1", "name": "x" * 201, "recap": "x"},
            {"id": "unknown", "name": "n", "recap": "r"},
            {"id": 1, "name": "n", "recap": "r"},
            {"id": "s1", "name": 5, "recap": "r"},
            {"id": "s1", "name": None, "recap": "r"},
            {"id": "s1", "recap": "r"},
            {"id": "s1", "name": "n", "recap": "r", "unused": 1},
        ],
    ),
    (
        DELETE,
        {"id": "s1"},
        [{"id": "unknown"}, {"id": 12}, {"id": 1.5}, {"id": True}, {"id": None}, {}, {"id": ["s1"]}],
    ),
]


@pytest.mark.parametrize(("query", "taught", "others"), SCALAR_ARGUMENT_WRITES, ids=["saveSession", "deleteSession"])
async def test_writes_with_scalar_variables_answer_the_same_on_both_paths(
    paths: TwoPaths, query: str, taught: dict[str, Any], others: list[dict[str, Any]]
) -> None:
    (answer,) = await paths.compare_writes(ONE_SESSION, [GraphQLRequest(query, taught)])
    assert answered_data(answer)
    plan = paths.plans.plan_for(query, None)
    assert plan is not None and plan.root.fields[0].direct_arguments is not None  # the path under test
    for variables in others:
        await paths.compare_writes(ONE_SESSION, [GraphQLRequest(query, taught), GraphQLRequest(query, variables)])


# --- issue 14's reproducers ----------------------------------------------------------------------

# Each answered once, then INTERNAL_SERVER_ERROR on every planned send (the write not run): the
# plan handed graphql-core 3.3's get_argument_values a plain dict for its VariableValues.
REPRODUCERS = [
    ("mutation($id: ID!) { saveSession(id: $id) { id } }", "s1"),
    ('mutation($id: ID!) { saveSession(id: $id, name: "lit") { id } }', "s1"),
    ('mutation($id: ID!) { appendMessage(input: {sessionId: $id, role: USER, text: "hi"}) { id } }', "s1"),
    ('mutation($id: ID!) { updateSession(input: {id: $id, name: "x"}) { id } }', "s1"),
    ('mutation($id: ID!) { updatePersona(input: {id: $id, name: "x"}) { id } }', "p0"),
    ('mutation($id: ID!) { createPersona(input: {id: $id, name: "x", prompt: "p"}) { id } }', "p1"),
    ('mutation($id: ID!) { deleteSessions(ids: [$id, "x"]) }', "s1"),
]


@pytest.mark.parametrize(("query", "row_id"), REPRODUCERS, ids=[query.split("{ ")[1][:14] for query, _ in REPRODUCERS])
async def test_the_reproducers_answer_the_same_when_planned(paths: TwoPaths, query: str, row_id: str) -> None:
    request = GraphQLRequest(query, {"id": row_id})
    (first,) = await paths.compare_writes(ONE_SESSION, [request])  # sent twice on each side
    assert answered_data(first) and "errors" not in decoded(first)
    assert paths.has_plan(request)


DEEP_LIST = "[" * 970 + "]" * 970


async def test_variables_nested_too_deeply_are_refused_as_before_planning(paths: TwoPaths) -> None:
    """About 970 levels: strawberry's JSON parser refuses them (400); the planned path met a
    RecursionError in graphql-core's wording of the coercion error (a bare 500)."""
    query = "query ($id: ID!) { session(id: $id) { id } }"
    body = '{"query": %s, "variables": {"id": %s}}' % (json.dumps(query), DEEP_LIST)  # noqa: UP031
    headers = {"content-type": JSON}

    async def answers(side: Side) -> list[Answer]:
        sent = []
        for content in (json.dumps({"query": query, "variables": {"id": "s1"}}), body, body):
            response = await side.http.post("/graphql", content=content, headers=headers)
            sent.append(Answer(response.status_code, response.headers["content-type"], response.text))
        return sent

    plain = await paths.plain.run(lambda: answers(paths.plain))
    compiled = await paths.compiled.run(lambda: answers(paths.compiled))
    assert paths.has_plan(GraphQLRequest(query))
    assert compiled == plain
    assert plain[1].status == 400
    assert json.loads(plain[1].body) == {
        "errors": [{"message": "The JSON is nested too deeply", "extensions": {"code": "BAD_REQUEST"}}]
    }
