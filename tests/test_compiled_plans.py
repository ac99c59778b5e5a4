"""The fast path (schema/plans.py) answers every operation exactly as strawberry does.

Two apps over one database, one with compiled operations and one without
(`KALITO_COMPILED_OPERATIONS=0`). Hypothesis draws the data (unicode names, ties in every
timestamp, personas, messages) and the documents, from a small grammar of what clients send:
Apollo Client's `__typename` everywhere, aliases, named and inline fragments, a field selected
twice with different sub-selections, arguments as variables or literals, cursors of earlier
pages and forged ones, unknown and malformed ids, wrong and missing variables. Every request
goes to the compiled app twice (the first run, through strawberry, teaches the plan; the second
follows it) and to the plain app once: status, content type and body bytes must be the same.
A write runs from the same starting rows on each path, with the clock frozen, and must leave
the same rows behind.

So that the comparison cannot pass because no plan was ever used, each document that plans.py
says it follows (everything here but a per-object resolver inside a list, or any resolver below
a mutation's root field) must have a plan once strawberry answered it with data, and most of the
documents answered with data must have one.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any, NamedTuple

import httpx
import pytest
from graphql import StringValueNode, print_ast
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tortoise import connections

import models
from bench import workloads
from schema.plans import CompiledOperations
from server import create_app
from settings import Settings
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
# Later than every drawn timestamp: a write's createdAt/updatedAt, the same on each path.
FROZEN_NOW = BASE + timedelta(days=1)
GENERATED_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
DEFAULT_PERSONA_IDS = ("default-cloud", "default-local")
MALFORMED_IDS = ("", "bad id", "x" * 65, "é", "a/b")


# --- two apps over one database ------------------------------------------------------------------


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


def must_match(plain: object, compiled: object, run: str, request: GraphQLRequest) -> None:
    """Fails showing where the two differ: pytest's own diff of two answers of 100,000
    characters takes minutes, and hypothesis meets many while it shrinks. (Run 1 teaches the
    plan, unless an earlier example of the test sent the same document.)"""
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
    return Answer(response.status_code, response.headers.get("content-type", ""), response.text)


def graphql_view(app: Any) -> GraphQLView:
    for route in app.routes:
        endpoint = getattr(route, "endpoint", None)
        if isinstance(endpoint, GraphQLView):
            return endpoint
    raise LookupError("the app serves no GraphQLView")


@dataclass
class TwoPaths:
    compiled: httpx.AsyncClient
    plain: httpx.AsyncClient
    plans: CompiledOperations

    async def compare(self, request: GraphQLRequest) -> Answer:
        """The answer of both paths to a read, which must be the same on each run."""
        learning = await send(self.compiled, request)
        planned = await send(self.compiled, request)
        plain = await send(self.plain, request)
        must_match(plain, learning, "1", request)
        must_match(plain, planned, "2", request)
        return plain

    def has_plan(self, request: GraphQLRequest) -> bool:
        return self.plans.plan_for(request.query, request.operation_name) is not None


@pytest.fixture
async def paths(db: str, database_url: str) -> AsyncIterator[TwoPaths]:
    # No lifespan runs under ASGITransport: both apps use the `db` fixture's Tortoise connection.
    compiled_app = create_app(Settings(database_url=database_url, compiled_operations=True))
    plain_app = create_app(Settings(database_url=database_url, compiled_operations=False))
    plans = graphql_view(compiled_app).schema.compiled
    assert plans is not None
    assert graphql_view(plain_app).schema.compiled is None

    def client(app: Any) -> httpx.AsyncClient:
        # an exception the app lets escape is the 500 a client gets, to compare like any answer
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://kalito.test")

    async with client(compiled_app) as compiled, client(plain_app) as plain:
        yield TwoPaths(compiled, plain, plans)


@dataclass
class PlanTally:
    """How many documents were sent, how many strawberry answered with data (a document
    refused as a whole, or whose root field failed, is never planned), and how many of those
    the compiled app had a plan for."""

    counts: Counter[str] = field(default_factory=Counter)

    def record(self, answer: Answer, planned: bool) -> None:
        self.counts["documents"] += 1
        if answered_data(answer):
            self.counts["answered with data"] += 1
            self.counts["planned"] += planned


@pytest.fixture
def plan_tally() -> Iterator[PlanTally]:
    """Shared by all the examples of a test: after the last one, most of the documents
    answered with data had a plan."""
    tally = PlanTally()
    yield tally
    assert tally.counts["planned"] >= 0.7 * tally.counts["answered with data"], tally.counts


def examples(count: int) -> settings:
    """Few examples, each several requests: the file runs in seconds per database."""
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write's timestamps the same on each path (`later_than` reads `now` too)."""
    monkeypatch.setattr(models.clock, "now", lambda: FROZEN_NOW)


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


