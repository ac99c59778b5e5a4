"""Session.memoryContext through HTTP (docs/memory-context.md): the worked example, the default
budget, the argument's range, and a property test over random sessions that checks what an agent
may rely on, directly from the rows. Every document is sent twice (the second send is answered
by the compiled plan) and the answers compared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from models import memory

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient

LONG_AGO = datetime(2025, 9, 16, 10, 8, 36, 188_000, tzinfo=UTC)
CONTEXT_FIELDS = """
recentMessages { id text }
pins { id content importance createdAt }
summaries { id text createdAt }
totalTokens
"""
SESSION_CONTEXT = f"""
query Context($id: ID!, $maxTokens: Int) {{
  session(id: $id) {{ memoryContext(maxTokens: $maxTokens) {{ {CONTEXT_FIELDS} }} }}
}}
"""
SESSION_DEFAULT_CONTEXT = f"query ($id: ID!) {{ session(id: $id) {{ memoryContext {{ {CONTEXT_FIELDS} }} }} }}"
PAGE_CONTEXTS = f"""
query Contexts($maxTokens: Int) {{
  sessions(first: 100, filter: {{saved: null}}, orderBy: NAME_ASC) {{
    edges {{ node {{ id memoryContext(maxTokens: $maxTokens) {{ {CONTEXT_FIELDS} }} }} }}
  }}
}}
"""


def at(seconds: float) -> datetime:
    return LONG_AGO + timedelta(seconds=seconds)


def costing(tokens: int, mark: str = "x") -> str:
    """A text of exactly `tokens` tokens (ceil(characters / 4)), the largest one."""
    return mark * (4 * tokens)


async def a_session(session_id: str) -> None:
    await models.Session.create(id=session_id, name=session_id, created_at=LONG_AGO, updated_at=LONG_AGO)


async def messages(session_id: str, texts: Sequence[str], moments: Sequence[datetime] | None = None) -> list[str]:
    """The messages, oldest first (replies: an empty text is allowed); answers their ids."""
    created = []
    for index, text in enumerate(texts):
        moment = at(index) if moments is None else moments[index]
        role = models.MessageRole.ASSISTANT if index % 2 else models.MessageRole.USER
        message = await models.Message.create(session_id=session_id, role=role, text=text, created_at=moment)
        created.append(str(message.id))
    await models.chain_every_session()  # written straight to the table: placed as appends place them
    return created


async def context_of(gql: GraphQLClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The answer, the same on both paths."""
    first, second = await gql(query, variables), await gql(query, variables)
    assert first == second
    return first


# --- the worked example of docs/memory-context.md ----------------------------------------------------


async def test_the_worked_example_answers_as_the_docs_say(gql: GraphQLClient, db: str) -> None:
    await a_session("chat")
    ids = await messages(
        "chat", [costing(cost, str(number)) for number, cost in enumerate([30, 12, 8, 20, 1, 25, 0, 15], 1)]
    )
    for name, cost, importance, seconds in [
        ("A", 30, 0.95, 0),
        ("B", 40, 0.9, 0),
        ("C", 10, 0.8, 2),
        ("D", 5, 0.8, 1),
        ("E", 8, 0.5, 0),
    ]:
        await models.Pin.create(
            id=name, session_id="chat", content=costing(cost), importance=importance, created_at=at(seconds)
        )
    for name, cost, seconds in [("S1", 12, 3), ("S2", 6, 2), ("S3", 20, 1)]:
        await models.Summary.create(
            id=name, session_id="chat", text=costing(cost), message_count=2, created_at=at(seconds)
        )

    answer = await context_of(gql, SESSION_CONTEXT, {"id": "chat", "maxTokens": 100})

    context = answer["data"]["session"]["memoryContext"]
    assert [message["id"] for message in context["recentMessages"]] == ids[4:]  # #5 to #8
    assert [pin["id"] for pin in context["pins"]] == ["A", "C", "D", "E"]
    assert [summary["id"] for summary in context["summaries"]] == ["S2"]
    assert context["totalTokens"] == 100


