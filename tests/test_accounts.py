"""Accounts (api.md §11): each user sees and changes only their own sessions, through HTTP on
both databases and both paths (every document is sent twice: strawberry's answer, then the
compiled plan's).

The cross-user matrix: user B (bob) runs every query and mutation against user A's (alice's)
session, persona, pin and summary, and gets exactly what the same operation gets against an
id that does not exist (ids aside) — but for the writes that create what they name, whose
answer is the CONFLICT of a taken id and nothing more; alice's data is then as it was. The
same matrix runs over WebSocket, with the subscriptions, in tests/test_accounts_live.py.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

import models
from importers.kalito import import_kalito
from models import sql
from server import create_app
from settings import Settings
from support import REPOSITORY_ROOT
from support.kalito import SAVED_SESSION_ID, read_rows, write_realistic_sample
from tests.conftest import GraphQLClient, SQLCounter, open_database
from tests.tokens import bearer, jwt_settings, mint

ALICE_SESSION, MISSING_SESSION = "alice-s1", "nobody-s1"
ALICE_PERSONA, MISSING_PERSONA = "alice-persona", "nobody-persona"
DEFAULT_PERSONA = "default-cloud"

WORLD = """
query World {
  sessions(filter: {saved: null}, first: 100) {
    totalCount
    edges { node {
      id name saved model recap personaId metadata createdAt updatedAt messageCount
      persona { id name }
      messages(first: 100) { totalCount edges { node { id role text importance } } }
      pins { id content sourceMessageId } summaries { id text messageCount }
      memoryContext { totalTokens }
    } }
  }
  personas { id name prompt isDefault updatedAt }
}
"""


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, **jwt_settings())


@dataclass
class Users:
    alice: GraphQLClient
    bob: GraphQLClient
    admin: GraphQLClient
    anonymous: GraphQLClient


@pytest.fixture
async def users(db: str, settings: Settings) -> AsyncIterator[Users]:
    app = create_app(settings)  # one app: one broker, one set of plans, for every user
    async with contextlib.AsyncExitStack() as stack:

        async def client(token: str | None) -> GraphQLClient:
            headers = bearer(token) if token else {}
            http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://kalito.test", headers=headers
            )
            return GraphQLClient(await stack.enter_async_context(http))

        yield Users(
            alice=await client(mint("alice")),
            bob=await client(mint("bob")),
            admin=await client(mint("root", roles=["admin"])),
            anonymous=await client(None),
        )


@dataclass(frozen=True)
class AliceData:
    pin: str
    summary: str
    message: str


class Client(Protocol):
    """What the seed needs of a client: in process (GraphQLClient) or of a live server."""

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...


async def seed_alice(alice: Client) -> AliceData:
    """A saved session with a persona of her own, a message, a pin and a summary; an
    ephemeral session too (for the purges)."""
    await alice.data(
        'mutation { createPersona(input: {id: $id, name: "Mine", prompt: "Be brief."}) { id } }'.replace(
            "$id", json.dumps(ALICE_PERSONA)
        )
    )
    await alice.data(
        "mutation ($input: CreateSessionInput!) { createSession(input: $input) { id } }",
        {"input": {"id": ALICE_SESSION, "name": "Alice's", "saved": True, "personaId": ALICE_PERSONA}},
    )
    message = await alice.data(
        'mutation ($id: ID!) { appendMessage(input: {sessionId: $id, role: USER, text: "my secret"}) { id } }',
        {"id": ALICE_SESSION},
    )
    message_id = message["appendMessage"]["id"]
    pin = await alice.data(
        "mutation ($input: CreatePinInput!) { createPin(input: $input) { id } }",
        {"input": {"sessionId": ALICE_SESSION, "content": "alice's fact", "sourceMessageId": message_id}},
    )
    summary = await alice.data(
        "mutation ($input: CreateSummaryInput!) { createSummary(input: $input) { id } }",
        {"input": {"sessionId": ALICE_SESSION, "text": "alice's summary", "messageCount": 1}},
    )
    await alice.data('mutation { touchSession(id: "alice-ephemeral") { id } }')
    return AliceData(pin["createPin"]["id"], summary["createSummary"]["id"], message_id)


@dataclass(frozen=True)
class Probe:
    """One operation of the matrix, made for a target id (alice's, or one that does not exist)."""

    name: str
    document: str
    variables: Callable[[str], dict[str, Any]]
    target: str  # session | persona | pin | summary
    # True: it would create what it names, so alice's id is taken (CONFLICT), not missing.
    creates: bool = False


def _id(target: str) -> dict[str, Any]:
    return {"id": target}


SESSION_FIELDS = (
    "id name messageCount messages(last: 5) { edges { node { text } } } pins { content } summaries { text }"
)

PROBES = [
    # queries
    Probe("session", f"query ($id: ID!) {{ session(id: $id) {{ {SESSION_FIELDS} }} }}", _id, "session"),
    Probe(
        "session with a memory context",
        "query ($id: ID!) { session(id: $id) { memoryContext(maxTokens: 500) { totalTokens } } }",
        _id,
        "session",
    ),
    Probe("persona", "query ($id: ID!) { persona(id: $id) { id name prompt } }", _id, "persona"),
    Probe(
        "sessions filtered by persona",
        "query ($id: ID) { sessions(filter: {saved: null, personaId: $id}) { totalCount edges { node { id } } } }",
        _id,
        "persona",
    ),
    # mutations that change or delete what they name
    Probe(
        "updateSession",
        "mutation ($input: UpdateSessionInput!) { updateSession(input: $input) { id name } }",
        lambda target: {"input": {"id": target, "name": "taken over"}},
        "session",
    ),
    Probe(
        "updateSession, compare-and-set",
        "mutation ($input: UpdateSessionInput!) { updateSession(input: $input) { id } }",
        lambda target: {"input": {"id": target, "saved": False, "expectedUpdatedAt": "2020-01-01T00:00:00.000Z"}},
        "session",
    ),
    Probe("deleteSession", "mutation ($id: ID!) { deleteSession(id: $id) }", _id, "session"),
    Probe(
        "deleteSessions",
        "mutation ($ids: [ID!]!) { deleteSessions(ids: $ids) }",
        lambda target: {"ids": [target]},
        "session",
    ),
    Probe(
        "createPin",
        "mutation ($input: CreatePinInput!) { createPin(input: $input) { id } }",
        lambda target: {"input": {"sessionId": target, "content": "bob's"}},
        "session",
    ),
    Probe(
        "createSummary",
        "mutation ($input: CreateSummaryInput!) { createSummary(input: $input) { id } }",
        lambda target: {"input": {"sessionId": target, "text": "bob's", "messageCount": 0}},
        "session",
    ),
    Probe("deletePin", "mutation ($id: ID!) { deletePin(id: $id) }", _id, "pin"),
    Probe("deleteSummary", "mutation ($id: ID!) { deleteSummary(id: $id) }", _id, "summary"),
    Probe(
        "updatePersona",
        "mutation ($input: UpdatePersonaInput!) { updatePersona(input: $input) { id } }",
        lambda target: {"input": {"id": target, "name": "bob's now"}},
        "persona",
    ),
    Probe("deletePersona", "mutation ($id: ID!) { deletePersona(id: $id) }", _id, "persona"),
    Probe(
        "a session of bob's with alice's persona",
        "mutation ($input: CreateSessionInput!) { createSession(input: $input) { id } }",
        lambda target: {"input": {"personaId": target, "id": "bob-with-" + target}},
        "persona",
    ),
    Probe(
        "touchSession with alice's persona",
        'mutation ($persona: ID!) { touchSession(id: "bob-touch", personaId: $persona) { id } }',
        lambda target: {"persona": target},
        "persona",
    ),
    # mutations that create what they name: alice's id is taken
    Probe(
        "createSession",
        "mutation ($input: CreateSessionInput!) { createSession(input: $input) { id } }",
        lambda target: {"input": {"id": target}},
        "session",
        creates=True,
    ),
    Probe("saveSession", 'mutation ($id: ID!) { saveSession(id: $id, name: "mine") { id } }', _id, "session", True),
    Probe("touchSession", "mutation ($id: ID) { touchSession(id: $id) { id } }", _id, "session", creates=True),
    Probe(
        "appendMessage",
        "mutation ($input: AppendMessageInput!) { appendMessage(input: $input) { id } }",
        lambda target: {"input": {"sessionId": target, "role": "USER", "text": "hi"}},
        "session",
        creates=True,
    ),
    Probe(
        "createPersona",
        "mutation ($input: CreatePersonaInput!) { createPersona(input: $input) { id } }",
        lambda target: {"input": {"id": target, "name": "x", "prompt": "y"}},
        "persona",
        creates=True,
    ),
]


def targets(alice: AliceData) -> dict[str, tuple[str, str]]:
    """(alice's id, an id nobody has) for each kind of target."""
    return {
        "session": (ALICE_SESSION, MISSING_SESSION),
        "persona": (ALICE_PERSONA, MISSING_PERSONA),
        "pin": (alice.pin, "pin_1_nobody"),
        "summary": (alice.summary, "summary_1_nobody"),
    }


def without(body: dict[str, Any], target: str) -> str:
    """The answer with the target id written as <id>, so two answers compare but for it."""
    return json.dumps(body, sort_keys=True).replace(target, "<id>")


async def twice(client: GraphQLClient, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    """An answer on both paths: strawberry's first, then the compiled plan's, which must agree."""
    first = await client(document, variables)
    assert await client(document, variables) == first, document
    return first


async def taken_answer(client: GraphQLClient, probe: Probe, target: str) -> dict[str, Any]:
    """A creating probe's answer for an id taken: a CONFLICT that says so and no more."""
    body = await twice(client, probe.document, probe.variables(target))
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "CONFLICT"}, probe.name
    kind = "persona" if probe.target == "persona" else "session"
    assert error["message"] == f"a {kind} with id {target!r} already exists", probe.name
    return body


async def test_another_users_data_is_missing_to_a_user_on_both_paths(users: Users) -> None:
    alice = await seed_alice(users.alice)
    world = await users.alice.twice(WORLD)
    ids = targets(alice)
    for probe in PROBES:
        theirs, missing = ids[probe.target]
        if probe.creates:
            await taken_answer(users.bob, probe, theirs)
            continue
        answer = await twice(users.bob, probe.document, probe.variables(theirs))
        expected = await twice(users.bob, probe.document, probe.variables(missing))
        assert without(answer, theirs) == without(expected, missing), probe.name
    assert await users.alice.twice(WORLD) == world  # nothing of alice's changed, nor did it move
    assert len(PROBES) == 21


async def test_a_user_lists_only_their_own_sessions_and_personas(users: Users) -> None:
    await seed_alice(users.alice)
    bob_world = await users.bob.twice(WORLD)
    assert bob_world["sessions"] == {"totalCount": 0, "edges": []}
    assert all(persona["isDefault"] for persona in bob_world["personas"])
    await users.bob.data('mutation { createSession(input: {id: "bob-1", saved: true}) { id } }')
    for order in ("UPDATED_AT_DESC", "CREATED_AT_ASC", "NAME_ASC"):
        for filter in ("{}", "{saved: null}", "{saved: true}", '{search: "a"}'):
            page = await users.bob.twice(
                f"query {{ sessions(filter: {filter}, orderBy: {order}) {{ totalCount edges {{ node {{ id }} }} }} }}"
            )
            ids = [edge["node"]["id"] for edge in page["sessions"]["edges"]]
            assert ALICE_SESSION not in ids and page["sessions"]["totalCount"] == len(ids), (order, filter)
    alice_page = await users.alice.twice("query { sessions(filter: {saved: null}) { totalCount } }")
    assert alice_page["sessions"]["totalCount"] == 2


async def test_a_keyset_page_of_one_user_never_reaches_anothers(users: Users) -> None:
    for user, client in (("alice", users.alice), ("bob", users.bob)):
        for index in range(5):
            await client.data(f'mutation {{ createSession(input: {{id: "{user}-{index}", saved: true}}) {{ id }} }}')
    query = (
        "query ($after: String) { sessions(first: 2, after: $after) "
        "{ totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"
    )
    seen, after = [], None
    while True:
        page = (await users.bob.twice(query, {"after": after}))["sessions"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == [f"bob-{index}" for index in range(5)]
    # a cursor is a position, not a key to another user's rows: alice's cursor pages bob's own
    alice_cursor = (await users.alice.twice("query { sessions(first: 1) { pageInfo { endCursor } } }"))["sessions"]
    page = (await users.bob.twice(query, {"after": alice_cursor["pageInfo"]["endCursor"]}))["sessions"]
    assert all(edge["node"]["id"].startswith("bob-") for edge in page["edges"])


async def test_purging_is_per_user_and_over_everyone_for_an_admin(users: Users) -> None:
    await seed_alice(users.alice)
    await users.bob.data('mutation { touchSession(id: "bob-ephemeral") { id } }')
    purge = "mutation { purgeEphemeralSessions(idleSeconds: 0) }"
    assert (await users.bob(purge))["data"] == {"purgeEphemeralSessions": 1}
    assert (await users.bob(purge))["data"] == {"purgeEphemeralSessions": 0}  # the plan's answer
    alive = await users.alice.twice('query { session(id: "alice-ephemeral") { id } }')
    assert alive == {"session": {"id": "alice-ephemeral"}}
    await users.bob.data('mutation { touchSession(id: "bob-ephemeral-2") { id } }')
    assert (await users.admin(purge))["data"] == {"purgeEphemeralSessions": 2}
    assert await users.alice.twice('query { session(id: "alice-ephemeral") { id } }') == {"session": None}


async def test_the_ttl_sweep_purges_every_users_expired_sessions(users: Users) -> None:
    await seed_alice(users.alice)
    await users.bob.data('mutation { touchSession(id: "bob-ephemeral") { id } }')
    assert await models.Session.purge_expired(models.EVERYONE, 0, default_ttl=86_400) == 2
    assert (await users.alice.twice(WORLD))["sessions"]["totalCount"] == 1  # her saved one stays


async def test_an_admin_reads_and_changes_every_users_sessions(users: Users) -> None:
    alice = await seed_alice(users.alice)
    viewer = await users.admin.twice("query { viewer { id isAdmin } }")
    assert viewer == {"viewer": {"id": "root", "isAdmin": True}}
    found = await users.admin.twice(f'query {{ session(id: "{ALICE_SESSION}") {{ name pins {{ id }} }} }}')
    assert found == {"session": {"name": "Alice's", "pins": [{"id": alice.pin}]}}
    listed = await users.admin.twice("query { sessions(filter: {saved: null}) { totalCount } }")
    assert listed["sessions"]["totalCount"] == 2
    renamed = await users.admin.data(
        f'mutation {{ updateSession(input: {{id: "{ALICE_SESSION}", name: "Moderated"}}) {{ name }} }}'
    )
    assert renamed == {"updateSession": {"name": "Moderated"}}
    # what an admin creates is theirs, not alice's
    await users.admin.data('mutation { createSession(input: {id: "root-1", saved: true}) { id } }')
    assert await users.alice.twice('query { session(id: "root-1") { id } }') == {"session": None}
    assert await users.alice.twice(f'query {{ session(id: "{ALICE_SESSION}") {{ name }} }}') == {
        "session": {"name": "Moderated"}
    }


async def test_default_personas_are_shared_and_read_only_but_to_an_admin(users: Users) -> None:
    update = "mutation ($input: UpdatePersonaInput!) { updatePersona(input: $input) { name } }"
    rename = {"input": {"id": DEFAULT_PERSONA, "name": "Renamed"}}
    refusal = await users.bob.error(update, rename)
    assert refusal["extensions"] == {"code": "CONFLICT"}
    assert refusal["message"] == f"{DEFAULT_PERSONA!r} is a default persona: only an admin may change it"
    assert (await users.bob.error(update, rename)) == refusal  # the plan's answer
    assert (await users.admin.data(update, rename)) == {"updatePersona": {"name": "Renamed"}}
    seen = await users.bob.twice(f'query {{ persona(id: "{DEFAULT_PERSONA}") {{ name isDefault }} }}')
    assert seen == {"persona": {"name": "Renamed", "isDefault": True}}
    # every user's sessions may run with one; nobody deletes one
    created = await users.bob.data(
        f'mutation {{ createSession(input: {{id: "bob-d", personaId: "{DEFAULT_PERSONA}"}}) {{ persona {{ id }} }} }}'
    )
    assert created == {"createSession": {"persona": {"id": DEFAULT_PERSONA}}}
    deleting = f'mutation {{ deletePersona(id: "{DEFAULT_PERSONA}") }}'
    assert (await users.admin.error(deleting))["extensions"] == {"code": "CONFLICT"}


async def test_a_users_own_personas_are_theirs_alone(users: Users) -> None:
    await seed_alice(users.alice)
    mine = await users.alice.twice("query { personas { id } }")
    assert ALICE_PERSONA in [persona["id"] for persona in mine["personas"]]
    changed = await users.alice.data(
        f'mutation {{ updatePersona(input: {{id: "{ALICE_PERSONA}", name: "Still mine"}}) {{ name }} }}'
    )
    assert changed == {"updatePersona": {"name": "Still mine"}}
    theirs = await users.bob.twice(f'query {{ persona(id: "{ALICE_PERSONA}") {{ id }} }}')
    assert theirs == {"persona": None}
    admin_sees = await users.admin.twice("query { personas { id } }")
    assert ALICE_PERSONA in [persona["id"] for persona in admin_sees["personas"]]


async def test_viewer_names_the_tokens_user(users: Users) -> None:
    assert await users.alice.twice("query { viewer { id isAdmin } }") == {"viewer": {"id": "alice", "isAdmin": False}}


async def test_without_a_token_nothing_runs(users: Users) -> None:
    for document in ("query { sessions { totalCount } }", 'mutation { touchSession(id: "x") { id } }'):
        for _ in range(2):
            response = await users.anonymous.http.post("/graphql", json={"query": document})
            assert response.status_code == 401
            assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert await models.Session.by_id(models.EVERYONE, "x") is None


async def test_every_operation_log_line_names_the_user(users: Users, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kalito.operations")
    await users.alice.twice("query Mine { sessions { totalCount } }")
    await users.bob.data('mutation Touch { touchSession(id: "bob-log") { id } }')
    operations = [record for record in caplog.records if record.name == "kalito.operations"]
    lines = [(record.operation, record.user) for record in operations]  # type: ignore[attr-defined]
    assert lines == [("Mine", "alice"), ("Mine", "alice"), ("Touch", "bob")]


# --- turning accounts on over an existing database -----------------------------------------------


async def test_rows_written_without_accounts_go_to_the_default_owner(database_url: str, tmp_path: Path) -> None:
    async with open_database(database_url):
        one_user = GraphQLClient(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(Settings(database_url=database_url))),
                base_url="http://kalito.test",
            )
        )
        await one_user.data('mutation { createSession(input: {id: "before", saved: true}) { id } }')
        await one_user.data('mutation { createPersona(input: {id: "p-before", name: "n", prompt: "p"}) { id } }')
        with pytest.raises(models.UnownedRows, match="1 session"):
            await models.prepare_database(accounts=True)
        await models.prepare_database(accounts=True, default_owner="alice")
        await models.prepare_database(accounts=True)  # nothing unowned is left: it starts
        accounts = Settings(database_url=database_url, **jwt_settings())
        for user, expected in (("alice", 1), ("bob", 0)):
            client = GraphQLClient(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=create_app(accounts)),
                    base_url="http://kalito.test",
                    headers=bearer(mint(user)),
                )
            )
            world = await client.twice(WORLD)
            assert world["sessions"]["totalCount"] == expected, user
            assert ("p-before" in [persona["id"] for persona in world["personas"]]) is (expected == 1)
        # the defaults stay everyone's
        assert not await models.Persona.filter(is_default=True).exclude(owner_id="").exists()