@dataclass(frozen=True)
class Dataset:
    """Rows as the models layer creates them (much faster than one mutation each)."""

    personas: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    messages: list[dict[str, Any]]

    @property
    def persona_ids(self) -> list[str]:
        return [*DEFAULT_PERSONA_IDS, *(persona["id"] for persona in self.personas)]

    @property
    def session_ids(self) -> list[str]:
        return [session["id"] for session in self.sessions]

    @property
    def moments(self) -> list[datetime]:
        return sorted({row[column] for row in self.sessions for column in ("created_at", "updated_at")} | {BASE})


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
    return Dataset(personas, sessions, [{"id": number, **row} for number, row in enumerate(messages, 1)])


async def restore(dataset: Dataset) -> None:
    """Exactly the rows of `dataset` (and the default personas), the next message id included:
    the examples of a test share one database, and each write starts from the same state."""
    await models.Message.all().delete()
    await models.Session.all().delete()
    await models.Persona.filter(is_default=False).delete()
    await models.Persona.bulk_create([models.Persona(**row) for row in dataset.personas])
    await models.Session.bulk_create([models.Session(**row) for row in dataset.sessions])
    await models.Message.bulk_create([models.Message(**row) for row in dataset.messages])
    connection = connections.get("default")
    last_id = max((row["id"] for row in dataset.messages), default=0)
    if connection.capabilities.dialect == "sqlite":
        await connection.execute_script(f"UPDATE sqlite_sequence SET seq = {last_id} WHERE name = 'messages'")
    else:
        await connection.execute_query(f"SELECT setval(pg_get_serial_sequence('messages', 'id'), {last_id + 1}, false)")


async def stored_rows() -> str:
    """Every row, generated ids aside, to compare what two writes left behind."""
    tables = [await model.all().order_by("id").values() for model in (models.Persona, models.Session, models.Message)]
    return GENERATED_UUID.sub("<uuid>", json.dumps(tables, default=str, ensure_ascii=False))


# --- the grammar of documents --------------------------------------------------------------------


class EnumValue(str):
    """An enum value: bare in a document, a string in variables."""


def literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, EnumValue):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return print_ast(StringValueNode(value=value))
    return "{" + ", ".join(f"{name}: {literal(item)}" for name, item in value.items()) + "}"


