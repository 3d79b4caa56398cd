"""Settings come from WEBOS_* variables; a bad one stops start-up naming the variable."""

import pytest

from kernel.errors import ConfigError
from kernel.settings import Environment, load_settings


def test_defaults_are_embedded_and_local(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WEBOS_NATS_URL", "WEBOS_PORT", "WEBOS_HOST", "WEBOS_ENV"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.host == "127.0.0.1"
    assert settings.gateway.port == 8000
    assert settings.nats.embedded
    assert settings.nats.effective_url == "nats://127.0.0.1:4222"
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
    assert settings.modules.exclude == ["audit", "billing"]
    assert settings.gateway.cors_origins == ["https://a.example", "https://b.example"]


def test_secrets_belong_to_the_parts_that_use_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every process reads CoreSettings, so no signing secret lives there."""
    monkeypatch.setenv("WEBOS_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("WEBOS_STORAGE_PRESIGN_SECRET", "y" * 40)
    settings = load_settings()
    assert settings.auth.secret_key is not None
    assert settings.auth.secret_key.get_secret_value() == "x" * 40
    assert settings.storage.presign_secret is not None
    assert settings.auth.jwt_algorithm == "EdDSA"


def test_each_package_reads_its_own_variables_and_errors_name_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBOS_TASKS_CONCURRENCY", "12")
    monkeypatch.setenv("WEBOS_DURABLE_MAX_DELIVER", "7")
    monkeypatch.setenv("WEBOS_STORAGE_S3_BUCKET", "backups")
    settings = load_settings()
    assert settings.tasks.concurrency == 12
    assert settings.durable.max_deliver == 7
    assert settings.storage.s3_bucket == "backups"
    monkeypatch.setenv("WEBOS_TASKS_CONCURRENCY", "many")
    monkeypatch.setenv("WEBOS_HEARTBEAT_INTERVAL", "-1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "WEBOS_TASKS_CONCURRENCY" in str(caught.value)
    assert "'many'" in str(caught.value)
    assert "WEBOS_HEARTBEAT_INTERVAL" in str(caught.value)


def test_overrides_are_named_after_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBOS_TASKS_CONCURRENCY", raising=False)
    settings = load_settings(tasks_concurrency=3, only=["greeter"], port=9000)
    assert (settings.tasks.concurrency, settings.modules.only, settings.gateway.port) == (
        3,
        ["greeter"],
        9000,
    )
    changed = settings.override(tasks_concurrency=5)
    assert changed.tasks.concurrency == 5 and changed.modules.only == ["greeter"]
    with pytest.raises(ConfigError, match="WEBOS_TASKS_CONCURENCY: no such setting"):
        load_settings(tasks_concurency=3)
