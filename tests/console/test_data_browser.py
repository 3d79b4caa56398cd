"""The data explorer in a real browser: list, field errors inline, no edit without write."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from kernel.testing import KernelHarness, add_user, login

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, shot_path, sign_in, start_gateway

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]
ROLES = '{"viewer": ["console.view", "contacts.contact.read"]}'


async def _new_contact(page: Any, name: str, email: str) -> None:
    await page.get_by_role("button", name="New contact").click()
    await page.get_by_label("name").fill(name)
    await page.get_by_label("email").fill(email)
    await page.get_by_role("button", name="Create").click()


async def test_an_operator_lists_creates_and_is_told_what_is_wrong(
    webos: KernelHarness, browser: Any
) -> None:
    app = await start_gateway(webos, ["contacts"], roles=ROLES)
    admin = await login(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    await add_user(app, admin, "viewer@example.org", ["viewer"])
    base = app.url
    page = await browser.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    await sign_in(page, base, ADMIN_EMAIL, ADMIN_PASSWORD)

    # The Data view lists the contacts model (auth's accounts too, read-only); the palette
    # opens a model from the keyboard.
    await page.get_by_role("link", name="Data").click()
    await expect(page.locator("#models tr[data-model='contacts.contact']")).to_be_visible()
    await expect(page.locator("#models tr[data-model='auth.user']")).to_contain_text("read")
    await page.keyboard.press("Control+k")
    await page.keyboard.type("open contacts.contact")
    palette = page.get_by_role("dialog", name="Command palette")
    await expect(palette.get_by_role("option").first).to_contain_text("Open contacts.contact")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{base}/console/data/contacts/contact")

    # An invalid e-mail: the form comes back with the message under the field, nothing stored.
    await _new_contact(page, "Ada", "ada-at-example")
    error = page.locator(".field-error[data-field=email]")
    await expect(error).to_contain_text("not a valid email address")
    await expect(page.get_by_label("email")).to_have_attribute("aria-invalid", "true")
    await page.screenshot(path=shot_path("data-invalid"))
    await page.get_by_label("email").fill("ada@example.org")
    await page.get_by_role("button", name="Create").click()
    await expect(page.get_by_role("status")).to_contain_text("Contact created.")

    # The same address in other letters: the unique index's clash, on the e-mail field.
    await page.get_by_role("button", name="All contact records").click()
    await _new_contact(page, "Ada again", "ADA@example.org")
    await expect(error).to_contain_text("another contact already has this email")
    await page.get_by_role("button", name="All contact records").click()
    await expect(page.locator("#explorer tbody tr")).to_have_count(1)
    await expect(page.locator("#explorer tbody")).to_contain_text("ada@example.org")
    await page.screenshot(path=shot_path("data-list"))
    assert refused == []
    # Without the CSRF header a state change is refused even with the session cookie.
    status = await page.evaluate(
        """() => fetch('/api/contacts/admin/contact', {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({name: 'Eve', email: 'eve@example.org'})}).then(r => r.status)"""
    )
    assert status == 403

    # A reader sees the records but no way to change them; the write routes answer 403.
    await page.context.clear_cookies()
    await sign_in(page, base, "viewer@example.org", PASSWORD, "/console/data/contacts/contact")
    await expect(page.locator("#explorer tbody")).to_contain_text("ada@example.org")
    await expect(page.get_by_role("button", name="New contact")).to_have_count(0)
    await page.locator("#explorer tbody button").first.click()
    await expect(page.locator(".explorer-record")).to_contain_text("ada@example.org")
    await expect(page.get_by_role("button", name="Save")).to_have_count(0)
    await expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    status = await page.evaluate(
        """() => fetch('/api/contacts/console/data/contact', {
            method: 'POST',
            headers: {'X-CSRF-Token': document.cookie.match(/webos_csrf=([^;]+)/)[1],
                      'Content-Type': 'application/x-www-form-urlencoded'},
            body: 'name=Eve&email=eve%40example.org'}).then(r => r.status)"""
    )
    assert status == 403
    # The Data view lists only what the viewer may read.
    await page.goto(f"{base}/console/data")
    await expect(page.locator("#models tbody tr")).to_have_count(1)
    await page.close()
