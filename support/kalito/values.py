"""The values Kalito writes when nobody gives them: its moments, its ids, a message's importance."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime

from models import memory

BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def iso_moment(moment: datetime) -> str:
    """`new Date().toISOString()`, how Kalito writes sessions, messages, pins and summaries."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sqlite_moment(moment: datetime) -> str:
    """SQLite's CURRENT_TIMESTAMP (a column default): how the personas Kalito seeds read."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def milliseconds(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def base36(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = BASE36[digit] + digits
        if number == 0:
            return digits


def memory_id(prefix: str, moment: datetime, rng: random.Random) -> str:
    """`${prefix}_${Date.now()}_${Math.random().toString(36).substr(2, 9)}`: pins and summaries."""
    return f"{prefix}_{milliseconds(moment)}_{''.join(rng.choice(BASE36) for _ in range(9))}"


def persona_id(name: str, moment: datetime) -> str:
    """A persona someone made: its name, then the moment in base 36 (`the-poet-mgfcis89`)."""
    return f"{re.sub(r'[^a-z0-9.]+', '-', name.lower()).strip('-')}-{base36(milliseconds(moment))}"


def session_id(rng: random.Random) -> str:
    """`crypto.randomUUID()`, from a seeded generator so that a fixture is the same each run."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def importance(role: str, text: str) -> float:
    """Kalito's score of a new message, the one its files hold (0.8999999999999999 among them):
    the heuristic models/memory.py follows, additions in Kalito's order."""
    return memory.message_importance(text, from_assistant=role == "assistant")
