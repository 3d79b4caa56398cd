"""Backend-independent helpers: model discovery and settings."""

from __future__ import annotations

import dbtest_models
import pytest

from kernel.db import create_client, documents_defined_in, ping
from kernel.settings import load_settings


def test_documents_defined_in_returns_only_local_concrete_documents() -> None:
    found = documents_defined_in(dbtest_models)
    assert found == [dbtest_models.Product, dbtest_models.Account, dbtest_models.Note]


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBOS_MONGO_URL", raising=False)
    monkeypatch.delenv("WEBOS_MONGO_DB", raising=False)
    assert load_settings().database.url is None
    assert load_settings().database.db == "webos"
    monkeypatch.setenv("WEBOS_MONGO_URL", "mongodb://db:27017")
    monkeypatch.setenv("WEBOS_MONGO_DB", "shop")
    settings = load_settings()
    assert (settings.database.url, settings.database.db) == ("mongodb://db:27017", "shop")


async def test_ping_is_false_when_no_server_answers() -> None:
    client = create_client("mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100", None)
    try:
        assert await ping(client) is False
    finally:
        await client.close()