# The output types of the schema this grammar selects from: each field's type, None for a leaf.
FIELDS: dict[str, dict[str, str | None]] = {
    "Session": {
        **dict.fromkeys(["id", "name", "model", "recap", "personaId", "saved", "createdAt", "updatedAt"]),
        "persona": "Persona",
        "messageCount": None,
        "messages": "MessageConnection",
    },
    "Persona": dict.fromkeys(
        [
            "id",
            "name",
            "prompt",
            "description",
            "icon",
            "category",
            "defaultModel",
            "isDefault",
            "createdAt",
            "updatedAt",
        ]
    ),
    "SessionConnection": {"edges": "SessionEdge", "pageInfo": "PageInfo", "totalCount": None},
    "SessionEdge": {"cursor": None, "node": "Session"},
    "MessageConnection": {"edges": "MessageEdge", "pageInfo": "PageInfo", "totalCount": None},
    "MessageEdge": {"cursor": None, "node": "Message"},
    "PageInfo": dict.fromkeys(["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]),
    "Message": dict.fromkeys(["id", "sessionId", "role", "text", "model", "tokenUsage", "createdAt"]),
}
LIST_FIELDS = {("SessionConnection", "edges"), ("MessageConnection", "edges")}
# The fields with a resolver of their own (the others are read off their object), and those of
# them loaded in batches, once for all the objects of a level. What plans.py does not follow: a
# resolver run once per object of a list, and any resolver below a mutation's root field.
RESOLVED_FIELDS = {
    ("Session", "persona"),
    ("Session", "messageCount"),
    ("Session", "messages"),
    ("MessageConnection", "totalCount"),
    ("SessionConnection", "totalCount"),
}
BATCHED_FIELDS = {("Session", "persona"), ("Session", "messageCount")}
FILTER_FIELDS = {
    "saved": "Boolean",
    "personaId": "ID",
    "model": "String",
    "search": "String",
    "updatedAfter": "DateTime",
    "updatedBefore": "DateTime",
}
ORDERS = [EnumValue(order.name) for order in models.SessionOrder]


def sometimes(draw: Callable[..., Any], probability: float) -> bool:
    """True with about this probability (hypothesis' floats and integers favour their bounds)."""
    return bool(draw(st.sampled_from(range(20))) < probability * 20)


class Document:
    """One document being drawn: its text grows while the draws say what goes in it."""

    def __init__(self, draw: Callable[..., Any], *, mutation: bool = False) -> None:
        self.draw = draw
        self.mutation = mutation
        self.variable_definitions: list[str] = []
        self.variables: dict[str, Any] = {}
        self.variable_types: dict[str, str] = {}
        self.fragments: list[str] = []
        self.names = count()
        self.apollo = sometimes(draw, 0.5)  # Apollo Client: __typename in every selection set
        self.plannable = True
        self._messages_arguments: str | None = None

    # arguments: inline or as variables

    def argument(self, name: str, graphql_type: str, value: Any, fields: dict[str, str] | None = None) -> str:
        return f"{name}: {self.value(graphql_type, value, fields)}"

    def value(self, graphql_type: str, value: Any, fields: dict[str, str] | None = None) -> str:
        """A value as a literal, a variable, or an input object literal whose fields are either."""
        choice = self.draw(
            st.sampled_from(["literal", "variable", "fields"] if isinstance(value, dict) else ["literal", "variable"])
        )
        if choice == "literal":
            return literal(value)
        if choice == "fields":
            assert fields is not None
            return "{" + ", ".join(self.argument(key, fields[key], item) for key, item in value.items()) + "}"
        variable = f"v{next(self.names)}"
        declared = f"${variable}: {graphql_type}"
        if value is None and not graphql_type.endswith("!") and sometimes(self.draw, 0.5):
            self.variable_definitions.append(declared)  # declared, not sent: the argument's default
        elif graphql_type in ("Int", "String") and sometimes(self.draw, 0.2):
            self.variable_definitions.append(f"{declared} = {literal(value)}")  # the variable's default
        else:
            self.variable_definitions.append(declared)
            self.variables[variable] = value
        self.variable_types[variable] = graphql_type
        return f"${variable}"

    # selections

    def selection(self, type_name: str, *, in_list: bool) -> str:
        fields = FIELDS[type_name]
        # a shuffle, cut: lists of sampled_from would favour the first fields
        names = self.draw(st.permutations(list(fields)))[: self.draw(st.sampled_from(range(1, 7)))]
        aliases = {name: self.alias() for name in names}
        items = [self.field(type_name, name, aliases[name], in_list=in_list) for name in names]
        if self.apollo or sometimes(self.draw, 0.3):
            items.append(f"{self.alias()}__typename")
        objects = [name for name in names if fields[name] is not None]
        if objects and sometimes(self.draw, 0.3):  # selected again, another sub-selection: merged
            again = self.draw(st.sampled_from(objects))
            items.append(self.field(type_name, again, aliases[again], in_list=in_list))
        return "{ " + " ".join(self.grouped(type_name, items)) + " }"

    def alias(self) -> str:
        return f"a{next(self.names)}: " if sometimes(self.draw, 0.2) else ""

    def field(self, type_name: str, name: str, alias: str, *, in_list: bool) -> str:
        per_object = in_list and (type_name, name) not in BATCHED_FIELDS
        if (type_name, name) in RESOLVED_FIELDS and (self.mutation or per_object):
            self.plannable = False
        field_type = FIELDS[type_name][name]
        if field_type is None:
            return f"{alias}{name}"
        arguments = self.messages_arguments() if name == "messages" else ""
        inner = self.selection(field_type, in_list=in_list or (type_name, name) in LIST_FIELDS)
        return f"{alias}{name}{arguments} {inner}"

    def messages_arguments(self) -> str:
        """One set per document: `messages` with other arguments in a merged selection would
        be a validation error, which is not what this grammar is about."""
        if self._messages_arguments is None:
            size = self.draw(st.sampled_from([None, 1, 2, 5]))
            direction = self.draw(st.sampled_from(["first", "last"]))
            self._messages_arguments = "" if size is None else f"({self.argument(direction, 'Int', size)})"
        return self._messages_arguments

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


@dataclass
class Pool:
    """What earlier answers gave: cursors to page with."""

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


class ReadGrammar:
    """Queries over one dataset: session(id), sessions(...), persona(id), personas, __typename."""

    def __init__(self, draw: Callable[..., Any], dataset: Dataset, pool: Pool) -> None:
        self.draw = draw
        self.dataset = dataset
        self.pool = pool

    def request(self) -> tuple[GraphQLRequest, Document]:
        document = Document(self.draw)
        roots = self.draw(
            st.lists(
                st.sampled_from(["sessions", "sessions", "session", "persona", "personas", "__typename"]),
                min_size=1,
                max_size=3,
            )
        )
        used: set[str] = set()
        fields = []
        for root in roots:
            alias = f"r{next(document.names)}: " if root in used or sometimes(self.draw, 0.2) else ""
            used.add(root)
            fields.append(alias + getattr(self, "root_" + root.strip("_"))(document))
        name = self.draw(st.sampled_from([None, "Page", "Sidebar"]))
        query = document.text("query", name, "{ " + " ".join(document.grouped("Query", fields)) + " }")
        operation_name = self.draw(st.sampled_from([None, name])) if name else None
        if name and sometimes(self.draw, 0.15):  # several operations: operationName picks one
            query += "\nquery Other { personas { id } }"
            operation_name = name
        method = self.draw(st.sampled_from(["POST", "POST", "POST", "GET"]))
        accept = self.draw(st.sampled_from(ACCEPT_HEADERS))
        # the planned fast path takes exactly application/json; strawberry reads the others (and
        # refuses the last)
        content_types = [JSON, f"{JSON}; charset=utf-8"] if sometimes(self.draw, 0.9) else [GRAPHQL_RESPONSE_JSON]
        content_type = self.draw(st.sampled_from(content_types))
        variables = document.variables if document.variable_definitions or sometimes(self.draw, 0.5) else None
        return GraphQLRequest(query, variables, operation_name, method, accept, content_type), document

    def some_id(self, existing: list[str]) -> str:
        """Mostly an id of a row, else an unknown one or one the API refuses."""
        others = ["nobody", "chef", *MALFORMED_IDS] if sometimes(self.draw, 0.3) else existing
        return str(self.draw(st.sampled_from(others)))

    def root_session(self, document: Document) -> str:
        session_id = self.some_id(self.dataset.session_ids)
        return f"session({document.argument('id', 'ID!', session_id)}) {document.selection('Session', in_list=False)}"

    def root_persona(self, document: Document) -> str:
        persona_id = self.some_id(self.dataset.persona_ids)
        return f"persona({document.argument('id', 'ID!', persona_id)}) {document.selection('Persona', in_list=False)}"

    def root_personas(self, document: Document) -> str:
        return f"personas {document.selection('Persona', in_list=True)}"

    def root_typename(self, document: Document) -> str:
        return "__typename"

    def root_sessions(self, document: Document) -> str:
        arguments = []
        if sometimes(self.draw, 0.7):
            arguments.append(document.argument("filter", "SessionFilter", self.session_filter(), FILTER_FIELDS))
        order = self.draw(st.sampled_from([*ORDERS, None, "omitted"]))
        if order != "omitted":
            arguments.append(document.argument("orderBy", "SessionOrder", order))
        both = ["first", "last"]  # refused
        for name in self.draw(st.sampled_from([[], [], ["first"], ["first"], ["last"], ["last"], both])):
            size = self.draw(st.sampled_from([1, 2, 3, 100] if sometimes(self.draw, 0.9) else [None, 0, -1, 101]))
            arguments.append(document.argument(name, "Int", size))
        for name in self.draw(st.lists(st.sampled_from(["after", "before"]), max_size=2, unique=True)):
            arguments.append(document.argument(name, "String", self.cursor()))
        listed = f"({', '.join(arguments)})" if arguments else ""
        return f"sessions{listed} {document.selection('SessionConnection', in_list=False)}"

    def session_filter(self) -> dict[str, Any]:
        choices: dict[str, st.SearchStrategy[Any]] = {
            "saved": st.sampled_from([True, False, None]),
            "personaId": st.sampled_from([*self.dataset.persona_ids, "nobody", "bad id"]),
            "model": MODELS,
            "search": st.one_of(
                st.sampled_from(["trip", "%", "_", "ÉMILE", "owl", "x" * 201]), NAMES.map(lambda name: name[1:3])
            ),
            "updatedAfter": self.moments(),
            "updatedBefore": self.moments(),
        }
        chosen = self.draw(st.lists(st.sampled_from(list(choices)), unique=True))
        return {name: self.draw(choices[name]) for name in chosen}

    def moments(self) -> st.SearchStrategy[str | None]:
        """A stored moment (ties with rows), one a millisecond beside it, null, or not a moment."""
        near = st.builds(
            lambda moment, shift: (moment + timedelta(milliseconds=shift)).isoformat().replace("+00:00", "Z"),
            st.sampled_from(self.dataset.moments),
            st.sampled_from([0, 0, -1, 1]),
        )
        return st.one_of(near, st.sampled_from([None, "2025-09-16T10:08:36.188+02:00", "2025-09-16", "soon"]))

    def cursor(self) -> str | None:
        if self.pool.cursors and sometimes(self.draw, 0.7):
            return str(self.draw(st.sampled_from(self.pool.cursors)))
        return str(self.draw(st.sampled_from(FORGED_CURSORS))) if sometimes(self.draw, 0.4) else None


# Integers beyond 64 bits too: a JSON parser may round them (orjson makes them floats).
BEYOND_64_BITS = (-(2**63) - 1, 2**64)
WRONG_VARIABLE_VALUES = st.sampled_from(["ten", 2**40, *BEYOND_64_BITS, 1.5, True, {"id": "x"}, [1], ""])
# Values of the right type that a resolver refuses (or that name nothing), by variable type.
REFUSED_VALUES = {
    "Int": st.sampled_from([0, -1, 101]),
    "ID": st.sampled_from(["nobody", *MALFORMED_IDS]),
    "String": st.sampled_from(FORGED_CURSORS),
    "SessionFilter": st.sampled_from([{"personaId": "bad id"}, {"updatedAfter": "soon"}, {"search": "x" * 201}]),
}


def with_other_variables(draw: Callable[..., Any], request: GraphQLRequest, document: Document) -> GraphQLRequest:
    """The same document (planned by now) with one variable changed: to a value its resolver
    refuses, to one of the wrong type, or left out (a request error when it is required)."""
    variables = dict(request.variables or {})
    name = draw(st.sampled_from(sorted(document.variable_types)))
    graphql_type = document.variable_types[name].rstrip("!")
    change = draw(st.sampled_from(["refused", "refused", "wrong type", "missing"]))
    if change == "missing":
        variables.pop(name, None)
    elif change == "refused" and graphql_type in REFUSED_VALUES:
        variables[name] = draw(REFUSED_VALUES[graphql_type])
    else:
        variables[name] = draw(WRONG_VARIABLE_VALUES)
    return replace(request, variables=variables)


# --- reads ---------------------------------------------------------------------------------------


async def check_read(paths: TwoPaths, tally: PlanTally, draw: Callable[..., Any], grammar: ReadGrammar) -> None:
    request, document = grammar.request()
    answer = await paths.compare(request)
    grammar.pool.learn(answer)
    planned = paths.has_plan(request)
    tally.record(answer, planned)
    if document.plannable and answered_data(answer):
        assert planned, f"no plan for a document plans.py follows:\n{request.describe()}"
    if document.variable_types and sometimes(draw, 0.3):
        await paths.compare(with_other_variables(draw, request, document))


@examples(80)
@given(dataset=datasets(), data=st.data())
async def test_reads_answer_the_same_on_both_paths(
    paths: TwoPaths, plan_tally: PlanTally, dataset: Dataset, data: st.DataObject
) -> None:
    await restore(dataset)
    grammar = ReadGrammar(data.draw, dataset, Pool())
    for _ in range(data.draw(st.integers(4, 8), label="documents")):
        await check_read(paths, plan_tally, data.draw, grammar)


@pytest.mark.parametrize("number", BEYOND_64_BITS)
async def test_an_integer_beyond_64_bits_is_read_exactly_on_the_planned_path(paths: TwoPaths, number: int) -> None:
    """An ID may be sent as a JSON integer: stored exactly as written, not rounded."""
    query = "mutation ($input: CreatePersonaInput!) { createPersona(input: $input) { id } }"
    for persona_id in (number, number - 1 if number < 0 else number + 1):  # learning, then planned
        request = GraphQLRequest(query=query, variables={"input": {"id": persona_id, "name": "P", "prompt": "p"}})
        answer = await send(paths.compiled, request)
        assert decoded(answer) == {"data": {"createPersona": {"id": str(persona_id)}}}
    assert paths.has_plan(request)


# --- writes --------------------------------------------------------------------------------------


async def compare_write(paths: TwoPaths, dataset: Dataset, request: GraphQLRequest) -> Answer:
    """A write on each path from the same rows: the same answer, the same rows after it."""
    results = []
    for http in (paths.plain, paths.compiled, paths.compiled):
        await restore(dataset)
        answer = await send(http, request)
        results.append((answer._replace(body=GENERATED_UUID.sub("<uuid>", answer.body)), await stored_rows()))
    plain, learning, planned = results
    must_match(plain, learning, "1", request)
    must_match(plain, planned, "2", request)
    await restore(dataset)
    return plain[0]


ABSENT = object()  # an input field left out
INPUT = "__INPUT__"  # where a write document's input goes, a variable or a literal


def absent_or(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(ABSENT), values)


def create_session_inputs(dataset: Dataset) -> st.SearchStrategy[dict[str, Any]]:
    fields = {
        "id": st.one_of(
            st.none(),
            ROW_IDS.map("n".__add__),
            st.sampled_from(dataset.session_ids or ["nobody"]),  # taken: CONFLICT
            st.sampled_from(MALFORMED_IDS),
        ),
        "name": st.one_of(st.none(), NAMES, st.sampled_from(["  padded  ", "x" * 201, "", "   ", "a\x07b"])),
        "model": st.one_of(MODELS, st.just("m" * 101)),
        "personaId": st.sampled_from([None, *dataset.persona_ids, "nobody", "bad id"]),
        "saved": st.sampled_from([True, False, None]),
    }
    return st.fixed_dictionaries({name: absent_or(values) for name, values in fields.items()}).map(present_fields)


def append_message_inputs(dataset: Dataset) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "sessionId": st.one_of(
                st.sampled_from(dataset.session_ids or ["nobody"]),
                ROW_IDS.map("n".__add__),
                st.sampled_from(MALFORMED_IDS),
            ),
            "role": st.sampled_from(
                [EnumValue("USER"), EnumValue("ASSISTANT"), EnumValue("SYSTEM"), EnumValue("ROBOT")]
            ),
            "text": st.one_of(TEXT, st.sampled_from(["", "x" * 100_001, "a\x00b"])),
            "model": absent_or(st.one_of(MODELS, st.just("m" * 101))),
            "tokenUsage": absent_or(st.sampled_from([None, 0, 7, -1, 2**31])),
        }
    ).map(present_fields)