async def test_a_database_without_rows_starts_with_accounts_and_no_default_owner(database_url: str) -> None:
    async with open_database(database_url):
        await models.prepare_database(accounts=True)


# --- the owner in the indexes the lists seek -------------------------------------------------------


@pytest.mark.parametrize("order", list(models.SessionOrder), ids=lambda order: order.name)
async def test_a_users_list_seeks_an_owner_led_index_in_every_order(tmp_path: Path, order: models.SessionOrder) -> None:
    """The owner is the first column of the index each list walks (owner, saved, order column,
    id): a page costs a seek, never a sort of the user's sessions (SQLite's plan; PostgreSQL's
    follows the table's statistics, and its indexes are the same). As without accounts, every
    session (`saved: null`) is indexed in the default order, newest activity first."""
    async with open_database(f"sqlite://{tmp_path / 'kalito.db'}"):
        owner = models.Owner("alice", everyone=False, manages_defaults=False)
        fetch = sql.fetch
        statements: list[str] = []

        async def capture(statement: str, params: Any) -> Sequence[Sequence[Any]]:
            statements.append(statement)
            plan = await fetch(f"EXPLAIN QUERY PLAN {statement}", params)
            steps = [str(step[-1]) for step in plan]
            assert any("INDEX" in step and "owner_id" in step for step in steps), (statement, steps)
            assert not any("TEMP B-TREE" in step for step in steps), (statement, steps)
            return await fetch(statement, params)

        for saved in (True, False, None) if order.value.column == "updated_at" else (True, False):
            statements.clear()
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(sql, "fetch", capture)
                await models.Session.page(owner, models.SessionFilter(saved=saved), order, models.PageRequest(first=5))
            assert statements and all('"owner_id"=?' in statement for statement in statements)


