"""Configuration is read once from the environment, validated, with the contract's defaults."""

from __future__ import annotations

import pytest

from settings import Settings, SettingsError


def test_defaults_are_the_contracts() -> None:
    settings = Settings.from_env({})
    assert settings == Settings(
        database_url="sqlite://kalito.db",
        ephemeral_ttl_seconds=86_400,
        production=False,
        api_token=None,
        cors_origins=(),
        log_format="json",
        log_level="info",
    )


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "KALITO_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/kalito",
            "KALITO_EPHEMERAL_TTL_SECONDS": "0",
            "KALITO_PRODUCTION": "1",
            "KALITO_API_TOKEN": "s3cret",
            "KALITO_CORS_ORIGINS": "http://localhost:5173, https://app.example/ ,",
            "KALITO_LOG_FORMAT": "text",
            "KALITO_LOG_LEVEL": "DEBUG",
        }
    )
    assert settings.database_url == "postgres://postgres@127.0.0.1:5432/kalito"
    assert settings.ephemeral_ttl_seconds == 0
    assert settings.production is True
    assert settings.api_token == "s3cret"
    assert settings.cors_origins == ("http://localhost:5173", "https://app.example")
    assert (settings.log_format, settings.log_level) == ("text", "debug")


def test_the_token_is_not_shown_in_logs() -> None:
    assert "s3cret" not in repr(Settings(api_token="s3cret"))


@pytest.mark.parametrize(
    "env",
    [
        {"KALITO_EPHEMERAL_TTL_SECONDS": "a day"},
        {"KALITO_EPHEMERAL_TTL_SECONDS": "-1"},
        {"KALITO_PRODUCTION": "maybe"},
        {"KALITO_DATABASE_URL": "mysql://root@localhost/kalito"},
        {"KALITO_LOG_FORMAT": "xml"},
        {"KALITO_LOG_LEVEL": "verbose"},
        {"KALITO_MAX_QUERY_DEPTH": "0"},
        {"KALITO_MAX_TOKENS": "many"},
        {"KALITO_MAX_ALIASES": "-1"},
        {"KALITO_MAX_FIELDS": "0"},
        {"KALITO_MAX_DIRECTIVES": "1.5"},
        {"KALITO_MAX_BODY_BYTES": "0"},
        {"KALITO_OPERATION_TIMEOUT_SECONDS": "-1"},
        {"KALITO_OPERATION_TIMEOUT_SECONDS": "nan"},
        {"KALITO_OPERATION_TIMEOUT_SECONDS": "soon"},
        {"KALITO_BODY_READ_TIMEOUT_SECONDS": "-0.5"},
        {"KALITO_BATCH_MAX_OPERATIONS": "-2"},
    ],
)
def test_a_bad_value_is_refused_with_its_name(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)


def test_the_request_limits_have_generous_defaults_and_are_read() -> None:
    defaults = Settings.from_env({})
    assert (
        defaults.max_query_depth,
        defaults.max_aliases,
        defaults.max_fields,
        defaults.max_tokens,
        defaults.max_directives,
        defaults.max_body_bytes,
        defaults.operation_timeout_seconds,
        defaults.body_read_timeout_seconds,
        defaults.batch_max_operations,
    ) == (10, 30, 300, 15_000, 50, 2 * 1024 * 1024, 30.0, 30.0, 0)
    settings = Settings.from_env(
        {
            "KALITO_MAX_QUERY_DEPTH": "7",
            "KALITO_MAX_ALIASES": "0",
            "KALITO_MAX_FIELDS": "40",
            "KALITO_MAX_TOKENS": "2000",
            "KALITO_MAX_DIRECTIVES": "5",
            "KALITO_MAX_BODY_BYTES": "4096",
            "KALITO_OPERATION_TIMEOUT_SECONDS": "2.5",
            "KALITO_BODY_READ_TIMEOUT_SECONDS": "0",
            "KALITO_BATCH_MAX_OPERATIONS": "10",
        }
    )
    assert (
        settings.max_query_depth,
        settings.max_aliases,
        settings.max_fields,
        settings.max_tokens,
        settings.max_directives,
        settings.max_body_bytes,
        settings.operation_timeout_seconds,
        settings.body_read_timeout_seconds,
        settings.batch_max_operations,
    ) == (7, 0, 40, 2000, 5, 4096, 2.5, 0.0, 10)


def test_the_account_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            "KALITO_AUTH": "JWT",
            "KALITO_JWKS_URL": "https://id.example/.well-known/jwks.json",
            "KALITO_JWKS_MIN_REFRESH_SECONDS": "2.5",
            "KALITO_JWT_AUDIENCE": "kalito",
            "KALITO_JWT_ISSUER": "https://id.example/",
            "KALITO_JWT_ROLES_CLAIM": "realm_access.roles",
            "KALITO_DEFAULT_OWNER": "alice",
        }
    )
    assert settings.accounts
    assert (settings.jwks_url, settings.jwks_min_refresh_seconds) == ("https://id.example/.well-known/jwks.json", 2.5)
    assert (settings.jwt_audience, settings.jwt_issuer) == ("kalito", "https://id.example/")
    assert (settings.jwt_roles_claim, settings.default_owner) == ("realm_access.roles", "alice")
    assert not Settings.from_env({}).accounts
    assert "shh" not in repr(Settings.from_env({"KALITO_AUTH": "jwt", "KALITO_JWT_SECRET": "shh"}))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KALITO_AUTH": "jwt"}, "exactly one of KALITO_JWT_SECRET, KALITO_JWKS_URL, KALITO_JWKS_FILE$"),
        (
            {"KALITO_AUTH": "jwt", "KALITO_JWT_SECRET": "s", "KALITO_JWKS_FILE": "keys.json"},
            r"\(set: KALITO_JWT_SECRET, KALITO_JWKS_FILE\)",
        ),
        ({"KALITO_AUTH": "jwt", "KALITO_JWT_SECRET": "s", "KALITO_API_TOKEN": "t"}, "KALITO_API_TOKEN"),
        ({"KALITO_AUTH": "oauth"}, "KALITO_AUTH must be one of none, jwt"),
        ({"KALITO_DEFAULT_OWNER": "x" * 256}, "KALITO_DEFAULT_OWNER must be 1 to 255"),
    ],
)
def test_accounts_need_exactly_one_key_source_and_no_shared_token(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)