def present_fields(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not ABSENT}


@dataclass(frozen=True)
class Write:
    field: str
    input_type: str
    returns: str
    inputs: Callable[[Dataset], st.SearchStrategy[dict[str, Any]]]
    valid_input: dict[str, Any]  # accepted on any dataset


WRITES = [
    Write("createSession", "CreateSessionInput!", "Session", create_session_inputs, {"id": "taught", "name": "Taught"}),
    Write(
        "appendMessage",
        "AppendMessageInput!",
        "Message",
        append_message_inputs,
        {"sessionId": "taught", "role": "USER", "text": "Hello"},
    ),
]


@dataclass(frozen=True)
class WriteCase:
    """Requests of one write document over one dataset, each sent from the same rows."""

    dataset: Dataset
    # A request that succeeds, sent first so that the compiled app has the plan for the
    # others; None when the input is a literal (a document per input, taught by its own run).
    taught: GraphQLRequest | None
    requests: list[GraphQLRequest]
    plannable: bool  # as plans.py promises: no resolver below the mutation's root field


@st.composite
def write_cases(draw: st.DrawFn) -> WriteCase:
    write = draw(st.sampled_from(WRITES))
    dataset = draw(datasets(max_sessions=3))
    document = Document(draw, mutation=True)
    alias = document.alias()
    # the root field, perhaps again with another selection (merged: one write), perhaps in fragments
    roots = [
        f"{alias}{write.field}(input: {INPUT}) {document.selection(write.returns, in_list=False)}"
        for _ in range(2 if sometimes(draw, 0.2) else 1)
    ]
    root = "{ " + " ".join(document.grouped("Mutation", roots)) + " }"
    inputs = draw(st.lists(write.inputs(dataset), min_size=1, max_size=4))
    name = draw(st.sampled_from([None, "Write"]))
    if sometimes(draw, 0.25):
        text = document.text("mutation", name, root)
        queries = [text.replace(INPUT, literal(values)) for values in inputs]
        return WriteCase(
            dataset, None, [GraphQLRequest(query, document.variables) for query in queries], document.plannable
        )
    document.variable_definitions.append(f"$input: {write.input_type}")
    query = document.text("mutation", name, root).replace(INPUT, "$input")
    taught = GraphQLRequest(query, {**document.variables, "input": write.valid_input})
    requests = [GraphQLRequest(query, {**document.variables, "input": values}) for values in inputs]
    if document.variable_types:  # the selection's own variables
        requests.append(with_other_variables(draw, taught, document))
    if sometimes(draw, 0.3):  # a mutation over GET: 405 on both
        requests.append(GraphQLRequest(query, taught.variables, method="GET"))
    return WriteCase(dataset, taught, requests, document.plannable)