# --- what scoping costs --------------------------------------------------------------------------

NESTED_PAGE = """
query Page($first: Int!) {
  sessions(first: $first) {
    totalCount
    edges { node {
      id persona { id } messageCount messages(last: 2) { edges { node { id } } }
      pins { id } summaries { id } memoryContext { totalTokens }
    } }
  }
}
"""
# the page, its count; personas, message counts, messages; pins, summaries; the memory
# contexts' messages, pins and summaries: as without accounts (tests/test_memory_batching.py)
NESTED_PAGE_STATEMENTS = 10


async def test_a_users_page_with_every_nested_field_costs_a_fixed_number_of_statements(
    users: Users, sql_counter: SQLCounter
) -> None:
    for user, client in (("alice", users.alice), ("bob", users.bob)):
        for index in range(12):
            session = f"{user}-{index}"
            await client.data(
                "mutation ($input: CreateSessionInput!) { createSession(input: $input) { id } }",
                {"input": {"id": session, "saved": True, "personaId": DEFAULT_PERSONA}},
            )
            await client.data(
                'mutation ($id: ID!) { appendMessage(input: {sessionId: $id, role: USER, text: "hi"}) { id } }',
                {"id": session},
            )
            await client.data(
                'mutation ($id: ID!) { createPin(input: {sessionId: $id, content: "fact"}) { id } }', {"id": session}
            )
    answers = []
    for first in (3, 10, 3, 10):  # strawberry's path, then the plan's, for a small and a large page
        sql_counter.reset()
        answers.append(await users.alice.data(NESTED_PAGE, {"first": first}))
        statements = [statement for statement in sql_counter.statements if statement.lstrip().startswith("SELECT")]
        assert len(statements) == NESTED_PAGE_STATEMENTS, statements
    assert answers[:2] == answers[2:]
    ids = [edge["node"]["id"] for edge in answers[1]["sessions"]["edges"]]
    assert len(ids) == 10 and all(session.startswith("alice-") for session in ids)
    assert answers[1]["sessions"]["totalCount"] == 12