async def test_the_default_budget_holds_every_candidate_of_an_ordinary_session(gql: GraphQLClient, db: str) -> None:
    await a_session("chat")
    ids = await messages("chat", [f"message {number}" for number in range(10)])
    for number in range(7):
        await models.Pin.create(
            id=f"p{number}", session_id="chat", content="fact", importance=number / 10, created_at=at(0)
        )
    for number in range(4):
        await models.Summary.create(
            id=f"s{number}", session_id="chat", text="sum", message_count=1, created_at=at(number)
        )

    answer = await context_of(gql, SESSION_DEFAULT_CONTEXT, {"id": "chat"})

    context = answer["data"]["session"]["memoryContext"]
    assert [message["id"] for message in context["recentMessages"]] == ids[2:]  # the 8 most recent
    assert [pin["id"] for pin in context["pins"]] == ["p6", "p5", "p4", "p3", "p2"]
    assert [summary["id"] for summary in context["summaries"]] == ["s3", "s2", "s1"]
    assert context["totalTokens"] == 8 * 3 + 5 * 1 + 3 * 1


async def test_null_max_tokens_is_the_default_budget(gql: GraphQLClient, db: str) -> None:
    await a_session("chat")
    await messages("chat", [costing(2_999), costing(1)])
    default = await context_of(gql, SESSION_DEFAULT_CONTEXT, {"id": "chat"})
    null = await context_of(gql, SESSION_CONTEXT, {"id": "chat", "maxTokens": None})
    assert null == default
    assert default["data"]["session"]["memoryContext"]["totalTokens"] == 3_000


async def test_a_session_with_nothing_to_remember_has_an_empty_context(gql: GraphQLClient, db: str) -> None:
    await a_session("chat")
    answer = await context_of(gql, SESSION_CONTEXT, {"id": "chat", "maxTokens": 1})
    assert answer == {
        "data": {"session": {"memoryContext": {"recentMessages": [], "pins": [], "summaries": [], "totalTokens": 0}}}
    }