# Found by this test: a planned mutation whose selection failed after the write (messages(first: 0)
# is BAD_USER_INPUT) let the exception escape, a 500, where strawberry answers the error beside
# the committed write. plans.py now leaves resolvers below a mutation's root field to strawberry.
NESTED_ERROR_QUERY = (
    "mutation ($input: CreateSessionInput!, $size: Int) "
    "{ createSession(input: $input) { id messages(first: $size) { totalCount } } }"
)
NESTED_ERROR_AFTER_A_PLANNED_WRITE = WriteCase(
    Dataset([], [], []),
    GraphQLRequest(NESTED_ERROR_QUERY, {"input": {"id": "taught"}, "size": 1}),
    [GraphQLRequest(NESTED_ERROR_QUERY, {"input": {"id": "next"}, "size": 0})],
    plannable=False,
)
# Found by this test: graphql-core collects a fragment spread twice in one selection set once
# (CollectFields skips the fragments it has visited); the plan collected it twice, so the error
# of a planned mutation named the field's location twice.
TWICE_SPREAD_QUERY = (
    "mutation ($input: AppendMessageInput!) { ...Append ...Append }\n"
    "fragment Append on Mutation { appendMessage(input: $input) { id } }"
)
A_FRAGMENT_SPREAD_TWICE = WriteCase(
    Dataset([], [], []),
    GraphQLRequest(TWICE_SPREAD_QUERY, {"input": {"sessionId": "s1", "role": "USER", "text": "Hello"}}),
    [GraphQLRequest(TWICE_SPREAD_QUERY, {"input": {"sessionId": "s1", "role": "USER", "text": ""}})],
    plannable=True,
)