# --- importing into one user ---------------------------------------------------------------------


async def test_an_import_belongs_to_its_owner_and_never_takes_another_users_ids(users: Users, tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    sample = write_realistic_sample(tmp_path / "source" / "kalito.db")
    report = await import_kalito(sample, owner="alice")
    assert report.complete and report.imported["sessions"] == 2
    read = f'query {{ session(id: "{SAVED_SESSION_ID}") {{ id messageCount pins {{ id }} }} }}'
    alices = await users.alice.twice(read)
    assert alices["session"]["messageCount"] > 0
    assert await users.bob.twice(read) == {"session": None}
    own_personas = {row["id"] for row in read_rows(sample, "SELECT id FROM personas WHERE is_default = 0")}
    bobs_personas = {persona["id"] for persona in (await users.bob.twice("query { personas { id } }"))["personas"]}
    assert own_personas and not own_personas & bobs_personas

    # the same file into bob: his can hold none of alice's ids, and says so
    world = await users.alice.twice(WORLD)
    into_bob = await import_kalito(sample, owner="bob")
    assert not into_bob.complete
    assert into_bob.refused["sessions", "another user's session has this id"] == 2
    assert into_bob.refused["personas", "another user's persona has this id"] == len(own_personas)
    assert sum(into_bob.imported.values()) == 0
    assert await users.alice.twice(WORLD) == world
    assert (await users.bob.twice(WORLD))["sessions"]["totalCount"] == 0


def test_the_import_command_asks_for_the_owner_when_accounts_are_on(tmp_path: Path) -> None:
    sample = write_realistic_sample(tmp_path / "kalito.db")
    env = {"KALITO_DATABASE_URL": f"sqlite://{tmp_path / 'target.db'}", "PATH": "", "KALITO_AUTH": "jwt"}
    env["KALITO_JWT_SECRET"] = "a secret of the test, long enough for HS256"

    def command(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli", "import-kalito", str(sample), *extra],
            cwd=REPOSITORY_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    refused = command()
    assert refused.returncode == 2 and "--owner" in refused.stderr
    imported = command("--owner", "alice")
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 sessions" in imported.stdout


async def test_the_metrics_never_label_by_user(users: Users) -> None:
    await users.alice.twice("query Mine { sessions { totalCount } }")
    await users.bob.twice("query Mine { sessions { totalCount } }")
    assert (await users.anonymous.http.get("/metrics")).status_code == 401
    metrics = (await users.admin.http.get("/metrics")).text
    assert 'operation="Mine"' in metrics
    assert "alice" not in metrics and "bob" not in metrics
