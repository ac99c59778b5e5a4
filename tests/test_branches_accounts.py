"""Branches with accounts on (api.md §9, §11): a user's message tree is theirs alone. Another
user's message is, to switchBranch and to parentId, exactly a message that does not exist, and
nothing of the owner's moves; an admin may switch anyone's branch.

Over HTTP on both databases; each document is sent at least twice (strawberry's answer, then
the compiled plan's), and the answers that must agree are compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests import test_accounts
from tests.conftest import GraphQLClient
from tests.test_accounts import ALICE_SESSION, Users, twice

# tests/test_accounts.py's fixtures (its settings turn accounts on), found here by pytest
settings = test_accounts.settings
users = test_accounts.users

BOB_SESSION = "bob-s1"
MISSING_MESSAGE = "987654321"
TREE = """
query Tree($id: ID!) {
  session(id: $id) {
    id updatedAt activeMessageId messageCount
    messages(first: 100) { edges { node { id parentId branchIndex branchCount siblings { id parentId } } } }
  }
}
"""
APPEND = """
mutation Append($input: AppendMessageInput!) {
  appendMessage(input: $input) { id sessionId parentId branchIndex branchCount }
}
"""
SWITCH = """
mutation Switch($id: ID!) {
  switchBranch(messageId: $id) { id activeMessageId messages { edges { node { id } } } }
}
"""
CREATE = "mutation ($input: CreateSessionInput!) { createSession(input: $input) { id } }"


@dataclass(frozen=True)
class AliceTree:
    """alice's session: first ─┬─ left
            ├─ middle    (active: first, middle)
            └─ right
    other_root           (a second first message)"""

    first: str
    left: str
    middle: str
    right: str
    other_root: str


def refusal(body: dict[str, Any], message_id: str) -> dict[str, Any]:
    """A refused operation's answer with the message id in its error's text written as <id>
    (test_accounts.without replaces every occurrence, digits of `locations` too, and message
    ids are small numbers), so that two refusals compare but for it."""
    (error,) = body["errors"]
    return {**body, "errors": [{**error, "message": re.sub(rf"\b{message_id}\b", "<id>", error["message"])}]}


async def append(client: GraphQLClient, session_id: str, text: str, **parent: str | None) -> str:
    answer = await client.data(APPEND, {"input": {"sessionId": session_id, "role": "USER", "text": text, **parent}})
    message_id: str = answer["appendMessage"]["id"]
    return message_id


async def grow_alices_tree(alice: GraphQLClient) -> AliceTree:
    await alice.data(CREATE, {"input": {"id": ALICE_SESSION, "name": "Alice's", "saved": True}})
    first = await append(alice, ALICE_SESSION, "my question")
    left = await append(alice, ALICE_SESSION, "an answer")
    middle = await append(alice, ALICE_SESSION, "another answer", parentId=first)
    right = await append(alice, ALICE_SESSION, "a third answer", parentId=first)
    other_root = await append(alice, ALICE_SESSION, "a question asked anew", parentId=None)
    switched = await alice.data(SWITCH, {"id": middle})
    assert switched["switchBranch"]["activeMessageId"] == middle
    return AliceTree(first, left, middle, right, other_root)


async def bobs_session(bob: GraphQLClient) -> str:
    await bob.data(CREATE, {"input": {"id": BOB_SESSION, "saved": True}})
    return await append(bob, BOB_SESSION, "bob's question")


async def test_alices_tree_reads_right_to_her_and_is_missing_to_bob(users: Users) -> None:
    tree = await grow_alices_tree(users.alice)
    bobs = await bobs_session(users.bob)

    answer = await users.alice.twice(TREE, {"id": ALICE_SESSION})
    session = answer["session"]
    roots = [{"id": tree.first, "parentId": None}, {"id": tree.other_root, "parentId": None}]
    answers = [{"id": id, "parentId": tree.first} for id in (tree.left, tree.middle, tree.right)]
    assert session | {"updatedAt": "<moment>"} == {
        "id": ALICE_SESSION,
        "updatedAt": "<moment>",
        "activeMessageId": tree.middle,
        "messageCount": 5,
        "messages": {
            "edges": [
                {"node": {"id": tree.first, "parentId": None, "branchIndex": 0, "branchCount": 2, "siblings": roots}},
                {
                    "node": {
                        "id": tree.middle,
                        "parentId": tree.first,
                        "branchIndex": 1,
                        "branchCount": 3,
                        "siblings": answers,
                    }
                },
            ]
        },
    }
    # bob's first message shares no parent with alice's: his session's roots are his alone
    bob_tree = await users.bob.twice(TREE, {"id": BOB_SESSION})
    assert bob_tree["session"]["activeMessageId"] == bobs
    assert [edge["node"] for edge in bob_tree["session"]["messages"]["edges"]] == [
        {"id": bobs, "parentId": None, "branchIndex": 0, "branchCount": 1, "siblings": [{"id": bobs, "parentId": None}]}
    ]
    # alice's session is no session to bob, as an id nobody has
    assert await users.bob.twice(TREE, {"id": ALICE_SESSION}) == {"session": None}
    assert await users.bob.twice(TREE, {"id": "nobody-s1"}) == {"session": None}
    listed = await users.bob.twice(
        "query { sessions(filter: {saved: null}) { edges { node { id activeMessageId } } } }"
    )
    assert listed == {"sessions": {"edges": [{"node": {"id": BOB_SESSION, "activeMessageId": bobs}}]}}


async def test_bob_cannot_switch_alices_branch_and_nothing_of_hers_moves(users: Users) -> None:
    tree = await grow_alices_tree(users.alice)
    before = await users.alice.twice(TREE, {"id": ALICE_SESSION})

    for message_id in (tree.left, tree.right, tree.other_root, tree.first):
        theirs = await twice(users.bob, SWITCH, {"id": message_id})
        missing = await twice(users.bob, SWITCH, {"id": MISSING_MESSAGE})
        assert theirs["errors"][0]["extensions"] == {"code": "NOT_FOUND"}, theirs
        assert theirs["data"] is None
        assert refusal(theirs, message_id) == refusal(missing, MISSING_MESSAGE)

    assert await users.alice.twice(TREE, {"id": ALICE_SESSION}) == before  # updatedAt included


async def test_bob_cannot_append_below_alices_message(users: Users) -> None:
    tree = await grow_alices_tree(users.alice)
    bobs = await bobs_session(users.bob)
    alice_before = await users.alice.twice(TREE, {"id": ALICE_SESSION})
    bob_before = await users.bob.twice(TREE, {"id": BOB_SESSION})

    for session_id in (BOB_SESSION, "bob-new"):  # his session, and one the append would create
        for text in ("below alice's", "below alice's, again"):
            refusals = []
            for parent in (tree.middle, MISSING_MESSAGE):
                variables = {"input": {"sessionId": session_id, "role": "USER", "text": text, "parentId": parent}}
                body = await users.bob(APPEND, variables)
                (error,) = body["errors"]
                assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "parentId"}, body
                assert body["data"] is None
                refusals.append(refusal(body, parent))
            assert refusals[0] == refusals[1], refusals

    # nothing was written: bob's session as it was, no new one, alice's as it was
    assert await users.bob.twice(TREE, {"id": BOB_SESSION}) == bob_before
    assert await users.bob.twice(TREE, {"id": "bob-new"}) == {"session": None}
    assert await users.alice.twice(TREE, {"id": ALICE_SESSION}) == alice_before
    # and bob's own message is a parent he may name
    mine = await users.bob.data(
        APPEND, {"input": {"sessionId": BOB_SESSION, "role": "USER", "text": "again", "parentId": None}}
    )
    assert mine["appendMessage"] | {"id": "<new>"} == {
        "id": "<new>",
        "sessionId": BOB_SESSION,
        "parentId": None,
        "branchIndex": 1,
        "branchCount": 2,
    }
    below = await users.bob.data(
        APPEND, {"input": {"sessionId": BOB_SESSION, "role": "USER", "text": "below mine", "parentId": bobs}}
    )
    assert below["appendMessage"]["parentId"] == bobs


async def test_bob_appending_into_alices_session_is_the_conflict_of_a_taken_id(users: Users) -> None:
    tree = await grow_alices_tree(users.alice)
    before = await users.alice.twice(TREE, {"id": ALICE_SESSION})
    parents: list[dict[str, Any]] = [{}, {"parentId": tree.middle}, {"parentId": tree.left}, {"parentId": None}]

    for parent in parents:
        for text in ("into alice's", "into alice's, again"):
            variables = {"input": {"sessionId": ALICE_SESSION, "role": "USER", "text": text, **parent}}
            body = await users.bob(APPEND, variables)
            (error,) = body["errors"]
            assert error["extensions"] == {"code": "CONFLICT"}, (parent, body)
            assert error["message"] == f"a session with id {ALICE_SESSION!r} already exists", (parent, body)
            assert body["data"] is None

    assert await users.alice.twice(TREE, {"id": ALICE_SESSION}) == before


async def test_an_admin_may_switch_alices_branch(users: Users) -> None:
    tree = await grow_alices_tree(users.alice)
    before = await users.alice.twice(TREE, {"id": ALICE_SESSION})

    switched = await users.admin.data(SWITCH, {"id": tree.left})
    assert switched == {
        "switchBranch": {
            "id": ALICE_SESSION,
            "activeMessageId": tree.left,
            "messages": {"edges": [{"node": {"id": tree.first}}, {"node": {"id": tree.left}}]},
        }
    }
    assert await users.admin.data(SWITCH, {"id": tree.left}) == switched  # the plan's answer
    after = await users.alice.twice(TREE, {"id": ALICE_SESSION})
    assert after["session"]["activeMessageId"] == tree.left
    assert after["session"]["updatedAt"] > before["session"]["updatedAt"]
    assert [edge["node"]["id"] for edge in after["session"]["messages"]["edges"]] == [tree.first, tree.left]
    assert after["session"]["messages"]["edges"][1]["node"]["branchIndex"] == 0
    assert await users.admin.twice(TREE, {"id": ALICE_SESSION}) == after  # the admin reads what alice reads

    # to the other first message: a leaf of its own
    to_root = await users.admin.data(SWITCH, {"id": tree.other_root})
    assert to_root["switchBranch"]["activeMessageId"] == tree.other_root
    assert to_root["switchBranch"]["messages"] == {"edges": [{"node": {"id": tree.other_root}}]}
    # and alice's own switch, from there, goes down to the newest leaf below her first message
    mine = await users.alice.data(SWITCH, {"id": tree.first})
    assert mine["switchBranch"]["activeMessageId"] == tree.right
    assert await users.alice.data(SWITCH, {"id": tree.first}) == mine
    # bob is still refused, and the message an admin switched to is no more his than before
    refused = await users.bob.error(SWITCH, {"id": tree.left})
    assert refused["extensions"] == {"code": "NOT_FOUND"}
    assert (await users.alice.twice(TREE, {"id": ALICE_SESSION}))["session"]["activeMessageId"] == tree.right
