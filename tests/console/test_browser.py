"""The console in a real browser: sign in, live views, the palette, widgets, replay, refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from kernel.bus import list_dead_letters
from kernel.testing import KernelHarness, write_module

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, shot_path, sign_in, start_gateway

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

# A module whose durable handler refuses bad payloads: they go straight to the dead letters.
REPO_MODULES = Path(__file__).resolve().parents[2] / "modules"
LEDGER_EVENTS = """
from pydantic import BaseModel
from kernel import on

class Order(BaseModel):
    order_id: str

@on("ledger.order", durable=True)
async def book(order: Order) -> None:
    pass
"""


async def _until(check: Any, what: str, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_operator_tour(webos: KernelHarness, browser: Any, tmp_path: Path) -> None:
    # The repository's modules and a ledger, in one folder the gateway discovers: it runs
    # greeter and creates the durable consumer of ledger, which runs standalone like audit.
    modules = tmp_path / "modules"
    for name in ("auth", "greeter", "audit"):
        (modules / name).parent.mkdir(parents=True, exist_ok=True)
        (modules / name).symlink_to(REPO_MODULES / name)
    write_module(modules, "ledger", {"events.py": LEDGER_EVENTS})
    app = await start_gateway(webos, ["greeter"], modules_path=modules)
    await webos.run_module("audit", modules_path=modules)  # its ui.py widget is forwarded
    await webos.run_module("ledger", modules_path=modules)
    page = await browser.new_page()
    base = app.url
    # Every page runs under its CSP (scripts of this origin only): nothing may be refused.
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)

    # Without a session the console sends the browser to the sign-in page.
    await page.goto(f"{base}/console/nodes")
    await expect(page).to_have_url(f"{base}/console/login?next=/console/nodes")
    await page.screenshot(path=shot_path("login"))
    await page.get_by_label("E-mail").fill(ADMIN_EMAIL)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()

    # Nodes: the gateway and the standalone module processes, live.
    await expect(page).to_have_url(f"{base}/console/nodes")
    table = page.locator("#nodes table")
    await expect(table.locator("tr", has_text="gateway")).to_have_count(1)
    await expect(table.locator("tr", has_text="audit")).to_be_visible()
    await expect(table.locator("tr", has_text="ledger")).to_be_visible()
    cookies = {c["name"]: c for c in await browser.cookies()}
    assert cookies["webos_session"]["httpOnly"] is True
    assert cookies["webos_session"]["sameSite"] == "Lax"
    await page.screenshot(path=shot_path("nodes"))

    # The dashboard shows the remote audit module's widget.
    await page.get_by_role("link", name="Dashboard").click()
    widget = page.locator("[data-widget=audit]")
    await expect(widget.get_by_role("heading", name="Latest events")).to_be_visible()
    await expect(widget.locator(".fragment")).not_to_contain_text("Loading")

    # Events: a greeting appears live, without reloading.
    await page.goto(f"{base}/console/events?subject=greeter.>")
    await expect(page.locator("#events-status")).to_have_text("Live: greeter.>")
    response = await app.client.post("/api/greeter/hello", json={"name": "Ada"})
    assert response.status_code == 200
    event = page.locator("#events li", has_text="greeter.greeted")
    await expect(event).to_have_count(1)
    await event.locator("summary").click()
    await expect(event.locator("pre").first).to_contain_text('"greeting": "Hello, Ada!"')
    await expect(event.locator("pre").nth(1)).to_contain_text("webos-event-id")
    # Paused: new events wait; resumed: they show.
    await page.get_by_role("button", name="Pause").click()
    await app.client.post("/api/greeter/hello", json={"name": "Grace"})
    await expect(page.locator("#events-status")).to_have_text("Paused (1 waiting)")
    await expect(page.locator("#events li")).to_have_count(1)
    await page.get_by_role("button", name="Resume").click()
    await expect(page.locator("#events li")).to_have_count(2)
    await page.screenshot(path=shot_path("events"))

    # The dashboard widget now lists the greetings the audit process recorded.
    await page.goto(f"{base}/console")
    await expect(page.locator("[data-widget=audit]")).to_contain_text("greeter.greeted")
    await page.screenshot(path=shot_path("dashboard"))

    # The palette, from the keyboard: Ctrl+K, type, Enter.
    await page.keyboard.press("Control+k")
    palette = page.get_by_role("dialog", name="Command palette")
    await expect(palette).to_be_visible()
    await page.keyboard.type("greetr")
    await expect(palette.get_by_role("option").first).to_contain_text("Greeter")
    await page.screenshot(path=shot_path("palette"))
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{base}/console/apps/greeter/hello")
    await page.get_by_label("Name").fill("Lin")
    await page.get_by_role("button", name="Say hello").click()
    await expect(page.locator("#greeting")).to_contain_text("Hello, Lin!")
    await page.screenshot(path=shot_path("app"))

    # A palette command runs a module's action (a POST with the CSRF header).
    await page.keyboard.press("Control+k")
    await page.keyboard.type("hello world")
    await page.keyboard.press("Enter")
    await expect(page.locator("#toast")).to_contain_text("Hello, world!")

    # Dead letters: inspect one, replay it with confirmation.
    await app.kernel.bus.emit("ledger.order", {"not": "an order"})
    js = app.kernel.bus.nats.jetstream()

    async def dead_lettered() -> bool:
        return bool(await list_dead_letters(js))

    await _until(dead_lettered, "the dead letter")
    [letter] = await list_dead_letters(js)
    await page.get_by_role("link", name="Dead letters").click()
    row = page.locator(f"tr[data-letter='{letter.id}']")
    await expect(row).to_contain_text("ledger.order")
    await row.get_by_role("button", name="Inspect").click()
    await expect(page.locator(f"#letter-{letter.id}")).to_contain_text('"not": "an order"')
    await page.screenshot(path=shot_path("dlq"))
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await row.get_by_role("button", name="Replay").click()
    await expect(page.locator(".alert.ok")).to_contain_text(f"Replayed dead letter {letter.id}")
    await expect(page.locator(f"tr[data-letter='{letter.id}']")).to_have_count(0)

    # Services and the dark theme at phone width.
    await page.get_by_role("link", name="Services").click()
    await expect(page.locator("table")).to_contain_text("audit_log")
    await page.get_by_role("button", name="Switch between dark and light theme").click()
    await page.set_viewport_size({"width": 390, "height": 800})
    await page.goto(f"{base}/console")
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    await page.screenshot(path=shot_path("dashboard-phone-dark"))

    # Signing out ends the session.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{base}/console/login")
    await page.close()
    assert refused == []


async def test_api_docs_render_under_their_csp(webos: KernelHarness, browser: Any) -> None:
    """Swagger UI and Redoc from the vendored copies, nothing from another origin, nothing
    refused by the pages' Content-Security-Policy."""
    app = await start_gateway(webos, ["greeter"])
    page = await browser.new_page()
    refused: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    # Answers, not requests: a request the policy blocks is reported too, but never answered.
    page.on(
        "response",
        lambda r: None if r.url.startswith(app.url) else elsewhere.append(r.url),
    )

    await page.goto(f"{app.url}/schema")
    await expect(
        page.locator(".opblock-summary-path", has_text="/api/greeter/hello")
    ).to_be_visible()
    await page.screenshot(path=shot_path("docs-swagger"))
    await page.goto(f"{app.url}/schema/redoc")
    await expect(page.get_by_text("/api/greeter/hello").first).to_be_attached()
    await expect(page.get_by_role("heading", name="WebOS gateway")).to_be_visible()
    await page.screenshot(path=shot_path("docs-redoc"))
    await page.close()

    # Redoc 3 shows Redocly's logo from their CDN; the policy blocks it (the page hides the
    # broken image). Nothing else may be refused: no script, no telemetry (it is turned off).
    logo = "https://cdn.redoc.ly/redoc/logo-mini"
    assert [text for text in refused if logo not in text] == []
    assert elsewhere == []


