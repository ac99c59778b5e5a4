"""The per-request context: settings, the HTTP request, and the request's DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

import models
from settings import Settings

if TYPE_CHECKING:
    from schema.types import Persona


async def _load_personas(persona_ids: Sequence[str]) -> list[Persona | None]:
    from schema.types import Persona

    rows = await models.Persona.by_ids(persona_ids)
    return [Persona.from_model(row) if row else None for row in rows]


@dataclass
class Context:
    settings: Settings
    request: Any = None
    response: Any = None
    # One loader per request: batched within it, never a cache shared between users.
    personas: DataLoader[str, Persona | None] = field(
        default_factory=lambda: DataLoader(load_fn=_load_personas)
    )
