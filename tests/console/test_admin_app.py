"""Users and keys in a real browser: the Admin app and My account (the auth module's ui.py)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from kernel.testing import KernelHarness

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, shot_path, sign_in, start_gateway

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

ROLES = '{"operator": ["console.view", "system.read"]}'


async def _palette(page: Any, typed: str) -> None:
    await page.keyboard.press("Control+k")
    await page.keyboard.type(typed)
    await page.keyboard.press("Enter")


async def test_an_admin_makes_a_user_whose_key_works_until_revoked(
    webos: KernelHarness, browser: Any
) -> None:
    app = await start_gateway(webos, [], roles=ROLES)
    base = app.url
    page = await browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of Revoke
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)

    # The admin creates Lin with the operator role, from the palette's "Create user".
    await sign_in(page, base, ADMIN_EMAIL, ADMIN_PASSWORD)
    await _palette(page, "Create user")
    await expect(page).to_have_url(f"{base}/console/apps/auth/admin")
    await page.locator("#create-user summary").click()
    create = page.locator("#create-user form")
    await create.get_by_label("E-mail").fill("lin@example.org")
    await create.get_by_label("Password (leave empty to generate one)").fill(PASSWORD)
    await create.get_by_label("operator").check()
    await create.get_by_role("button", name="Create user").click()
    await expect(page.locator("#create-result")).to_contain_text("Created lin@example.org")
    row = page.locator("#users tr[data-user='lin@example.org']")
    await expect(row).to_contain_text("operator")
    await page.screenshot(path=shot_path("admin"), full_page=True)

    # Lin signs in and makes an API key in My account, reached from the palette.
    await browser.clear_cookies()
    await sign_in(page, base, "lin@example.org", PASSWORD)
    await _palette(page, "My API keys")
    await expect(page).to_have_url(f"{base}/console/apps/auth/account")
    await page.get_by_label("Key name").fill("ci")
    await page.get_by_label("Permissions (space or comma separated)").fill("system.read")
    await page.get_by_role("button", name="Create key").click()
    secret = page.locator("#my-keys [data-secret]")
    await expect(secret).to_be_visible()
    key = (await secret.text_content() or "").strip()
    await page.screenshot(path=shot_path("account"), full_page=True)

    # The key works from a plain HTTP client on a route its scope allows.
    async with httpx.AsyncClient(base_url=base) as curl:
        headers = {"X-API-Key": key}
        assert (await curl.get("/api/system/bus", headers=headers)).status_code == 200

        # The admin opens Lin from the palette ("Reset password for <email>", one per user)
        # and revokes the key; the next request with it is refused.
        await browser.clear_cookies()
        await sign_in(page, base, ADMIN_EMAIL, ADMIN_PASSWORD)
        await page.keyboard.press("Control+k")
        await page.keyboard.type("Reset password for lin")
        option = page.get_by_role("option").first
        await expect(option).to_contain_text("Reset password for lin@example.org")
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(re.compile(r"/console/apps/auth/admin\?user=\w+$"))
        detail = page.locator("[data-user-detail='lin@example.org']")
        await detail.locator("tr[data-key]").get_by_role("button", name="Revoke").click()
        await expect(detail).to_contain_text("revoked")
        assert (await curl.get("/api/system/bus", headers=headers)).status_code == 401
        # Disabling Lin (a button with its value in hx-vals) ends her sign-ins.
        await detail.get_by_role("button", name="Disable").click()
        await expect(page.locator("[data-user-detail] .alert")).to_contain_text("Disabled")
        signed = await curl.post(
            "/api/auth/login", json={"email": "lin@example.org", "password": PASSWORD}
        )
        assert signed.status_code == 401
    assert refused == []
