"""The per-request context: settings, the HTTP request, and the request's DataLoaders.

Nested fields (a session's persona, message count and messages) load through these, so a
page of sessions costs one query per kind of field, not one per session.
"""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from strawberry.dataloader import DataLoader

import models
from broadcast import Broker
from settings import Settings

if TYPE_CHECKING:
    from schema.types import Persona

MessagePageKey = tuple[str, models.PageRequest]


K = TypeVar("K")
T = TypeVar("T")


class SharedLoader(DataLoader[K, T]):
    """A DataLoader whose loads may be awaited by several fields at once.

    DataLoader answers every load of one key with the same future. When graphql-core cancels a
    field (a sibling failed under a non-null parent), the cancellation would reach that shared
    future and raise CancelledError in every other field awaiting the key, fields that were not
    cancelled: the request then ends without a response. Each load here gets its own shield."""

    def load(self, key: K) -> Awaitable[T]:
        return asyncio.shield(super().load(key))


async def load_personas(persona_ids: Sequence[str]) -> list[Persona | None]:
    from schema.types import Persona

    rows = await models.Persona.by_ids(persona_ids)
    return [Persona.from_model(row) if row else None for row in rows]


async def load_message_counts(session_ids: Sequence[str]) -> list[int]:
    return await models.Message.counts_for_sessions(session_ids)


async def _load_message_pages(
    keys: Sequence[MessagePageKey],
) -> list[models.Page[models.MessageRow] | BaseException]:
    """One batch per distinct set of page arguments (a page of sessions usually shares one)."""
    sessions_by_request: dict[models.PageRequest, list[str]] = defaultdict(list)
    for session_id, request in keys:
        sessions_by_request[request].append(session_id)
    results: dict[MessagePageKey, models.Page[models.MessageRow] | BaseException] = {}
    for request, session_ids in sessions_by_request.items():
        try:
            pages = await models.Message.pages_for_sessions(session_ids, request)
        except models.InvalidInput as refusal:  # bad page arguments fail their own fields only
            pages = [refusal] * len(session_ids)
        results.update(zip(((session_id, request) for session_id in session_ids), pages, strict=True))
    return [results[key] for key in keys]


@dataclass
class Context:
    settings: Settings
    broker: Broker
    request: Any = None
    response: Any = None
    # What a WebSocket client sent in connection_init (strawberry fills it in).
    connection_params: dict[str, Any] | None = None
    # A WebSocket connection lives for hours and runs every event of its subscriptions with this
    # one context: its loaders batch but must not cache, or later events would read stale rows.
    cache_loads: bool = True

    # One set of loaders per request: batched within it, never a cache shared between users.
    # Made when first used: most requests (a compiled plan's) need none.
    @functools.cached_property
    def personas(self) -> SharedLoader[str, Persona | None]:
        return SharedLoader(load_fn=load_personas, cache=self.cache_loads)

    @functools.cached_property
    def message_counts(self) -> SharedLoader[str, int]:
        return SharedLoader(load_fn=load_message_counts, cache=self.cache_loads)

    @functools.cached_property
    def message_pages(self) -> SharedLoader[MessagePageKey, models.Page[models.MessageRow]]:
        return SharedLoader(load_fn=_load_message_pages, cache=self.cache_loads)
