"""How the models reach a database: the Tortoise configuration and first-start preparation."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

from models.persona import Persona

MODEL_MODULES = ["models.persona", "models.session", "models.message"]


def tortoise_config(database_url: str) -> dict[str, Any]:
    connection = expand_db_url(database_url)
    if connection["engine"] == "tortoise.backends.sqlite":
        # Transactions that take the write lock up front: several processes can share the file.
        connection["engine"] = "models.sqlite_backend"
        # WAL lets readers run beside the writer; FULL makes each commit survive power loss,
        # not only a crash of the process (an answered mutation is never lost).
        connection["credentials"].setdefault("synchronous", "FULL")
        connection["credentials"].setdefault("busy_timeout", 10_000)
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def prepare_database() -> None:
    """Create the tables that are missing and the rows every installation starts with."""
    await Tortoise.generate_schemas(safe=True)
    await Persona.ensure_defaults()
