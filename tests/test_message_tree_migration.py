"""Branches over data that predates them (api.md §9): 0007_message_tree turns each session's
message list into a chain in (created_at, id) order, and import-kalito chains what it brings
below the session's active leaf.

Rows are written in 0006's shape with tests/test_migrations.py's helpers, then migrated to the
end, then read both in SQL and through HTTP (each read sent twice: strawberry's answer, then
the compiled plan's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from importers.kalito import import_kalito
from models.database import APP, MigrationReport, apps_config, migrate, pending_migrations, prepare_database
from server import create_app
from settings import Settings
from support.kalito import SEPTEMBER_2025, KalitoFile
from tests import test_migrations
from tests.conftest import GraphQLClient
from tests.test_migrations import HISTORY, MESSAGES, MOMENT, SESSIONS, connected, fill, insert, is_sqlite

new_database = test_migrations.new_database  # the fixture (SQLite, then PostgreSQL), found here by pytest

BEFORE_TREE = "0006_owners"
FROM_TREE = HISTORY[HISTORY.index(BEFORE_TREE) + 1 :]

# Sessions of 0006's shape beside test_migrations' own: one whose ids run against its times
# (with two messages at the same moment, which their ids order), one whose ids interleave with
# it, and one without messages.
LATER = MOMENT + timedelta(hours=2)
MORE_SESSIONS = [
    {**SESSIONS[0], "id": "shuffled", "name": "Ids against time", "persona_id": None, "created_at": LATER},
    {**SESSIONS[1], "id": "interleaved", "name": "Ids between", "created_at": LATER, "updated_at": LATER},
    {**SESSIONS[1], "id": "empty", "name": "Nothing said", "created_at": LATER, "updated_at": LATER},
]
MORE_MESSAGES = [  # in the order they are inserted, which is neither the ids' nor the times'
    {"id": number, "session_id": session, "role": role, "text": f"message {number}"}
    | {"created_at": LATER + timedelta(seconds=seconds)}
    for number, session, role, seconds in (
        (50, "shuffled", "assistant", 3),
        (10, "shuffled", "user", 1),
        (35, "interleaved", "assistant", 6),
        (30, "shuffled", "assistant", 2),
        (15, "interleaved", "user", 5),
        (20, "shuffled", "user", 2),  # the same moment as 30: the smaller id first
        (40, "shuffled", "system", 0),
        (25, "interleaved", "system", 4),
    )
]
SHUFFLED_CHAIN = ["40", "10", "20", "30", "50"]

TREE_FIELDS = "id parentId branchIndex branchCount"
SESSION_TREE = f"""
query Tree($id: ID!) {{
  session(id: $id) {{
    id activeMessageId messageCount
    messages(first: 100) {{ edges {{ node {{ {TREE_FIELDS} }} }} }}
  }}
}}
"""
EVERY_SESSION = f"""
query Every {{
  sessions(filter: {{saved: null}}, first: 100, orderBy: NAME_ASC) {{
    edges {{ node {{
      id activeMessageId messageCount
      messages(last: 2) {{ edges {{ node {{ {TREE_FIELDS} }} }} }}
    }} }}
  }}
}}
"""
PAGE = f"""
query Page($id: ID!, $after: String) {{
  session(id: $id) {{
    messages(first: 2, after: $after) {{
      pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {TREE_FIELDS} }} }}
    }}
  }}
}}
"""
APPEND = """
mutation Append($input: AppendMessageInput!) {
  appendMessage(input: $input) { id sessionId parentId branchIndex branchCount }
}
"""
SWITCH = "mutation Switch($id: ID!) { switchBranch(messageId: $id) { id activeMessageId } }"


def chains(messages: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each session's message ids as the migration must chain them: (created_at, id) order."""
    ordered: dict[str, list[str]] = {}
    for message in sorted(messages, key=lambda message: (message["created_at"], message["id"])):
        ordered.setdefault(message["session_id"], []).append(str(message["id"]))
    return ordered


