"""The values Kalito writes when nobody gives them: its moments, its ids, a message's importance."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime

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
    """Kalito's score of a new message, additions in Kalito's order: floating point makes some
    of them read 0.8999999999999999 or 0.7999999999999999, as real files hold."""
    lowered = text.lower()
    score = 0.5
    if "?" in lowered or lowered.startswith(("what", "how", "why")):
        score += 0.2
    if "```" in lowered or "function" in lowered or "class" in lowered:
        score += 0.15
    if "error" in lowered or "problem" in lowered or "issue" in lowered:
        score += 0.1
    if len(lowered.encode("utf-16-le")) // 2 > 200:  # JavaScript's length: UTF-16 code units
        score += 0.1
    if role == "assistant":
        score += 0.05
    return min(score, 1.0)
