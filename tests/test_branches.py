"""Branching conversations (api.md §9): appendMessage's parentId (omitted: the active leaf;
another parent: a new branch; null: a new first message), switchBranch, the active branch in
Session.messages (keyset pages both ways), messages(last: N) and the memory context, and a
message's parentId, branchIndex, branchCount and siblings, loaded in batches.

Every read is sent twice (the second send is answered by the compiled plan) and the answers
compared; every mutation's document is sent several times, with its variables inside the input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import models

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient, SQLCounter

APPEND = "mutation Say($input: AppendMessageInput!) { appendMessage(input: $input) { id sessionId parentId text } }"
SWITCH = "mutation Switch($id: ID!) { switchBranch(messageId: $id) { id activeMessageId messageCount } }"
BRANCH = """
query Branch($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  session(id: $id) {
    activeMessageId
    messageCount
    messages(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id parentId text branchIndex branchCount siblings { id text } } }
    }
  }
}
"""


async def say(gql: GraphQLClient, text: str, *, session: str = "chat", **input: Any) -> dict[str, Any]:
    role = "ASSISTANT" if text.startswith("a") else "USER"
    data = await gql.data(APPEND, {"input": {"sessionId": session, "role": role, "text": text, **input}})
    message: dict[str, Any] = data["appendMessage"]
    return message


async def branch(gql: GraphQLClient, session: str = "chat", **page: Any) -> dict[str, Any]:
    data = await gql.twice(BRANCH, {"id": session, **page})
    found: dict[str, Any] = data["session"]
    return found


def texts(session: dict[str, Any]) -> list[str]:
    return [edge["node"]["text"] for edge in session["messages"]["edges"]]


async def test_a_regenerated_answer_is_a_new_branch_and_the_old_one_is_kept(gql: GraphQLClient) -> None:
    question = await say(gql, "u1 what is a monad?")
    first = await say(gql, "a1 a burrito")
    assert (question["parentId"], first["parentId"]) == (None, question["id"])

    second = await say(gql, "a2 a monoid in the category of endofunctors", parentId=question["id"])
    third = await say(gql, "a3 a design pattern", parentId=question["id"])
    assert [m["parentId"] for m in (second, third)] == [question["id"]] * 2

    session = await branch(gql)
    assert texts(session) == ["u1 what is a monad?", "a3 a design pattern"]
    assert session["activeMessageId"] == third["id"]
    assert session["messageCount"] == 4  # every branch
    answer = session["messages"]["edges"][1]["node"]
    assert (answer["branchIndex"], answer["branchCount"]) == (2, 3)
    assert [s["text"] for s in answer["siblings"]] == [
        "a1 a burrito",
        "a2 a monoid in the category of endofunctors",
        "a3 a design pattern",
    ]
    root = session["messages"]["edges"][0]["node"]
    assert (root["parentId"], root["branchIndex"], root["branchCount"]) == (None, 0, 1)
    assert [s["id"] for s in root["siblings"]] == [question["id"]]


async def test_an_edited_question_branches_and_the_conversation_goes_on_from_it(gql: GraphQLClient) -> None:
    await say(gql, "u1 hello")
    a1 = await say(gql, "a1 hi")
    await say(gql, "u2 tell me about cats")
    a2 = await say(gql, "a2 cats purr")
    edited = await say(gql, "u2' tell me about dogs", parentId=a1["id"])
    reply = await say(gql, "a2' dogs bark")  # omitted: below the active leaf, the edit
    assert reply["parentId"] == edited["id"]

    session = await branch(gql)
    assert texts(session) == ["u1 hello", "a1 hi", "u2' tell me about dogs", "a2' dogs bark"]
    assert session["activeMessageId"] == reply["id"]

    # Back to the first version of the question: its branch, down to its newest leaf.
    switched = await gql.data(SWITCH, {"id": a2["id"]})
    assert switched["switchBranch"]["activeMessageId"] == a2["id"]
    assert texts(await branch(gql)) == ["u1 hello", "a1 hi", "u2 tell me about cats", "a2 cats purr"]
    # And again through the edit (the same document, another message): down to its newest leaf.
    switched = await gql.data(SWITCH, {"id": edited["id"]})
    assert switched["switchBranch"] == {"id": "chat", "activeMessageId": reply["id"], "messageCount": 6}
    assert texts(await branch(gql)) == ["u1 hello", "a1 hi", "u2' tell me about dogs", "a2' dogs bark"]


async def test_switching_to_a_message_goes_down_to_the_newest_leaf_below_it(gql: GraphQLClient) -> None:
    u1 = await say(gql, "u1 q")
    await say(gql, "a1 old")
    await say(gql, "u2 more", parentId=u1["id"])
    newest = await say(gql, "a2 newest")
    await say(gql, "a0 other", parentId=u1["id"])  # the active branch is now u1 → a0
    switched = await gql.data(SWITCH, {"id": u1["id"]})
    assert switched["switchBranch"]["activeMessageId"] != newest["id"]  # a0 is the newest leaf below u1
    session = await branch(gql)
    assert texts(session) == ["u1 q", "a0 other"]


async def test_a_null_parent_starts_a_new_first_message(gql: GraphQLClient) -> None:
    first = await say(gql, "u1 first try")
    await say(gql, "a1 answer")
    again = await say(gql, "u1' second try", parentId=None)
    assert again["parentId"] is None
    session = await branch(gql)
    assert texts(session) == ["u1' second try"]
    node = session["messages"]["edges"][0]["node"]
    assert (node["branchIndex"], node["branchCount"]) == (1, 2)
    assert [s["id"] for s in session["messages"]["edges"][0]["node"]["siblings"]] == [first["id"], again["id"]]
    await gql.data(SWITCH, {"id": first["id"]})
    assert texts(await branch(gql)) == ["u1 first try", "a1 answer"]


@pytest.mark.parametrize(
    ("parent", "why"),
    [("999999", "names no message"), ("not-a-number", "names no message"), ("elsewhere", "names no message")],
)
async def test_a_parent_of_another_session_or_none_at_all_is_refused_and_nothing_is_written(
    gql: GraphQLClient, parent: str, why: str
) -> None:
    other = await say(gql, "u1 elsewhere", session="other")
    await say(gql, "u1 here")
    parent_id = other["id"] if parent == "elsewhere" else parent
    for session in ("chat", "unknown-session"):  # an unknown session is not created either
        for _ in range(2):
            body = await gql(
                APPEND, {"input": {"sessionId": session, "role": "USER", "text": "x", "parentId": parent_id}}
            )
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "BAD_USER_INPUT", error
            assert error["extensions"]["field"] == "parentId", error
            assert why in error["message"]
    assert await models.Message.filter(session_id="chat").count() == 1
    assert not await models.Session.exists(id="unknown-session")


async def test_switching_to_an_unknown_message_is_not_found(gql: GraphQLClient) -> None:
    for message_id in ("424242", "424243"):
        body = await gql(SWITCH, {"id": message_id})
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await gql(SWITCH, {"id": "nope"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_switching_moves_updated_at_and_publishes_nothing_else(gql: GraphQLClient) -> None:
    u1 = await say(gql, "u1 q")
    await say(gql, "a1 x")
    before = (await gql.twice('{ session(id: "chat") { updatedAt } }'))["session"]["updatedAt"]
    await gql.data(SWITCH, {"id": u1["id"]})
    after = (await gql.twice('{ session(id: "chat") { updatedAt } }'))["session"]["updatedAt"]
    assert after > before


async def test_pages_of_the_active_branch_go_both_ways_without_repeats(gql: GraphQLClient) -> None:
    ids = [(await say(gql, f"u{n}"))["id"] for n in range(12)]
    await say(gql, "a-off the branch", parentId=ids[3])  # a branch off the middle, then back
    await gql.data(SWITCH, {"id": ids[-1]})
    forward: list[str] = []
    after = None
    while True:
        session = await branch(gql, first=5, after=after)
        forward += texts(session)
        info = session["messages"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert forward == [f"u{n}" for n in range(12)]
    backward: list[str] = []
    before = None
    while True:
        session = await branch(gql, last=5, before=before)
        backward = texts(session) + backward
        info = session["messages"]["pageInfo"]
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert backward == forward
    last = await branch(gql, last=3)
    assert texts(last) == ["u9", "u10", "u11"]
    assert last["messages"]["totalCount"] == 12  # the active branch; messageCount: 13


async def test_the_memory_context_follows_the_active_branch(gql: GraphQLClient) -> None:
    u1 = await say(gql, "u1 my name is Ada")
    await say(gql, "a1 hello Ada")
    await say(gql, "u2 my name is Grace", parentId=u1["id"])
    query = '{ session(id: "chat") { memoryContext { recentMessages { text } } } }'
    context = (await gql.twice(query))["session"]["memoryContext"]
    assert [m["text"] for m in context["recentMessages"]] == ["u1 my name is Ada", "u2 my name is Grace"]


SESSIONS_WITH_BRANCHES = """
query Pages($first: Int!) {
  sessions(first: $first, filter: {saved: null}) {
    edges {
      node { id activeMessageId messages(last: 3) { edges { node { id branchIndex branchCount siblings { id } } } } }
    }
  }
}
"""


async def test_a_page_of_sessions_loads_their_branches_in_a_fixed_number_of_statements(
    gql: GraphQLClient, sql_counter: SQLCounter
) -> None:
    for number in range(8):
        root = await say(gql, "u root", session=f"s{number}")
        await say(gql, "a one", session=f"s{number}")
        await say(gql, "a two", session=f"s{number}", parentId=root["id"])
    counts = {}
    for size in (2, 8):
        answers = []
        for _ in range(2):  # strawberry's path, then the plan's
            sql_counter.reset()
            answers.append(await gql.data(SESSIONS_WITH_BRANCHES, {"first": size}))
            counts[size, len(answers)] = len(sql_counter.statements)
        assert answers[0] == answers[1]
        for edge in answers[0]["sessions"]["edges"]:
            nodes = [e["node"] for e in edge["node"]["messages"]["edges"]]
            assert [(n["branchIndex"], n["branchCount"]) for n in nodes] == [(0, 1), (1, 2)]
            assert edge["node"]["activeMessageId"] == nodes[-1]["id"]
    # The sessions, their pages of messages, the active leaves, and one statement per branch field.
    assert counts[2, 1] == counts[8, 1] <= 6
    assert counts[2, 2] == counts[8, 2] <= 6


FORK = (
    "mutation Fork($input: ForkSessionInput!) { forkSession(input: $input) "
    "{ id name saved activeMessageId messageCount pins { content sourceMessageId } } }"
)
PIN = "mutation Pin($input: CreatePinInput!) { createPin(input: $input) { id } }"


async def test_a_fork_copies_one_path_with_its_pins_and_leaves_the_source_alone(gql: GraphQLClient) -> None:
    u1 = await say(gql, "u1 plan a trip")
    a1 = await say(gql, "a1 where to?")
    await say(gql, "u2 Lisbon")
    await say(gql, "u2' Porto", parentId=a1["id"])
    for source, content in ((u1["id"], "wants a trip"), (None, "session-wide")):
        await gql.data(PIN, {"input": {"sessionId": "chat", "content": content, "sourceMessageId": source}})
    source_before = await branch(gql)

    at_a1 = await gql.data(FORK, {"input": {"sessionId": "chat", "atMessageId": a1["id"], "id": "fork-1"}})
    active = await gql.data(FORK, {"input": {"sessionId": "chat", "name": "Porto plans"}})
    fork = at_a1["forkSession"]
    assert (fork["id"], fork["name"], fork["saved"], fork["messageCount"]) == ("fork-1", "New Chat", False, 2)
    assert texts(await branch(gql, "fork-1")) == ["u1 plan a trip", "a1 where to?"]
    copied = await branch(gql, "fork-1")
    assert fork["activeMessageId"] == copied["messages"]["edges"][-1]["node"]["id"] != a1["id"]
    assert sorted(p["content"] for p in fork["pins"]) == ["session-wide", "wants a trip"]
    pinned = next(p for p in fork["pins"] if p["content"] == "wants a trip")
    assert pinned["sourceMessageId"] == copied["messages"]["edges"][0]["node"]["id"]

    other = active["forkSession"]
    assert (other["name"], other["messageCount"]) == ("Porto plans", 3)
    assert texts(await branch(gql, other["id"])) == ["u1 plan a trip", "a1 where to?", "u2' Porto"]
    assert await branch(gql) == source_before


async def test_a_fork_of_what_is_not_there_is_refused(gql: GraphQLClient) -> None:
    other = await say(gql, "u1 elsewhere", session="other")
    await say(gql, "u1 here")
    for input, code in (
        ({"sessionId": "missing"}, "NOT_FOUND"),
        ({"sessionId": "chat", "atMessageId": other["id"]}, "BAD_USER_INPUT"),
        ({"sessionId": "chat", "atMessageId": "x"}, "BAD_USER_INPUT"),
        ({"sessionId": "chat", "id": "other"}, "CONFLICT"),
    ):
        body = await gql(FORK, {"input": input})
        assert body["errors"][0]["extensions"]["code"] == code, (input, body)
    assert await models.Session.all().count() == 2
    assert await models.Message.all().count() == 2