def as_chain(ids: list[str]) -> list[dict[str, Any]]:
    """A chain's messages as the API answers them: each below the one before, none with a sibling."""
    return [
        {"id": id, "parentId": ids[place - 1] if place else None, "branchIndex": 0, "branchCount": 1}
        for place, id in enumerate(ids)
    ]


async def tree_rows(connection: Any) -> dict[str, tuple[str | None, int, bool]]:
    _, rows = await connection.execute_query('SELECT "id","parent_id","depth","active" FROM "messages"')
    return {
        str(row["id"]): (None if row["parent_id"] is None else str(row["parent_id"]), row["depth"], bool(row["active"]))
        for row in rows
    }


async def test_each_sessions_messages_become_a_chain_in_time_then_id_order(
    new_database: Callable[[], Awaitable[str]],
) -> None:
    database_url = await new_database()
    async with connected(database_url) as connection:
        await MigrationExecutor(connection, apps_config()).migrate([MigrationTarget(APP, BEFORE_TREE)])
        assert await pending_migrations() == FROM_TREE
        before = await fill(connection)
        for session in MORE_SESSIONS:
            await insert(connection, "sessions", session)
        for message in MORE_MESSAGES:
            await insert(connection, "messages", message)
        if not is_sqlite(connection):  # rows the server wrote moved the id sequence; these were given ids
            await connection.execute_query(
                "SELECT setval(pg_get_serial_sequence('messages', 'id'), (SELECT MAX(id) FROM messages))"
            )
        messages = MESSAGES + MORE_MESSAGES  # as written, times as datetimes

        assert await migrate() == MigrationReport(applied=FROM_TREE)
        await prepare_database()  # as the server starts: nothing left to do

        expected = chains(messages)
        assert expected["shuffled"] == SHUFFLED_CHAIN and expected["interleaved"] == ["25", "15", "35"]
        assert expected["saved-with-persona"] == ["1", "2", "3"] and expected["ephemeral-without-persona"] == [
            str(2**40)
        ]
        assert "empty" not in expected
        assert await tree_rows(connection) == {
            id: (ids[place - 1] if place else None, place, True)
            for ids in expected.values()
            for place, id in enumerate(ids)
        }

        transport = httpx.ASGITransport(app=create_app(Settings(database_url=database_url)))
        async with httpx.AsyncClient(transport=transport, base_url="http://kalito.test") as http:
            gql = GraphQLClient(http)
            sessions = [session["id"] for session in before["sessions"] + MORE_SESSIONS]
            for session_id in sessions:
                ids = expected.get(session_id, [])
                assert await gql.twice(SESSION_TREE, {"id": session_id}) == {
                    "session": {
                        "id": session_id,
                        "activeMessageId": ids[-1] if ids else None,
                        "messageCount": len(ids),
                        "messages": {"edges": [{"node": node} for node in as_chain(ids)]},
                    }
                }, session_id

            # every session at once: the batched leaves, pages and branch counts
            every = await gql.twice(EVERY_SESSION)
            assert {edge["node"]["id"]: edge["node"] for edge in every["sessions"]["edges"]} == {
                session_id: {
                    "id": session_id,
                    "activeMessageId": expected[session_id][-1] if session_id in expected else None,
                    "messageCount": len(expected.get(session_id, [])),
                    "messages": {
                        "edges": [{"node": node} for node in as_chain(expected.get(session_id, []))[-2:]],
                    },
                }
                for session_id in sessions
            }

            # a cursor walk down the migrated chain
            walked, after = [], None
            while True:
                page = (await gql.twice(PAGE, {"id": "shuffled", "after": after}))["session"]["messages"]
                walked += [edge["node"] for edge in page["edges"]]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
            assert walked == as_chain(SHUFFLED_CHAIN)

            # and the migrated chain grows and branches as a new one does
            appended = (await gql.data(APPEND, {"input": {"sessionId": "shuffled", "role": "USER", "text": "on"}}))[
                "appendMessage"
            ]
            assert appended["parentId"] == "50" and (appended["branchIndex"], appended["branchCount"]) == (0, 1)
            branch = await gql.data(
                APPEND, {"input": {"sessionId": "shuffled", "role": "USER", "text": "instead", "parentId": "10"}}
            )
            assert branch["appendMessage"] | {"id": "<new>"} == {
                "id": "<new>",
                "sessionId": "shuffled",
                "parentId": "10",
                "branchIndex": 1,
                "branchCount": 2,
            }
            branched = await gql.twice(SESSION_TREE, {"id": "shuffled"})
            new = branch["appendMessage"]["id"]
            assert branched["session"]["activeMessageId"] == new
            assert branched["session"]["messageCount"] == 7
            assert [edge["node"] for edge in branched["session"]["messages"]["edges"]] == [
                {"id": "40", "parentId": None, "branchIndex": 0, "branchCount": 1},
                {"id": "10", "parentId": "40", "branchIndex": 0, "branchCount": 1},
                {"id": new, "parentId": "10", "branchIndex": 1, "branchCount": 2},
            ]
            rows = await tree_rows(connection)
            assert [rows[id][2] for id in [*SHUFFLED_CHAIN, appended["id"], new]] == [
                True,
                True,
                False,
                False,
                False,
                False,
                True,
            ]
            # back to the migrated branch: down to its newest leaf, the message appended after 50
            switched = await gql.data(SWITCH, {"id": "30"})
            assert switched == {"switchBranch": {"id": "shuffled", "activeMessageId": appended["id"]}}
            assert await gql.data(SWITCH, {"id": "30"}) == switched
            back = await gql.twice(SESSION_TREE, {"id": "shuffled"})
            assert [edge["node"]["id"] for edge in back["session"]["messages"]["edges"]] == [
                *SHUFFLED_CHAIN,
                appended["id"],
            ]
            # the other sessions did not move
            for session_id in ("interleaved", "empty", "saved-with-persona"):
                ids = expected.get(session_id, [])
                answer = await gql.twice(SESSION_TREE, {"id": session_id})
                assert answer["session"]["activeMessageId"] == (ids[-1] if ids else None)
                assert [edge["node"] for edge in answer["session"]["messages"]["edges"]] == as_chain(ids)