@pytest.mark.parametrize("max_tokens", [0, -1, 1_000_001])
@pytest.mark.parametrize("query", [SESSION_CONTEXT, PAGE_CONTEXTS], ids=["session", "sessions"])
async def test_max_tokens_outside_1_to_1000000_is_bad_user_input_naming_it(
    gql: GraphQLClient, db: str, max_tokens: int, query: str
) -> None:
    await a_session("chat")
    await messages("chat", ["Hello"])
    answer = await context_of(
        gql, query, {"id": "chat", "maxTokens": max_tokens} if "$id" in query else {"maxTokens": max_tokens}
    )
    [error] = answer["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "maxTokens"}
    assert error["message"] == "maxTokens must be 1 to 1,000,000"
    assert error["path"][-1] == "memoryContext"


@pytest.mark.parametrize("max_tokens", [1, 1_000_000])
async def test_max_tokens_at_its_bounds_is_allowed(gql: GraphQLClient, db: str, max_tokens: int) -> None:
    await a_session("chat")
    await messages("chat", ["four"])
    answer = await context_of(gql, SESSION_CONTEXT, {"id": "chat", "maxTokens": max_tokens})
    assert answer["data"]["session"]["memoryContext"]["totalTokens"] == 1


async def test_two_budgets_in_one_document_each_get_their_own_context(gql: GraphQLClient, db: str) -> None:
    await a_session("chat")
    await messages("chat", [costing(5), costing(5)])
    query = """
    query ($small: Int!) {
      session(id: "chat") {
        small: memoryContext(maxTokens: $small) { totalTokens }
        large: memoryContext { totalTokens }
      }
    }
    """
    answer = await context_of(gql, query, {"small": 6})
    assert answer == {"data": {"session": {"small": {"totalTokens": 5}, "large": {"totalTokens": 10}}}}


# --- what an agent may rely on, over random sessions -----------------------------------------------


@dataclass(frozen=True)
class Remembered:
    """One session's rows as the test wrote them."""

    session_id: str
    messages: list[tuple[str, str, datetime]]  # id, text, created_at
    pins: list[tuple[str, str, float, datetime]]  # id, content, importance, created_at
    summaries: list[tuple[str, str, datetime]]  # id, text, created_at


MOMENTS = st.sampled_from([0, 0, 1, 2, 60]).map(at)  # ties, often
TEXTS = st.text(st.sampled_from("ab é😀"), max_size=48)
ROW_IDS = st.text(st.sampled_from("aB-._1"), min_size=1, max_size=4)  # orders that locales disagree on


@st.composite
def sessions(draw: st.DrawFn) -> list[dict[str, Any]]:
    drawn = []
    for session_id in draw(st.lists(st.sampled_from(["s1", "s2", "s3"]), min_size=1, unique=True)):
        drawn.append(
            {
                "session_id": session_id,
                "messages": draw(st.lists(st.tuples(TEXTS, MOMENTS), max_size=11)),
                "pins": draw(
                    st.lists(
                        st.tuples(ROW_IDS, TEXTS, st.sampled_from([0.0, 0.5, 0.8, 0.8, 1.0]), MOMENTS),
                        max_size=8,
                        unique_by=lambda pin: pin[0],
                    )
                ),
                "summaries": draw(
                    st.lists(st.tuples(ROW_IDS, TEXTS, MOMENTS), max_size=5, unique_by=lambda row: row[0])
                ),
            }
        )
    return drawn


async def written(drawn: list[dict[str, Any]]) -> list[Remembered]:
    await models.Session.all().delete()
    remembered = []
    for session in drawn:
        session_id = session["session_id"]
        await a_session(session_id)
        texts = [text for text, _ in session["messages"]]
        ids = await messages(session_id, texts, [moment for _, moment in session["messages"]])
        pins = [
            (f"{session_id}{pin_id}", content, importance, moment)
            for pin_id, content, importance, moment in session["pins"]
        ]
        summaries = [(f"{session_id}{row_id}", text, moment) for row_id, text, moment in session["summaries"]]
        await models.Pin.bulk_create(
            [
                models.Pin(id=pin_id, session_id=session_id, content=content, importance=importance, created_at=moment)
                for pin_id, content, importance, moment in pins
            ]
        )
        await models.Summary.bulk_create(
            [
                models.Summary(id=row_id, session_id=session_id, text=text, message_count=1, created_at=moment)
                for row_id, text, moment in summaries
            ]
        )
        remembered.append(
            Remembered(
                session_id,
                [(id_, text, moment) for id_, (text, moment) in zip(ids, session["messages"], strict=True)],
                pins,
                summaries,
            )
        )
    return remembered


@dataclass(frozen=True)
class Item:
    """A row as models.memory reads it (a message's id an integer, as stored)."""

    id: Any
    text: str
    created_at: datetime
    importance: float = 0.0

    @property
    def content(self) -> str:
        return self.text


def oracle(session: Remembered, max_tokens: int) -> tuple[list[str], list[str], list[str], int]:
    """models.memory's choice over candidates chosen in Python by its reference functions: what
    the SQL's candidates must agree with (the choice itself is tested in tests/test_memory.py)."""
    chosen = memory.select_context(
        memory.recent_message_candidates(Item(int(id_), text, moment) for id_, text, moment in session.messages),
        memory.pin_candidates(Item(*row[:2], row[3], row[2]) for row in session.pins),
        memory.summary_candidates(Item(*row) for row in session.summaries),
        max_tokens,
    )
    return (
        [str(item.id) for item in chosen.recent_messages],
        [item.id for item in chosen.pins],
        [item.id for item in chosen.summaries],
        chosen.total_tokens,
    )


def cost(text: str) -> int:
    return math.ceil(len(text) / 4)


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    remaining = iter(whole)
    return all(item in remaining for item in part)


def check_invariants(session: Remembered, context: dict[str, Any], max_tokens: int) -> None:
    """docs/memory-context.md §3, "What an agent can rely on", from the rows themselves."""
    newest_first = sorted(session.messages, key=lambda row: (row[2], int(row[0])), reverse=True)
    pin_ranking = sorted(session.pins, key=lambda row: (row[2], row[3], row[0]), reverse=True)
    summary_ranking = sorted(session.summaries, key=lambda row: (row[2], row[0]), reverse=True)
    recent = [message["id"] for message in context["recentMessages"]]
    pins = [pin["id"] for pin in context["pins"]]
    summaries = [summary["id"] for summary in context["summaries"]]
    message_texts = {row[0]: row[1] for row in session.messages}
    pin_texts = {row[0]: row[1] for row in session.pins}
    summary_texts = {row[0]: row[1] for row in session.summaries}

    # never over budget, and totalTokens is what was counted
    spent = sum(
        [
            *(cost(message_texts[item]) for item in recent),
            *(cost(pin_texts[item]) for item in pins),
            *(cost(summary_texts[item]) for item in summaries),
        ]
    )
    assert context["totalTokens"] == spent <= max_tokens
    # the newest k messages, oldest first, no gap, k at most 8
    k = len(recent)
    assert k <= memory.RECENT_MESSAGE_COUNT
    assert recent == [row[0] for row in newest_first[:k]][::-1]
    # pins: of the 5 most important (importance, then newest, then id), in that order
    assert is_subsequence(pins, [row[0] for row in pin_ranking[: memory.PIN_COUNT]])
    assert is_subsequence(summaries, [row[0] for row in summary_ranking[: memory.SUMMARY_COUNT]])
    # the 3 newest messages come first: if they fit together, all are there
    if sum(cost(row[1]) for row in newest_first[:3]) <= max_tokens:
        assert k >= min(3, len(newest_first))
    # nothing left out would have fitted in what is left
    left = max_tokens - spent
    candidates_left_out = [
        *(row[1] for row in pin_ranking[: memory.PIN_COUNT] if row[0] not in pins),
        *(row[1] for row in summary_ranking[: memory.SUMMARY_COUNT] if row[0] not in summaries),
        *(row[1] for row in newest_first[k : k + 1] if k < memory.RECENT_MESSAGE_COUNT),
    ]
    assert all(cost(text) > left for text in candidates_left_out)
    # everything fits: everything is there
    everything: list[str] = [
        *(row[1] for row in newest_first[: memory.RECENT_MESSAGE_COUNT]),
        *(row[1] for row in pin_ranking[: memory.PIN_COUNT]),
        *(row[1] for row in summary_ranking[: memory.SUMMARY_COUNT]),
    ]
    if sum(cost(text) for text in everything) <= max_tokens:
        assert (k, len(pins), len(summaries)) == (
            min(8, len(newest_first)),
            min(5, len(pin_ranking)),
            min(3, len(summary_ranking)),
        )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=sessions(), max_tokens=st.one_of(st.integers(1, 40), st.sampled_from([3_000, 1_000_000])))
async def test_any_session_s_context_keeps_what_an_agent_relies_on(
    gql: GraphQLClient, db: str, drawn: list[dict[str, Any]], max_tokens: int
) -> None:
    remembered = await written(drawn)

    answer = await context_of(gql, PAGE_CONTEXTS, {"maxTokens": max_tokens})

    nodes = {edge["node"]["id"]: edge["node"]["memoryContext"] for edge in answer["data"]["sessions"]["edges"]}
    assert nodes.keys() == {session.session_id for session in remembered}
    for session in remembered:
        context = nodes[session.session_id]
        check_invariants(session, context, max_tokens)
        assert oracle(session, max_tokens) == (
            [message["id"] for message in context["recentMessages"]],
            [pin["id"] for pin in context["pins"]],
            [summary["id"] for summary in context["summaries"]],
            context["totalTokens"],
        )
        one = await context_of(gql, SESSION_CONTEXT, {"id": session.session_id, "maxTokens": max_tokens})
        assert one["data"]["session"]["memoryContext"] == nodes[session.session_id]  # alone as in a page
