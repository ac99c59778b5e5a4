"""Configuration, read once from the environment into one frozen, validated object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class SettingsError(ValueError):
    """An environment variable holds a value the server cannot run with."""


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("", "0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0, not {raw!r}")


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite://kalito.db"
    ephemeral_ttl_seconds: int = 86_400
    purge_interval_seconds: int = 300
    production: bool = False
    api_token: str | None = field(default=None, repr=False)
    cors_origins: tuple[str, ...] = ()
    ws_max_subscriptions: int = 100
    ws_init_timeout_seconds: int = 10

    def __post_init__(self) -> None:
        scheme = self.database_url.split("://", 1)[0]
        if scheme not in ("sqlite", "postgres", "postgresql", "asyncpg"):
            raise SettingsError(
                f"KALITO_DATABASE_URL must start with sqlite:// or postgres://, not {self.database_url!r}"
            )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("KALITO_DATABASE_URL") or cls.database_url,
            ephemeral_ttl_seconds=_int(env, "KALITO_EPHEMERAL_TTL_SECONDS", cls.ephemeral_ttl_seconds),
            purge_interval_seconds=_int(env, "KALITO_PURGE_INTERVAL_SECONDS", cls.purge_interval_seconds, minimum=1),
            production=_flag(env, "KALITO_PRODUCTION"),
            api_token=env.get("KALITO_API_TOKEN") or None,
            cors_origins=_origins(env, "KALITO_CORS_ORIGINS"),
            ws_max_subscriptions=_int(env, "KALITO_WS_MAX_SUBSCRIPTIONS", cls.ws_max_subscriptions, minimum=1),
            ws_init_timeout_seconds=_int(env, "KALITO_WS_INIT_TIMEOUT_SECONDS", cls.ws_init_timeout_seconds, minimum=1),
        )
