"""The input rules of the contract (api.md §4, amended by §8), one checker per kind of value.

Each checker returns the value to store (names are trimmed) or raises InvalidInput naming the
field as clients know it (the GraphQL name), so that a refused input never reaches the database.
"""

from __future__ import annotations

import math
import re
import secrets
import string
import unicodedata
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from models.errors import InvalidInput

# §8 adds the `.`: Kalito names personas after their models (`claude-opus-4.1-mfvh4wna`).
ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
NAME_MAX = 200
MODEL_MAX = 100
RECAP_MAX = 20_000
MESSAGE_TEXT_MAX = 100_000
SHORT_TEXT_MAX = 100
DESCRIPTION_MAX = 2_000
STOP_SEQUENCES_MAX = 16
SUGGESTED_MODELS_MAX = 32
METADATA_KEYS_MAX = 16
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512
MEMORY_TEXT_MAX = 20_000  # a pin's content, a summary's text (§8)
# Message ids are integers (Kalito's, kept by imports): a BIGINT's, written in decimal.
MESSAGE_ID_PATTERN = re.compile(r"[0-9]{1,19}")
MESSAGE_ID_MAX = 2**63 - 1
_BASE36 = string.digits + string.ascii_lowercase


def _check_encoding(field: str, value: str) -> None:
    """Every string: no NUL, no lone surrogate (neither can be stored faithfully everywhere)."""
    if "\x00" in value:
        raise InvalidInput(field, f"{field} must not contain the NUL character")
    # isascii first: a scan in C, and most strings (every id) are ASCII
    if not value.isascii() and any("\ud800" <= char <= "\udfff" for char in value):
        raise InvalidInput(field, f"{field} must not contain a lone surrogate")


def _has_control_character(value: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in value)


def _check_length(field: str, value: str, minimum: int, maximum: int) -> None:
    if not minimum <= len(value) <= maximum:
        if minimum == 0:
            raise InvalidInput(field, f"{field} must be at most {maximum} characters")
        raise InvalidInput(field, f"{field} must be {minimum} to {maximum} characters")


def check_id(field: str, value: str) -> str:
    _check_encoding(field, value)
    if not ID_PATTERN.fullmatch(value):
        raise InvalidInput(field, f"{field} must be 1 to 64 characters of A-Z, a-z, 0-9, _, - and .")
    return value


def check_name(field: str, value: str) -> str:
    _check_encoding(field, value)
    trimmed = value.strip()
    _check_length(field, trimmed, 1, NAME_MAX)
    if _has_control_character(trimmed):
        raise InvalidInput(field, f"{field} must not contain control characters")
    return trimmed


def check_model(field: str, value: str) -> str:
    _check_encoding(field, value)
    _check_length(field, value, 1, MODEL_MAX)
    if _has_control_character(value):
        raise InvalidInput(field, f"{field} must not contain control characters")
    return value


def check_text(field: str, value: str, *, minimum: int = 0, maximum: int) -> str:
    """Free text (recaps, prompts, messages): any characters but NUL and lone surrogates."""
    _check_encoding(field, value)
    _check_length(field, value, minimum, maximum)
    return value


def check_message_text(field: str, value: str, *, may_be_empty: bool) -> str:
    """A message's text: 1 to 100,000 characters, or none at all where `may_be_empty` (an
    assistant's reply: a model may answer nothing, and real Kalito data holds such replies)."""
    return check_text(field, value, minimum=0 if may_be_empty else 1, maximum=MESSAGE_TEXT_MAX)


def check_recap(field: str, value: str) -> str:
    return check_text(field, value, maximum=RECAP_MAX)


def check_non_negative(field: str, value: int) -> int:
    if value < 0:
        raise InvalidInput(field, f"{field} must be 0 or more")
    return value


def check_number(field: str, value: float, *, minimum: float, maximum: float) -> float:
    """A finite number from `minimum` to `maximum`, stored as a float (GraphQL's Float may
    arrive as an integer)."""
    if not (math.isfinite(value) and minimum <= value <= maximum):
        raise InvalidInput(field, f"{field} must be a finite number from {minimum:g} to {maximum:g}")
    return float(value)


def check_importance(field: str, value: float) -> float:
    return check_number(field, value, minimum=0, maximum=1)


def check_integer(field: str, value: int, *, minimum: int, maximum: int) -> int:
    if not minimum <= value <= maximum:
        raise InvalidInput(field, f"{field} must be {minimum:,} to {maximum:,}")
    return value


def check_list(field: str, value: list[Any], *, most: int, item: Callable[[str, Any], Any]) -> list[Any]:
    """At most `most` items, each by the rule `item` (its refusal names the list's field)."""
    if len(value) > most:
        raise InvalidInput(field, f"{field} must hold at most {most} items")
    return [item(field, each) for each in value]


def check_metadata(field: str, value: Any) -> dict[str, str]:
    """String keys to string values (GraphQL's JSON scalar lets a client send anything): at
    most 16 keys of 1 to 64 characters, values of at most 512, no control characters."""
    if not isinstance(value, dict):
        raise InvalidInput(field, f"{field} must be an object of string values")
    if len(value) > METADATA_KEYS_MAX:
        raise InvalidInput(field, f"{field} must hold at most {METADATA_KEYS_MAX} keys")
    for key, text in value.items():
        if not isinstance(text, str):
            raise InvalidInput(field, f"{field} values must be strings: the value of {key!r} is not")
        for part in (key, text):
            _check_encoding(field, part)
            if _has_control_character(part):
                raise InvalidInput(field, f"{field} keys and values must not contain control characters")
        if not 1 <= len(key) <= METADATA_KEY_MAX:
            raise InvalidInput(field, f"{field} keys must be 1 to {METADATA_KEY_MAX} characters")
        if len(text) > METADATA_VALUE_MAX:
            raise InvalidInput(field, f"{field} values must be at most {METADATA_VALUE_MAX} characters")
    return dict(value)


def check_message_id(field: str, value: str) -> int:
    """A reference to a message, as GraphQL's ID carries it: its integer id in decimal. Whether
    it names a message (of the right session) is for the write to check."""
    _check_encoding(field, value)
    if not MESSAGE_ID_PATTERN.fullmatch(value) or int(value) > MESSAGE_ID_MAX:
        raise InvalidInput(field, f"{field} names no message: {value!r}")
    return int(value)


def check_id_or_new(field: str, value: str | None) -> str:
    """A client-made id, checked, or a new UUID when the client gave none."""
    return str(uuid.uuid4()) if value is None else check_id(field, value)


def kalito_style_id(prefix: str, created_at: datetime) -> str:
    """A new id shaped as Kalito makes its pins' and summaries' (`pin_<ms>_<9 base36>`): the
    row's creation in milliseconds since the epoch, then 9 random base-36 characters."""
    suffix = "".join(secrets.choice(_BASE36) for _ in range(9))
    return f"{prefix}_{int(created_at.timestamp() * 1000)}_{suffix}"