async def test_views_without_permission_are_refused(webos: KernelHarness, browser: Any) -> None:
    app = await start_gateway(webos, ["greeter", "audit"], roles='{"viewer": ["console.view"]}')
    admin = (
        await app.client.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
    ).json()["access_token"]
    for email, roles in (("viewer@example.org", ["viewer"]), ("plain@example.org", ["user"])):
        created = await app.client.post(
            "/api/auth/users/",
            json={"email": email, "password": PASSWORD, "roles": roles},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert created.status_code == 201, created.text
    page = await browser.new_page()
    base = app.url

    # A viewer sees the console but not the system views nor the audit app.
    await sign_in(page, base, "viewer@example.org", PASSWORD)
    await expect(page.get_by_role("link", name="Greeter")).to_be_visible()
    await expect(page.get_by_role("link", name="Nodes")).to_have_count(0)
    await expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    await expect(page.locator("[data-widget=audit]")).to_have_count(0)
    refused = await page.goto(f"{base}/console/nodes")
    assert refused is not None and refused.status == 403
    await expect(page.get_by_role("alert")).to_contain_text("missing permission system.read")
    await page.screenshot(path=shot_path("forbidden"))
    for url in ("/console/apps/audit/log", "/api/audit/console/widget"):
        response = await page.goto(f"{base}{url}")
        assert response is not None and response.status == 403, url
    # State-changing requests without the CSRF header are refused even with the cookie.
    status = await page.evaluate(
        "fetch('/api/greeter/console/world', {method: 'POST'}).then(r => r.status)"
    )
    assert status == 403

    # A user without console.view is refused the console itself.
    await page.context.clear_cookies()
    await sign_in(page, base, "plain@example.org", PASSWORD)
    await expect(page.get_by_role("alert")).to_contain_text("missing permission console.view")
    await page.close()
