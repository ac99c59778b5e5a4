"""Kalito's memory rules (models/memory.py): importance, the token estimate, the candidates and
the budget of the memory context. Pure functions, so no database: messages are the real
MessageRow, pins and summaries small dataclasses shaped like their future rows."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import add
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import InvalidInput, MessageRole, MessageRow, memory
from models.memory import (
    estimate_tokens,
    message_importance,
    pin_candidates,
    recent_message_candidates,
    select_context,
    summary_candidates,
)

EPOCH = datetime(2025, 9, 1, tzinfo=UTC)
T = TypeVar("T")


@dataclass(frozen=True)
class Pin:
    id: str
    content: str
    importance: float
    created_at: datetime


@dataclass(frozen=True)
class Summary:
    id: str
    text: str
    created_at: datetime


NO_MESSAGES: tuple[MessageRow, ...] = ()
NO_PINS: tuple[Pin, ...] = ()
NO_SUMMARIES: tuple[Summary, ...] = ()


def at(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def message(id: int, text: str, seconds: int | None = None) -> MessageRow:
    moment = at(id if seconds is None else seconds)
    return MessageRow(id, "s1", MessageRole.USER, text, None, None, moment, 0.5, None, 0, True)


def messages_of(*lengths: int) -> list[MessageRow]:
    """Oldest first; message i has i+1 as id and a text of lengths[i] characters."""
    return [message(index + 1, "m" * length) for index, length in enumerate(lengths)]


def pins_of(*lengths: int) -> list[Pin]:
    """Most important first."""
    return [Pin(f"pin_{index}", "p" * length, 1.0 - index / 10, at(index)) for index, length in enumerate(lengths)]


def summaries_of(*lengths: int) -> list[Summary]:
    """Newest first."""
    return [Summary(f"summary_{index}", "s" * length, at(-index)) for index, length in enumerate(lengths)]


def ids(items: Sequence[MessageRow | Pin | Summary]) -> list[int | str]:
    return [item.id for item in items]


# --- importance -------------------------------------------------------------------------------

LONG = "x" * 201


@pytest.mark.parametrize(
    ("text", "from_assistant", "expected"),
    [
        ("hello there", False, 0.5),
        ("", True, 0.55),  # an empty assistant reply still gets the assistant's bonus
        ("it is an error", False, 0.6),
        ("it is an error", True, 0.65),
        ("is it?", False, 0.7),
        ("what is a ```class```?", False, 0.85),
        (f"why the error {LONG}", False, 0.8999999999999999),
        ("how do I fix this function problem", False, 0.95),
        (f"why this function issue {LONG}", True, 1.0),
    ],
)
def test_importance_gives_kalitos_real_scores(text: str, from_assistant: bool, expected: float) -> None:
    # == on floats on purpose: the scores must be Kalito's to the last bit
    assert message_importance(text, from_assistant=from_assistant) == expected


def test_importance_adds_in_kalitos_order_which_gives_0_8999999999999999() -> None:
    assert 0.5 + 0.2 + 0.1 + 0.1 == 0.8999999999999999
    assert 0.5 + (0.2 + 0.1 + 0.1) == 0.9  # the same increments summed first: not Kalito's float
    assert 0.5 + 0.2 + 0.15 + 0.05 == 0.9
    assert message_importance(f"what error? {LONG}", from_assistant=False) == 0.8999999999999999
    assert message_importance("what ```?", from_assistant=True) == 0.9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What now", 0.7),
        ("HOW come", 0.7),
        ("why", 0.7),
        ("whatever you like", 0.7),  # a prefix, not a word: as Kalito
        ("however", 0.7),
        (" what now", 0.5),  # not trimmed: as Kalito
        ("\nwhy not", 0.5),
        ("somewhat", 0.5),
        ("a question? yes", 0.7),
        ("say ``` here", 0.65),
        ("two `` ticks", 0.5),
        ("a Function", 0.65),
        ("a subclass", 0.65),
        ("ERRORS", 0.6),
        ("no Problem", 0.6),
        ("the issues", 0.6),
    ],
)
def test_importance_rules_one_by_one(text: str, expected: float) -> None:
    assert message_importance(text, from_assistant=False) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x" * 200, 0.5),
        ("x" * 201, 0.6),
        ("😀" * 100, 0.5),  # 100 characters, 200 UTF-16 code units
        ("😀" * 100 + "x", 0.6),  # 101 characters, 201 code units: longer than 200 for Kalito
        ("é" * 201, 0.6),
        ("İ" * 101, 0.6),  # 101 characters, but lowercased (i + combining dot) 202: Kalito measures that
    ],
)
def test_importance_length_counts_utf16_code_units_of_the_lowercased_text(text: str, expected: float) -> None:
    assert message_importance(text, from_assistant=False) == expected


def test_importance_tolerates_a_lone_surrogate() -> None:
    # the input rules refuse one, but the heuristic is total: TypeScript counts it as one unit
    assert message_importance("\ud800" * 201, from_assistant=False) == 0.6


# A re-statement of §8's rules, table-driven, counting UTF-16 units its own way.
IMPORTANCE_RULES: list[tuple[float, Callable[[str], bool]]] = [
    (0.2, lambda text: "?" in text or any(text.startswith(word) for word in ("what", "how", "why"))),
    (0.15, lambda text: any(word in text for word in ("```", "function", "class"))),
    (0.1, lambda text: any(word in text for word in ("error", "problem", "issue"))),
    (0.1, lambda text: sum(2 if ord(char) > 0xFFFF else 1 for char in text) > 200),
]


def restated_importance(text: str, from_assistant: bool) -> float:
    lowered = text.lower()
    increments = [increment for increment, applies in IMPORTANCE_RULES if applies(lowered)]
    increments += [0.05] if from_assistant else []
    return min(reduce(add, increments, 0.5), 1.0)


FRAGMENTS = st.sampled_from(
    [
        "what",
        "How",
        "WHY",
        "?",
        "```",
        "`",
        "function",
        "Class",
        "error",
        "PROBLEM",
        "Issue",
        " ",
        "\n",
        "x",
        "é",
        "😀",
        "İ",
        "ß",
        "Σ",
    ]
)
MESSAGE_TEXTS = st.one_of(
    st.lists(FRAGMENTS, max_size=80).map("".join),
    st.text(max_size=300),
    # around Kalito's 200 units, behind a few keywords
    st.tuples(st.lists(FRAGMENTS, max_size=5).map("".join), st.text(min_size=190, max_size=210)).map("".join),
)


@given(MESSAGE_TEXTS, st.booleans())
def test_importance_is_the_rules_and_within_half_to_one(text: str, from_assistant: bool) -> None:
    importance = message_importance(text, from_assistant=from_assistant)
    assert 0.5 <= importance <= 1.0
    assert importance == restated_importance(text, from_assistant)
    increments = [increment for increment, applies in IMPORTANCE_RULES if applies(text.lower())]
    assert math.isclose(importance, min(0.5 + sum(increments) + (0.05 if from_assistant else 0), 1.0))


# --- the estimate and the budget's bounds -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 4000, 1000), ("😀", 1), ("😀" * 5, 2)],
)
def test_estimate_is_ceil_of_code_points_over_4(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


@pytest.mark.parametrize("max_tokens", [0, -1, 1_000_001])
def test_max_tokens_out_of_range_is_invalid_input_naming_max_tokens(max_tokens: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        select_context(messages_of(1), NO_PINS, NO_SUMMARIES, max_tokens)
    assert refused.value.field == "maxTokens"  # as clients name the argument
    assert refused.value.message == "maxTokens must be 1 to 1,000,000"


@pytest.mark.parametrize("max_tokens", [1, 1_000_000])
def test_max_tokens_bounds_are_allowed(max_tokens: int) -> None:
    assert select_context(messages_of(4), NO_PINS, NO_SUMMARIES, max_tokens).total_tokens == 1


def test_default_budget_is_3000_tokens() -> None:
    assert memory.DEFAULT_MAX_TOKENS == 3000
    fits = select_context(messages_of(4 * 1000, 4 * 2000), NO_PINS, NO_SUMMARIES)
    assert fits.total_tokens == 3000
    over = select_context(messages_of(4 * 1000, 4 * 2000 + 1), NO_PINS, NO_SUMMARIES)
    assert (ids(over.recent_messages), over.total_tokens) == ([2], 2001)


# --- the candidates ---------------------------------------------------------------------------


def test_recent_message_candidates_are_the_8_newest_oldest_first_ties_by_id() -> None:
    rows = [message(id, "t", seconds) for id, seconds in [(1, 0), (2, 1), (3, 1), (4, 2), (5, 2)]]
    rows += [message(id, "t", id) for id in range(6, 12)]
    assert ids(recent_message_candidates(reversed(rows))) == [4, 5, 6, 7, 8, 9, 10, 11]
    assert ids(recent_message_candidates(rows[:3])) == [1, 2, 3]


def test_pin_candidates_are_the_5_most_important_then_newest_then_greatest_id() -> None:
    pins = [
        Pin("a", "c", 0.8, at(0)),
        Pin("b", "c", 0.9, at(0)),
        Pin("c", "c", 0.8, at(5)),
        Pin("a.b", "c", 0.5, at(1)),
        Pin("a_b", "c", 0.5, at(1)),
        Pin("a-b", "c", 0.5, at(1)),
        Pin("d", "c", 0.1, at(9)),
    ]
    # ids by code point: "-" < "." < "_"
    assert ids(pin_candidates(pins)) == ["b", "c", "a", "a_b", "a.b"]


def test_summary_candidates_are_the_3_newest_newest_first_ties_by_id() -> None:
    summaries = [
        Summary("s1", "t", at(0)),
        Summary("s2", "t", at(2)),
        Summary("s3", "t", at(2)),
        Summary("s4", "t", at(1)),
    ]
    assert ids(summary_candidates(summaries)) == ["s3", "s2", "s4"]


# --- the budget -------------------------------------------------------------------------------


def test_everything_that_fits_is_kept_in_the_documented_orders() -> None:
    messages, pins, summaries = messages_of(4, 8, 12), pins_of(4, 4), summaries_of(8)
    context = select_context(messages, pins, summaries, max_tokens=10)
    assert (ids(context.recent_messages), ids(context.pins), ids(context.summaries)) == (
        [1, 2, 3],
        ["pin_0", "pin_1"],
        ["summary_0"],
    )
    assert context.total_tokens == 10  # exactly the budget is within it


def test_over_budget_the_3_newest_then_pins_then_summaries_then_older_messages() -> None:
    # messages of 1..8 tokens, pins of 5 and 5, summaries of 4 and 6: 8+7+6, 5+5, 4 (6 > the 5 left), 5
    messages = messages_of(*(4 * tokens for tokens in range(1, 9)))
    context = select_context(messages, pins_of(20, 20), summaries_of(16, 24), max_tokens=40)
    assert ids(context.recent_messages) == [5, 6, 7, 8]  # the fourth newest fills the rest
    assert ids(context.pins) == ["pin_0", "pin_1"]
    assert ids(context.summaries) == ["summary_0"]
    assert context.total_tokens == 40


def test_older_messages_are_dropped_before_any_pin_or_summary() -> None:
    messages = messages_of(*(4 * tokens for tokens in range(1, 9)))
    context = select_context(messages, pins_of(20), summaries_of(20), max_tokens=31)
    assert (ids(context.recent_messages), ids(context.pins), ids(context.summaries)) == (
        [6, 7, 8],
        ["pin_0"],
        ["summary_0"],
    )
    assert context.total_tokens == 31


def test_a_pin_that_does_not_fit_is_skipped_and_a_smaller_one_tried() -> None:
    context = select_context(messages_of(4), pins_of(40, 8, 40, 4), summaries_of(12, 4), max_tokens=5)
    assert ids(context.pins) == ["pin_1", "pin_3"]
    assert ids(context.summaries) == ["summary_1"]
    assert context.total_tokens == 5


def test_the_newest_message_over_the_budget_is_dropped_whole_and_with_it_every_older_one() -> None:
    messages = messages_of(4, 4, 4 * 100)
    context = select_context(messages, pins_of(8), NO_SUMMARIES, max_tokens=50)
    assert ids(context.recent_messages) == []  # never truncated; no older message after a gap
    assert ids(context.pins) == ["pin_0"]
    assert context.total_tokens == 2


def test_messages_stop_at_the_first_that_does_not_fit() -> None:
    context = select_context(messages_of(4, 4, 4, 4 * 100, 4), NO_PINS, NO_SUMMARIES, max_tokens=50)
    assert ids(context.recent_messages) == [5]
    assert context.total_tokens == 1


def test_an_empty_assistant_reply_costs_nothing() -> None:
    reply = MessageRow(3, "s1", MessageRole.ASSISTANT, "", None, None, at(3), 0.5, 2, 2, True)
    context = select_context([*messages_of(4, 4), reply], NO_PINS, NO_SUMMARIES, max_tokens=1)
    assert (ids(context.recent_messages), context.total_tokens) == ([2, 3], 1)


def test_no_candidates_is_an_empty_context() -> None:
    assert select_context(NO_MESSAGES, NO_PINS, NO_SUMMARIES, max_tokens=1) == memory.MemoryContext((), (), (), 0)


def test_the_worked_example_of_docs_memory_context() -> None:
    messages = messages_of(*(4 * tokens for tokens in (30, 12, 8, 20, 1, 25, 0, 15)))  # ids 1..8
    pins = [
        Pin(id, "p" * 4 * tokens, importance, at(0))
        for id, tokens, importance in [("A", 30, 0.95), ("B", 40, 0.9), ("C", 10, 0.8), ("D", 5, 0.8), ("E", 8, 0.5)]
    ]
    context = select_context(messages, pins, summaries_of(4 * 12, 4 * 6, 4 * 20), max_tokens=100)
    assert (ids(context.recent_messages), ids(context.pins), ids(context.summaries)) == (
        [5, 6, 7, 8],
        ["A", "C", "D", "E"],
        ["summary_1"],
    )
    assert context.total_tokens == 100


# --- properties -------------------------------------------------------------------------------

LENGTHS = st.integers(min_value=0, max_value=60)
BUDGETS = st.integers(min_value=1, max_value=60)
CANDIDATES = st.tuples(
    st.lists(LENGTHS, max_size=8).map(lambda lengths: messages_of(*lengths)),
    st.lists(LENGTHS, max_size=5).map(lambda lengths: pins_of(*lengths)),
    st.lists(LENGTHS, max_size=3).map(lambda lengths: summaries_of(*lengths)),
    BUDGETS,
)
Candidates = tuple[list[MessageRow], list[Pin], list[Summary], int]


def costs(texts: Sequence[str]) -> list[int]:
    return [estimate_tokens(text) for text in texts]


def is_subsequence(part: Sequence[object], whole: Sequence[object]) -> bool:
    rest = iter(whole)
    return all(any(item == other for other in rest) for item in part)


@given(CANDIDATES)
def test_never_over_budget_and_total_is_what_was_returned(candidates: Candidates) -> None:
    messages, pins, summaries, max_tokens = candidates
    context = select_context(messages, pins, summaries, max_tokens)
    returned = [m.text for m in context.recent_messages] + [p.content for p in context.pins]
    returned += [s.text for s in context.summaries]
    assert context.total_tokens == sum(costs(returned)) <= max_tokens


@given(CANDIDATES)
def test_output_keeps_the_candidates_orders_and_messages_are_the_newest_run(candidates: Candidates) -> None:
    messages, pins, summaries, max_tokens = candidates
    context = select_context(messages, pins, summaries, max_tokens)
    kept = len(context.recent_messages)
    assert list(context.recent_messages) == messages[len(messages) - kept :]
    assert is_subsequence(context.pins, pins)
    assert is_subsequence(context.summaries, summaries)


@given(CANDIDATES)
def test_everything_is_kept_when_everything_fits(candidates: Candidates) -> None:
    messages, pins, summaries, max_tokens = candidates
    texts = [m.text for m in messages] + [p.content for p in pins] + [s.text for s in summaries]
    context = select_context(messages, pins, summaries, max_tokens)
    everything = (tuple(messages), tuple(pins), tuple(summaries))
    assert ((context.recent_messages, context.pins, context.summaries) == everything) == (
        sum(costs(texts)) <= max_tokens
    )


@given(CANDIDATES)
def test_the_3_newest_messages_come_first(candidates: Candidates) -> None:
    messages, pins, summaries, max_tokens = candidates
    context = select_context(messages, pins, summaries, max_tokens)
    newest_costs = costs([m.text for m in reversed(messages)])[:3]
    fitting = 0
    while fitting < len(newest_costs) and sum(newest_costs[: fitting + 1]) <= max_tokens:
        fitting += 1
    assert len(context.recent_messages) >= fitting  # whatever the pins and summaries
    if len(context.recent_messages) > 3:
        assert fitting == 3


@given(CANDIDATES)
def test_later_kinds_never_displace_earlier_ones(candidates: Candidates) -> None:
    messages, pins, summaries, max_tokens = candidates
    context = select_context(messages, pins, summaries, max_tokens)
    without_older = select_context(messages[-3:], pins, summaries, max_tokens)
    without_summaries = select_context(messages[-3:], pins, NO_SUMMARIES, max_tokens)
    assert context.pins == without_older.pins == without_summaries.pins
    assert context.summaries == without_older.summaries
    assert context.recent_messages[-3:] == without_older.recent_messages


def assert_first_fit(ranked: Sequence[T], kept: Sequence[T], cost: Callable[[T], int], left: int) -> None:
    for rank, item in enumerate(ranked):
        if item not in kept:
            assert cost(item) > left
            assert all(cost(item) > cost(later) for later in ranked[rank + 1 :] if later in kept)


@given(CANDIDATES)
def test_pins_and_summaries_left_out_do_not_fit_and_outrank_only_smaller_ones(candidates: Candidates) -> None:
    """The invariant of "as many as fit" read as first fit: not a prefix of the ranking, but
    nothing left out could still be added, and a left-out item ranked above a kept one is
    larger than it."""
    messages, pins, summaries, max_tokens = candidates
    context = select_context(messages, pins, summaries, max_tokens)
    left = max_tokens - context.total_tokens
    assert_first_fit(pins, context.pins, lambda pin: estimate_tokens(pin.content), left)
    assert_first_fit(summaries, context.summaries, lambda summary: estimate_tokens(summary.text), left)


@given(CANDIDATES)
def test_older_messages_stop_only_where_the_next_does_not_fit(candidates: Candidates) -> None:
    messages, pins, summaries, max_tokens = candidates
    context = select_context(messages, pins, summaries, max_tokens)
    kept = len(context.recent_messages)
    if kept < len(messages):
        next_older = messages[len(messages) - kept - 1]
        assert estimate_tokens(next_older.text) > max_tokens - context.total_tokens
