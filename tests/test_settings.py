"""Settings come from WEBOS_* variables; a bad one stops start-up naming the variable."""

import pytest

from kernel.errors import ConfigError
from kernel.settings import Environment, load_settings


def test_defaults_are_embedded_and_local(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WEBOS_NATS_URL", "WEBOS_PORT", "WEBOS_HOST", "WEBOS_ENV"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.embedded_nats
    assert settings.effective_nats_url == "nats://127.0.0.1:4222"
    assert settings.env is Environment.DEV


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_PORT", "eighty")
    with pytest.raises(ConfigError, match="WEBOS_PORT") as caught:
        load_settings()
    assert "eighty" in str(caught.value)


def test_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_ENV", "staging")
    with pytest.raises(ConfigError, match="WEBOS_ENV"):
        load_settings()


def test_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_EXCLUDE", "audit, billing")
    monkeypatch.setenv("WEBOS_CORS_ORIGINS", "https://a.example,https://b.example")
    settings = load_settings()
    assert settings.exclude == ["audit", "billing"]
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_production_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_ENV", "prod")
    monkeypatch.delenv("WEBOS_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="WEBOS_SECRET_KEY"):
        load_settings().validate_for_start()
    monkeypatch.setenv("WEBOS_SECRET_KEY", "x" * 40)
    load_settings().validate_for_start()
