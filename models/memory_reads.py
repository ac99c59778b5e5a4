"""Sessions' memory contexts read from the database: the candidates of every session asked for,
in one statement per kind (messages, pins, summaries), then models.memory's choice within each
budget (docs/memory-context.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from models import memory
from models.errors import InvalidInput
from models.memory import MemoryContext
from models.message import Message, MessageRow
from models.pagination import PageRequest
from models.pin import Pin, PinRow
from models.summary import Summary, SummaryRow

MemoryContextRow = MemoryContext[MessageRow, PinRow, SummaryRow]
# (session id, maxTokens): null is the default budget, as when the argument is left out
MemoryContextKey = tuple[str, int | None]


async def memory_contexts(keys: Sequence[MemoryContextKey]) -> list[MemoryContextRow | InvalidInput]:
    """The memory context of each (session id, budget), in the order asked; a budget out of
    range refuses its own keys only (the others of the batch are answered)."""
    budgets = {max_tokens: _checked(max_tokens) for _, max_tokens in keys}
    session_ids = list(
        dict.fromkeys(session_id for session_id, max_tokens in keys if isinstance(budgets[max_tokens], int))
    )
    # The 8 most recent messages, oldest first, ordered as models.memory.recent_message_candidates.
    pages = await Message.pages_for_sessions(session_ids, PageRequest(last=memory.RECENT_MESSAGE_COUNT))
    messages = {session_id: page.rows for session_id, page in zip(session_ids, pages, strict=True)}
    pins = dict(zip(session_ids, await Pin.candidates_for_sessions(session_ids), strict=True))
    summaries = dict(zip(session_ids, await Summary.candidates_for_sessions(session_ids), strict=True))
    contexts: list[MemoryContextRow | InvalidInput] = []
    for session_id, max_tokens in keys:
        budget = budgets[max_tokens]
        if isinstance(budget, InvalidInput):
            contexts.append(budget)
        else:
            contexts.append(
                memory.select_context(messages[session_id], pins[session_id], summaries[session_id], budget)
            )
    return contexts


def _checked(max_tokens: int | None) -> int | InvalidInput:
    try:
        return memory.check_max_tokens(memory.DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens)
    except InvalidInput as refusal:
        return refusal