@examples(60)
@given(case=write_cases())
@example(case=NESTED_ERROR_AFTER_A_PLANNED_WRITE).via("a nested error after a planned write")
@example(case=A_FRAGMENT_SPREAD_TWICE).via("a fragment spread twice")
@pytest.mark.usefixtures("frozen_clock")
async def test_writes_answer_and_store_the_same_on_both_paths(paths: TwoPaths, case: WriteCase) -> None:
    # a document plans.py follows is planned once strawberry answered it with data (not one
    # that a limit refused: KALITO_MAX_ALIASES counts a fragment's aliases at each spread)
    taught = case.taught is not None and answered_data(await compare_write(paths, case.dataset, case.taught))
    for request in case.requests:
        answer = await compare_write(paths, case.dataset, request)
        if case.plannable and (taught or answered_data(answer)):
            assert paths.has_plan(request), f"no plan for a write:\n{request.describe()}"


# Writes whose every argument is a non-null variable of a built-in scalar: the plan hands the
# coerced variables to the resolver itself, without strawberry's argument conversion, and coerces
# the variables without graphql-core's walk (schema/plans.py, direct_arguments and Plan.coerce).
ONE_SESSION = Dataset(
    [],
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
        }
    ],
    [],
)
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
@pytest.mark.usefixtures("frozen_clock")
async def test_writes_with_scalar_variables_answer_the_same_on_both_paths(
    paths: TwoPaths, query: str, taught: dict[str, Any], others: list[dict[str, Any]]
) -> None:
    assert answered_data(await compare_write(paths, ONE_SESSION, GraphQLRequest(query, taught)))
    plan = paths.plans.plan_for(query, None)
    assert plan is not None and plan.root.fields[0].direct_arguments is not None  # the path under test
    for variables in others:
        await compare_write(paths, ONE_SESSION, GraphQLRequest(query, variables))


