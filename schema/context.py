"""The per-request context: settings, who is asking, the HTTP request, and the request's DataLoaders.

Both paths build it (strawberry's, and the compiled plans' of schema/plans.py, which has no
request object): what a resolver may read is the context's own fields but REQUEST_ONLY, and the
plans refuse a resolver that reads more (schema/strawberry_adapter.context_reads). Who is asking
is `viewer` (the token's user, with accounts) and, as the models take it, `owner`.

Nested fields (a session's persona, message count and messages) load through these, so a
page of sessions costs one query per kind of field, not one per session. A field that loads
in batches says so in its own metadata (`strawberry.field(metadata=PERSONAS.metadata)`):
its resolver loads through the request's loader of that batch, and the compiled plans
(schema/plans.py) read the same metadata to load the field once for a whole level.
"""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

import models
from broadcast import Broker
from models.memory_reads import MemoryContextKey, memory_contexts
from schema.batches import Batch
from schema.memory import MemoryContext, Pin, Summary
from schema.personas import Persona
from settings import Settings

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
    rows = await models.Persona.by_ids(persona_ids)
    return [Persona.from_model(row) if row else None for row in rows]


async def load_message_counts(session_ids: Sequence[str]) -> list[int]:
    return await models.Message.counts_for_sessions(session_ids)


async def load_active_branch_lengths(session_ids: Sequence[str]) -> list[int]:
    return await models.Message.counts_for_sessions(session_ids, active_branch=True)


async def load_pins(session_ids: Sequence[str]) -> list[list[Pin]]:
    return [[Pin.from_model(row) for row in rows] for rows in await models.Pin.for_sessions(session_ids)]


async def load_summaries(session_ids: Sequence[str]) -> list[list[Summary]]:
    return [[Summary.from_model(row) for row in rows] for rows in await models.Summary.for_sessions(session_ids)]


async def load_memory_contexts(keys: Sequence[MemoryContextKey]) -> list[MemoryContext | models.InvalidInput]:
    """A budget out of range fails the fields that asked for it alone."""
    return [
        context if isinstance(context, models.InvalidInput) else MemoryContext.from_model(context)
        for context in await memory_contexts(keys)
    ]


async def load_active_leaves(session_ids: Sequence[str]) -> list[strawberry.ID | None]:
    leaves = await models.Message.active_leaves(session_ids)
    return [None if leaf is None else strawberry.ID(str(leaf)) for leaf in leaves]


PERSONAS: Batch[str, Persona | None] = Batch("persona_id", load_personas)
ACTIVE_LEAVES: Batch[str, strawberry.ID | None] = Batch("id", load_active_leaves)
MESSAGE_COUNTS: Batch[str, int] = Batch("id", load_message_counts)
ACTIVE_BRANCH_LENGTHS: Batch[str, int] = Batch("id", load_active_branch_lengths)
PINS: Batch[str, list[Pin]] = Batch("id", load_pins)
SUMMARIES: Batch[str, list[Summary]] = Batch("id", load_summaries)
MEMORY_CONTEXTS: Batch[MemoryContextKey, MemoryContext] = Batch("id", load_memory_contexts, arguments=("max_tokens",))


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
            pages: list[models.Page[models.MessageRow] | BaseException] = list(
                await models.Message.pages_for_sessions(session_ids, request)
            )
        except models.InvalidInput as refusal:  # bad page arguments fail their own fields only
            pages = [refusal] * len(session_ids)
        results.update(zip(((session_id, request) for session_id in session_ids), pages, strict=True))
    return [results[key] for key in keys]


# What strawberry's path has and a compiled plan's does not: no planned resolver may read them.
REQUEST_ONLY = frozenset({"request", "response", "connection_params"})


@dataclass
class Context:
    settings: Settings
    broker: Broker
    # The verified token's user with accounts (web/accounts.py); None without.
    viewer: models.Viewer | None = None
    request: Any = None
    response: Any = None
    # What a WebSocket client sent in connection_init (strawberry fills it in).
    connection_params: dict[str, Any] | None = None
    # A WebSocket connection lives for hours and runs every event of its subscriptions with this
    # one context: its loaders batch but must not cache, or later events would read stale rows.
    cache_loads: bool = True
    # One set of loaders per request: batched within it, never a cache shared between users.
    # Made when first used: most requests (a compiled plan's) need none.
    loaders: dict[Callable[..., Any], SharedLoader[Any, Any]] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def owner(self) -> models.Owner:
        """Whose rows this request reads and writes (models/owners.py)."""
        if not self.settings.accounts:
            return models.ONE_USER
        if self.viewer is None:  # the HTTP middleware and on_ws_connect let no such request through
            raise RuntimeError("accounts are on and the request has no verified user")
        return models.Owner.of(self.viewer)

    @property
    def user_id(self) -> str | None:
        """The user an operation log line names (None without accounts)."""
        return self.viewer.id if self.viewer is not None else None

    def loader(self, batch: Batch[K, T]) -> SharedLoader[K, T]:
        """The request's loader of this batch function (fields that share one share its cache)."""
        loader = self.loaders.get(batch.load)
        if loader is None:
            loader = self.loaders[batch.load] = SharedLoader(load_fn=batch.load, cache=self.cache_loads)
        return loader

    async def load_batched(self, batch: Batch[K, T], source: object, **arguments: Any) -> T | None:
        """A batched field's value for `source` (and the field's `arguments`, by Python name):
        null when its key is, else loaded in the batch."""
        key = batch.key_of(source, arguments)
        return None if key is None else await self.loader(batch).load(key)

    @property
    def active_branch_lengths(self) -> SharedLoader[str, int]:
        return self.loader(ACTIVE_BRANCH_LENGTHS)

    @functools.cached_property
    def message_pages(self) -> SharedLoader[MessagePageKey, models.Page[models.MessageRow]]:
        return SharedLoader(load_fn=_load_message_pages, cache=self.cache_loads)
