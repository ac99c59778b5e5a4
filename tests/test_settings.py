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
    )


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "KALITO_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/kalito",
            "KALITO_EPHEMERAL_TTL_SECONDS": "0",
            "KALITO_PRODUCTION": "1",
            "KALITO_API_TOKEN": "s3cret",
            "KALITO_CORS_ORIGINS": "http://localhost:5173, https://app.example/ ,",
        }
    )
    assert settings.database_url == "postgres://postgres@127.0.0.1:5432/kalito"
    assert settings.ephemeral_ttl_seconds == 0
    assert settings.production is True
    assert settings.api_token == "s3cret"
    assert settings.cors_origins == ("http://localhost:5173", "https://app.example")


def test_the_token_is_not_shown_in_logs() -> None:
    assert "s3cret" not in repr(Settings(api_token="s3cret"))


@pytest.mark.parametrize(
    "env",
    [
        {"KALITO_EPHEMERAL_TTL_SECONDS": "a day"},
        {"KALITO_EPHEMERAL_TTL_SECONDS": "-1"},
        {"KALITO_PRODUCTION": "maybe"},
        {"KALITO_DATABASE_URL": "mysql://root@localhost/kalito"},
    ],
)
def test_a_bad_value_is_refused_with_its_name(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)