# --- the benchmark's documents -------------------------------------------------------------------


def bench_dataset() -> Dataset:
    """Sessions with the benchmark's ids, personas and messages, in the shape bench/dataset.py makes."""
    sessions = [
        {
            "id": workloads.session_id(number),
            "name": f"Chat {number}",
            "model": "gpt-4.1-nano" if number % 2 else None,
            "recap": None,
            "persona_id": DEFAULT_PERSONA_IDS[number % 2] if number % 3 else None,
            "saved": number % 4 != 3,
            "created_at": BASE,
            "updated_at": BASE + timedelta(seconds=number // 2),  # ties
        }
        for number in range(30)
    ]
    messages = [
        {
            "id": number * 3 + index + 1,
            "session_id": session["id"],
            "role": models.MessageRole.USER,
            "text": f"message {index}",
            "model": None,
            "token_usage": None,
            "created_at": BASE,
        }
        for number, session in enumerate(sessions)
        for index in range(number % 3)
    ]
    return Dataset([], sessions, messages)


def bench_request(workload: workloads.Workload, marked_id: str) -> GraphQLRequest:
    variables = json.loads(workload.body().replace(workloads.ID_MARKER, marked_id))["variables"]
    return GraphQLRequest(workload.query, variables)


@pytest.mark.usefixtures("frozen_clock")
async def test_the_benchmark_documents_get_plans_and_answer_the_same(paths: TwoPaths) -> None:
    dataset = bench_dataset()
    await restore(dataset)
    reads = [workloads.SESSION, workloads.SESSIONS, workloads.SESSIONS_RICH, workloads.PAGE_FIRST]
    for workload in reads:
        request = bench_request(workload, workloads.session_id(7))
        answer = await paths.compare(request)
        assert "errors" not in json.loads(answer.body), answer
        assert paths.has_plan(request), workload.title
    first_page = json.loads((await send(paths.plain, bench_request(workloads.PAGE_FIRST, ""))).body)
    second_page = bench_request(workloads.page_workload(2, first_page["data"]["sessions"]["pageInfo"]["endCursor"]), "")
    assert json.loads((await paths.compare(second_page)).body)["data"]["sessions"]["edges"]
    for workload, marked_id in (
        (workloads.CREATE_SESSION, "bench-new"),
        (workloads.APPEND_MESSAGE, workloads.session_id(20)),
    ):
        request = bench_request(workload, marked_id)
        answer = await compare_write(paths, dataset, request)
        assert "errors" not in json.loads(answer.body), answer
        assert paths.has_plan(request), workload.title