# --- import-kalito into a session that already has a tree ------------------------------------------

CREATE = "mutation ($input: CreateSessionInput!) { createSession(input: $input) { id } }"


async def append(gql: GraphQLClient, session_id: str, text: str, **parent: str | None) -> str:
    answer = await gql.data(APPEND, {"input": {"sessionId": session_id, "role": "USER", "text": text, **parent}})
    message_id: str = answer["appendMessage"]["id"]
    return message_id


async def test_an_import_chains_the_new_messages_below_the_active_leaf(
    db: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    """The session holds a tree made through the API whose active leaf is not its newest
    message; the file's messages for it (older than every message here, their ids against
    their times) follow that leaf, and the file's other session is a chain of its own."""
    await gql.data(CREATE, {"input": {"id": "continued", "saved": True}})
    first = await append(gql, "continued", "first")
    kept = await append(gql, "continued", "kept")
    newest = await append(gql, "continued", "newest, on another branch", parentId=first)
    assert (await gql.data(SWITCH, {"id": kept}))["switchBranch"]["activeMessageId"] == kept
    with KalitoFile(tmp_path / "kalito-source.db", SEPTEMBER_2025) as kalito:
        kalito.session(id="continued", saved=1)
        kalito.session(id="only-in-kalito", saved=1)
        for number, session, at in (
            (1000, "continued", "2025-09-13T10:43:00.000Z"),
            (1001, "continued", "2025-09-13T10:42:00.000Z"),
            (1002, "continued", "2025-09-13T10:42:00.000Z"),  # the same moment as 1001: after it
            (1004, "only-in-kalito", "2025-09-13T10:44:00.000Z"),
            (1003, "only-in-kalito", "2025-09-13T10:45:00.000Z"),
        ):
            kalito.message(session, "user", f"kalito {number}", id=number, created_at=at)

    report = await import_kalito(kalito.path)

    assert report.complete and +report.imported == {"sessions": 1, "messages": 5}
    assert +report.present == {"sessions": 1}
    continued = await gql.twice(SESSION_TREE, {"id": "continued"})
    assert continued == {
        "session": {
            "id": "continued",
            "activeMessageId": "1000",
            "messageCount": 6,
            "messages": {
                "edges": [
                    {"node": {"id": first, "parentId": None, "branchIndex": 0, "branchCount": 1}},
                    {"node": {"id": kept, "parentId": first, "branchIndex": 0, "branchCount": 2}},
                    {"node": {"id": "1001", "parentId": kept, "branchIndex": 0, "branchCount": 1}},
                    {"node": {"id": "1002", "parentId": "1001", "branchIndex": 0, "branchCount": 1}},
                    {"node": {"id": "1000", "parentId": "1002", "branchIndex": 0, "branchCount": 1}},
                ],
            },
        }
    }
    only = await gql.twice(SESSION_TREE, {"id": "only-in-kalito"})
    assert only["session"]["activeMessageId"] == "1003"
    assert [edge["node"] for edge in only["session"]["messages"]["edges"]] == as_chain(["1004", "1003"])

    # the conversation goes on from the imported leaf, with an id after the imported ones
    after = await append(gql, "continued", "and now?")
    assert int(after) > 1004
    grown = await gql.twice(SESSION_TREE, {"id": "continued"})
    assert grown["session"]["activeMessageId"] == after
    assert grown["session"]["messages"]["edges"][-1]["node"] == {
        "id": after,
        "parentId": "1000",
        "branchIndex": 0,
        "branchCount": 1,
    }
    # the branch the import left alone is still there, and switching to it and back works
    assert (await gql.data(SWITCH, {"id": newest}))["switchBranch"]["activeMessageId"] == newest
    elsewhere = await gql.twice(SESSION_TREE, {"id": "continued"})
    assert [edge["node"]["id"] for edge in elsewhere["session"]["messages"]["edges"]] == [first, newest]
    assert (await gql.data(SWITCH, {"id": "1001"}))["switchBranch"]["activeMessageId"] == after
    assert [
        edge["node"]["id"]
        for edge in (await gql.twice(SESSION_TREE, {"id": "continued"}))["session"]["messages"]["edges"]
    ] == [first, kept, "1001", "1002", "1000", after]

    # a second import of the same file changes nothing
    again = await import_kalito(kalito.path)
    assert sum(again.imported.values()) == 0 and again.complete
    assert (await gql.twice(SESSION_TREE, {"id": "only-in-kalito"})) == only


async def test_the_active_branchs_connection_counts_what_it_pages(db: str, gql: GraphQLClient) -> None:
    """`Session.messages` pages the active branch (api.md §9), so its totalCount, like
    SessionConnection's, counts that list; messageCount counts every branch."""
    await gql.data(CREATE, {"input": {"id": "forked", "saved": True}})
    first = await append(gql, "forked", "first")
    await append(gql, "forked", "the answer left behind")
    other = await append(gql, "forked", "the answer regenerated", parentId=first)
    counted = await gql.twice(
        '{ session(id: "forked") { messageCount messages(first: 100) '
        "{ totalCount pageInfo { hasNextPage } edges { node { id } } } } }"
    )
    assert counted == {
        "session": {
            "messageCount": 3,
            "messages": {
                "totalCount": 2,
                "pageInfo": {"hasNextPage": False},
                "edges": [{"node": {"id": first}}, {"node": {"id": other}}],
            },
        }
    }
