"""The precedence and validation of module settings, without NATS: environment over saved over
default, locked fields refused, values saved as the model reads them."""

from __future__ import annotations

import pytest
from pydantic import Field, SecretStr

from kernel import ModuleSettings
from kernel.livesettings import SettingsInvalid, build, describe, from_environment, merge


class ShopSettings(ModuleSettings):
    currency: str = "EUR"
    max_items: int = Field(50, ge=1)
    token: SecretStr | None = None


def test_the_environment_wins_over_a_saved_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_MOD_SHOP_CURRENCY", "CHF")

    built = build(ShopSettings, "shop", {"currency": "USD", "max_items": 7}, {"currency": "CHF"})

    assert (built.currency, built.max_items) == ("CHF", 7)


def test_a_change_is_saved_as_the_model_reads_it_and_a_bad_one_names_its_field() -> None:
    saved = merge(ShopSettings, "shop", {"currency": "USD"}, {"max_items": "12", "token": "t"}, {})

    with pytest.raises(SettingsInvalid) as refused:
        merge(ShopSettings, "shop", saved, {"max_items": 0}, {})

    assert saved == {"currency": "USD", "max_items": 12, "token": "t"}
    assert list(refused.value.errors) == ["max_items"]
    assert refused.value.http_status == 422


def test_each_field_says_where_its_value_comes_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_MOD_SHOP_MAX_ITEMS", "3")

    environment = from_environment(ShopSettings, "shop")
    shown = {
        view.name: view for view in describe(ShopSettings, "shop", {"token": "t"}, environment)
    }

    assert (shown["currency"].source, shown["currency"].value) == ("default", "EUR")
    assert (shown["max_items"].source, shown["max_items"].locked) == ("env", True)
    assert shown["max_items"].variable == "WEBOS_MOD_SHOP_MAX_ITEMS"
    assert (shown["token"].value, shown["token"].is_set, shown["token"].secret) == (
        None,
        True,
        True,
    )
