"""Configuration, read once from the environment into one frozen, validated object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
AUTH_MODES = ("none", "jwt")


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


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise SettingsError(f"{name} must be 0 or more, not {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "1" if default else "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("", "0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0, not {raw!r}")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower() or default
    if raw not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return raw


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite://kalito.db"
    ephemeral_ttl_seconds: int = 86_400
    purge_interval_seconds: int = 300
    production: bool = False
    # The fast path for documents seen before (schema/plans.py); off, strawberry runs everything.
    compiled_operations: bool = True
    api_token: str | None = field(default=None, repr=False)
    cors_origins: tuple[str, ...] = ()
    # Request limits (schema/limits.py, web/body_limit.py). This schema's deepest query is 6
    # levels (sessions > edges > node > messages > edges > node); introspection adds no depth.
    max_query_depth: int = 10
    max_aliases: int = 30
    # Over GraphiQL's introspection query (226 fields), ten times the Apollo Client flow's widest
    # operation (24), under graphql-cop's 500 duplicated `__typename`s; validating 300 fields
    # takes up to 50 ms, 500 up to 250 ms (OverlappingFieldsCanBeMergedRule is quadratic).
    max_fields: int = 300
    max_tokens: int = 15_000  # Apollo Router's default
    max_directives: int = 50
    # A 100,000-character message, every character an escaped astral one, is ~1.2 MB of JSON.
    max_body_bytes: int = 2 * 1024 * 1024
    # The whole body of a POST, from the first read: a client trickling it (a byte every few
    # seconds) would hold a connection and a task for as long as it likes. 2 MiB in 30 s is
    # 70 kB/s, a slow mobile link. 0 = no limit.
    body_read_timeout_seconds: float = 30.0
    operation_timeout_seconds: float = 30.0  # queries only; 0 = no limit
    batch_max_operations: int = 0  # 0 = a JSON array body (a batch) is refused
    log_format: str = "json"  # json | text, for the kalito.* loggers
    log_level: str = "info"
    ws_max_subscriptions: int = 100
    ws_init_timeout_seconds: int = 10
    # Accounts (api.md §11, docs/operations.md "Accounts"): "jwt" scopes every row to the token's user.
    auth: str = "none"
    jwt_secret: str | None = field(default=None, repr=False)  # HS256
    jwks_url: str | None = None  # RS256, ES256, EdDSA keys, fetched and cached by kid
    jwks_file: str | None = None  # the same, from a file read at start
    # The least time between two fetches of the JWKS: a stream of tokens with made-up kids must
    # not make the server hammer the identity provider.
    jwks_min_refresh_seconds: float = 30.0
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_roles_claim: str = "roles"
    # Who owns the rows written before accounts were turned on (required then, when there are some).
    default_owner: str | None = None

    def __post_init__(self) -> None:
        scheme = self.database_url.split("://", 1)[0]
        if scheme not in ("sqlite", "postgres", "postgresql", "asyncpg"):
            raise SettingsError(
                f"KALITO_DATABASE_URL must start with sqlite:// or postgres://, not {self.database_url!r}"
            )
        if self.accounts:
            keys = [name for name, value in _key_sources(self) if value]
            if len(keys) != 1:
                raise SettingsError(
                    "KALITO_AUTH=jwt needs exactly one of KALITO_JWT_SECRET, KALITO_JWKS_URL, KALITO_JWKS_FILE"
                    + (f" (set: {', '.join(keys)})" if keys else "")
                )
            if self.api_token:
                raise SettingsError("KALITO_API_TOKEN is the one-user token: unset it when KALITO_AUTH=jwt")
        if self.default_owner is not None and not 0 < len(self.default_owner) <= 255:
            raise SettingsError("KALITO_DEFAULT_OWNER must be 1 to 255 characters")

    @property
    def accounts(self) -> bool:
        """Whether every row is scoped to the user of the request's token."""
        return self.auth == "jwt"

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
            compiled_operations=_flag(env, "KALITO_COMPILED_OPERATIONS", cls.compiled_operations),
            api_token=env.get("KALITO_API_TOKEN") or None,
            cors_origins=_origins(env, "KALITO_CORS_ORIGINS"),
            max_query_depth=_int(env, "KALITO_MAX_QUERY_DEPTH", cls.max_query_depth, minimum=1),
            max_aliases=_int(env, "KALITO_MAX_ALIASES", cls.max_aliases),
            max_fields=_int(env, "KALITO_MAX_FIELDS", cls.max_fields, minimum=1),
            max_tokens=_int(env, "KALITO_MAX_TOKENS", cls.max_tokens, minimum=1),
            max_directives=_int(env, "KALITO_MAX_DIRECTIVES", cls.max_directives),
            max_body_bytes=_int(env, "KALITO_MAX_BODY_BYTES", cls.max_body_bytes, minimum=1),
            body_read_timeout_seconds=_seconds(env, "KALITO_BODY_READ_TIMEOUT_SECONDS", cls.body_read_timeout_seconds),
            operation_timeout_seconds=_seconds(env, "KALITO_OPERATION_TIMEOUT_SECONDS", cls.operation_timeout_seconds),
            batch_max_operations=_int(env, "KALITO_BATCH_MAX_OPERATIONS", cls.batch_max_operations),
            log_format=_choice(env, "KALITO_LOG_FORMAT", cls.log_format, LOG_FORMATS),
            log_level=_choice(env, "KALITO_LOG_LEVEL", cls.log_level, LOG_LEVELS),
            ws_max_subscriptions=_int(env, "KALITO_WS_MAX_SUBSCRIPTIONS", cls.ws_max_subscriptions, minimum=1),
            ws_init_timeout_seconds=_int(env, "KALITO_WS_INIT_TIMEOUT_SECONDS", cls.ws_init_timeout_seconds, minimum=1),
            auth=_choice(env, "KALITO_AUTH", cls.auth, AUTH_MODES),
            jwt_secret=env.get("KALITO_JWT_SECRET") or None,
            jwks_url=env.get("KALITO_JWKS_URL") or None,
            jwks_file=env.get("KALITO_JWKS_FILE") or None,
            jwks_min_refresh_seconds=_seconds(env, "KALITO_JWKS_MIN_REFRESH_SECONDS", cls.jwks_min_refresh_seconds),
            jwt_audience=env.get("KALITO_JWT_AUDIENCE") or None,
            jwt_issuer=env.get("KALITO_JWT_ISSUER") or None,
            jwt_roles_claim=env.get("KALITO_JWT_ROLES_CLAIM") or cls.jwt_roles_claim,
            default_owner=env.get("KALITO_DEFAULT_OWNER") or None,
        )


def _key_sources(settings: Settings) -> tuple[tuple[str, str | None], ...]:
    return (
        ("KALITO_JWT_SECRET", settings.jwt_secret),
        ("KALITO_JWKS_URL", settings.jwks_url),
        ("KALITO_JWKS_FILE", settings.jwks_file),
    )
