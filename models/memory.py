"""Kalito's memory rules (api.md §8) as pure functions: message importance, the token estimate,
and the choice of a session's memory context within a token budget.

No database here: the functions take anything shaped like the rows (the protocols below), so
the models can hand them their rows, and tests can hand them dataclasses.

The candidates are chosen first (in SQL, later; `*_candidates` below are the reference each
query must agree with), then `select_context` holds them to the budget:

1. the 3 most recent messages, newest first, while each fits (no gap: the first that does not
   fit ends the messages);
2. the pins, most important first, each that fits (one that does not is skipped, the next tried);
3. the summaries, newest first, the same way;
4. if none of the 3 was left out, the older candidate messages, newest first, while each fits.

An item is whole or absent, never truncated, and `total_tokens` never exceeds the budget.
docs/memory-context.md gives the reasons and a worked example.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import takewhile
from typing import Generic, Protocol, TypeVar

from models.errors import InvalidInput

RECENT_MESSAGE_COUNT = 8
KEPT_FIRST_MESSAGE_COUNT = 3
PIN_COUNT = 5
SUMMARY_COUNT = 3
DEFAULT_MAX_TOKENS = 3_000
MAX_TOKENS_LIMIT = 1_000_000


Id = TypeVar("Id", int, str, covariant=True)


class Row(Protocol[Id]):
    @property
    def id(self) -> Id: ...
    @property
    def created_at(self) -> datetime: ...


class TextRow(Row[Id], Protocol[Id]):
    """A message (integer ids, as Kalito's) or a summary (text ids)."""

    @property
    def text(self) -> str: ...


class PinRow(Row[str], Protocol):
    @property
    def content(self) -> str: ...
    @property
    def importance(self) -> float: ...


M = TypeVar("M", bound=TextRow[int])
P = TypeVar("P", bound=PinRow)
S = TypeVar("S", bound=TextRow[str])


@dataclass(frozen=True)
class MemoryContext(Generic[M, P, S]):
    recent_messages: tuple[M, ...]  # oldest first
    pins: tuple[P, ...]  # most important first
    summaries: tuple[S, ...]  # newest first
    total_tokens: int  # the sum of estimate_tokens over every item above


def message_importance(text: str, *, from_assistant: bool) -> float:
    """Kalito's heuristic for a message no client scored.

    The increments are added one by one in Kalito's order, so the floats are Kalito's:
    0.5 + 0.2 + 0.1 + 0.1 (a long question about an error) is 0.8999999999999999, as in real
    Kalito files, where summing the increments first would give 0.9. As in Kalito, the text is
    lowercased but not trimmed (" what" does not start with "what"; "however" starts with
    "how"), and "longer than 200" counts the lowercased text in UTF-16 code units, as
    TypeScript's `length` does (an emoji counts 2), so a score computed here equals the one
    Kalito would have stored.
    """
    lowered = text.lower()
    score = 0.5
    if "?" in lowered or lowered.startswith(("what", "how", "why")):
        score += 0.2
    if "```" in lowered or "function" in lowered or "class" in lowered:
        score += 0.15
    if "error" in lowered or "problem" in lowered or "issue" in lowered:
        score += 0.1
    if _utf16_length(lowered) > 200:
        score += 0.1
    if from_assistant:
        score += 0.05
    return min(score, 1.0)


def _utf16_length(text: str) -> int:
    # surrogatepass: a lone surrogate is one code unit in TypeScript too, not an encoding error
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def estimate_tokens(text: str) -> int:
    """This API's estimate, ceil(characters / 4), characters being code points (Python's `len`,
    the unit of every length rule of the contract); Kalito's was ceil(characters * 0.75)."""
    return (len(text) + 3) // 4


def check_max_tokens(max_tokens: int) -> int:
    if not 1 <= max_tokens <= MAX_TOKENS_LIMIT:
        raise InvalidInput("maxTokens", f"maxTokens must be 1 to {MAX_TOKENS_LIMIT:,}")
    return max_tokens


def recent_message_candidates(messages: Iterable[M]) -> list[M]:
    """The 8 most recent messages, oldest first. In SQL:
    `ORDER BY "created_at" DESC, "id" DESC LIMIT 8`, then reversed (the order the message
    pages use: ids are integers, so a later message of the same moment has the greater id)."""
    newest_first = sorted(messages, key=lambda message: (message.created_at, message.id), reverse=True)
    return newest_first[:RECENT_MESSAGE_COUNT][::-1]


def pin_candidates(pins: Iterable[P]) -> list[P]:
    """The 5 most important pins, most important first, then newest. In SQL:
    `ORDER BY "importance" DESC, "created_at" DESC, "id" DESC LIMIT 5`. Ids are text, compared
    by code point as Python compares them: SQLite's BINARY collation, PostgreSQL's `COLLATE "C"`
    (the database's own locale may order `_`, `-` and `.` otherwise)."""
    return sorted(pins, key=lambda pin: (pin.importance, pin.created_at, pin.id), reverse=True)[:PIN_COUNT]


def summary_candidates(summaries: Iterable[S]) -> list[S]:
    """The 3 newest summaries, newest first. In SQL: `ORDER BY "created_at" DESC, "id" DESC
    LIMIT 3`, ids compared by code point as for pins."""
    newest_first = sorted(summaries, key=lambda summary: (summary.created_at, summary.id), reverse=True)
    return newest_first[:SUMMARY_COUNT]


class _Budget:
    def __init__(self, tokens: int) -> None:
        self.left = tokens
        self.spent = 0

    def admits(self, text: str) -> bool:
        """Takes the text's tokens from the budget when they fit."""
        cost = estimate_tokens(text)
        if cost > self.left:
            return False
        self.left -= cost
        self.spent += cost
        return True


def select_context(
    messages: Sequence[M],
    pins: Sequence[P],
    summaries: Sequence[S],
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> MemoryContext[M, P, S]:
    """The memory context from the candidates as the `*_candidates` functions order them
    (messages oldest first, pins most important first, summaries newest first).

    When everything fits, everything is kept: the order below only decides what goes when it
    does not. Messages are kept as an unbroken run back from the newest, so an agent knows that
    every message left out is older than the first one returned; the older candidates come last
    so that pins and summaries, which the contract ranks above them, are never displaced, yet
    budget left over is not wasted.
    """
    check_max_tokens(max_tokens)
    budget = _Budget(max_tokens)
    newest_first = messages[::-1]
    kept_first = newest_first[:KEPT_FIRST_MESSAGE_COUNT]
    kept_messages = list(takewhile(lambda message: budget.admits(message.text), kept_first))
    kept_pins = tuple(pin for pin in pins if budget.admits(pin.content))
    kept_summaries = tuple(summary for summary in summaries if budget.admits(summary.text))
    if len(kept_messages) == len(kept_first):
        older = newest_first[KEPT_FIRST_MESSAGE_COUNT:]
        kept_messages.extend(takewhile(lambda message: budget.admits(message.text), older))
    return MemoryContext(tuple(reversed(kept_messages)), kept_pins, kept_summaries, budget.spent)
