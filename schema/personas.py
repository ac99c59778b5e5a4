"""The Persona output type: apart from schema/types.py, because the request context's persona
loader makes Personas, and types.py reads the context."""

from __future__ import annotations

import strawberry

import models
from schema.columns import ColumnFields


@strawberry.type(description="A persona: the system prompt and presets a session runs with.")
class Persona(ColumnFields[models.PersonaRow]):
    pass
