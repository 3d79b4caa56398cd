"""The Settings view in Chromium: from the palette to greeter's form, a refused value shown under
its field, a saved greeting used by the next request without a restart, a locked field."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from kernel.testing import KernelHarness

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, shot_path, sign_in, start_gateway


async def test_an_admin_changes_the_greeting_from_the_palette(
    webos: KernelHarness, browser: Any
) -> None:
    app = await start_gateway(webos, ["greeter"])
    page = await browser.new_page()
    await sign_in(page, app.url, ADMIN_EMAIL, ADMIN_PASSWORD)

    await page.keyboard.press("Control+k")
    await page.keyboard.type("Edit settings of greeter")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{app.url}/console/settings/greeter")
    greeting = page.get_by_label("greeting")
    await expect(greeting).to_have_value("Hello")

    await greeting.fill("")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#setting-greeting-error")).to_contain_text("at least 1 character")

    await page.get_by_label("greeting").fill("Grüezi")
    await page.keyboard.press("Enter")  # submits the form from the keyboard
    await expect(page.get_by_role("status")).to_contain_text("Saved")
    await expect(page.locator(".settings-history li").first).to_contain_text(
        f"{ADMIN_EMAIL} changed greeting"
    )
    await page.screenshot(path=shot_path("settings"))

    hello = await app.client.post("/api/greeter/hello", json={"name": "Ada"})
    assert hello.json()["greeting"] == "Grüezi, Ada!"


async def test_an_environment_variable_shows_its_field_locked(
    webos: KernelHarness, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBOS_MOD_GREETER_GREETING", "Bonjour")
    app = await start_gateway(webos, ["greeter"])
    page = await browser.new_page()
    await sign_in(page, app.url, ADMIN_EMAIL, ADMIN_PASSWORD, path="/console/settings/greeter")

    await expect(page.get_by_label("greeting")).to_be_disabled()
    await expect(page.get_by_label("greeting")).to_have_value("Bonjour")
    await expect(page.locator(".setting-source").first).to_contain_text(
        "locked: set by WEBOS_MOD_GREETER_GREETING"
    )


async def test_a_form_swapped_in_by_htmx_submits_through_htmx_at_once(
    webos: KernelHarness, browser: Any
) -> None:
    """A refused save swaps in a new form; a submit the moment it appears (a fast Enter) must go
    through htmx as a POST, not natively with the values in the address bar."""
    app = await start_gateway(webos, ["greeter"])
    page = await browser.new_page()
    await sign_in(page, app.url, ADMIN_EMAIL, ADMIN_PASSWORD, path="/console/settings/greeter")
    await page.evaluate(
        """() => {
          const old = document.querySelector("#settings-form");
          new MutationObserver((changes, watcher) => {
            const swapped = document.querySelector("#settings-form");
            if (!swapped || swapped === old) return;
            watcher.disconnect();
            swapped.querySelector("input[name=greeting]").value = "Servus";
            swapped.querySelector("form").requestSubmit();
          }).observe(document.body, {childList: true, subtree: true});
        }"""
    )
    await page.get_by_label("greeting").fill("")
    await page.get_by_role("button", name="Save").click()

    await expect(page.get_by_role("status")).to_contain_text("Saved")
    assert page.url == f"{app.url}/console/settings/greeter"
    hello = await app.client.post("/api/greeter/hello", json={"name": "Ada"})
    assert hello.json()["greeting"] == "Servus, Ada!"
