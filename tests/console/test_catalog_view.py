"""The Catalog view: subjects with their producers and consumers drawn as SVG, a subject's schema,
example and "Watch live" link, read from the code of every discovered module (also one that is
not running in the gateway), and refused without ``system.read``."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from kernel.testing import (
    KernelHarness,
    RunningKernel,
    add_user,
    bearer,
    login,
    start_with_auth,
    write_module,
)

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, shot_path, sign_in

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(120)]
REPO_MODULES = Path(__file__).resolve().parents[2] / "modules"

SHOP_EVENTS = """
from pydantic import BaseModel, EmailStr

from kernel import event


class Sale(BaseModel):
    sku: str
    quantity: int
    buyer: EmailStr


Sold = event("shop.sold", Sale, description="A sale <script>alert(1)</script> & its buyer")
"""
SHOP_MANIFEST = """
version = "1.2.0"
emits = ["shop.sold", "shop.restocked"]
"""
# Runs nowhere in these tests: its contracts come from its code alone.
LEDGER_EVENTS = """
from pydantic import BaseModel

from kernel import on


class Sale(BaseModel):
    sku: str
    quantity: int


@on("shop.sold", durable=True)
async def book(sale: Sale) -> None:
    pass


@on("shop.*", broadcast=True)
async def count(payload: dict) -> None:
    pass
"""


async def _gateway(webos: KernelHarness, tmp_path: Path, **settings: str) -> RunningKernel:
    modules = tmp_path / "mods"
    write_module(modules, "shop", {"events.py": SHOP_EVENTS}, manifest=SHOP_MANIFEST)
    write_module(modules, "ledger", {"events.py": LEDGER_EVENTS})
    (modules / "auth").symlink_to(REPO_MODULES / "auth")
    return await start_with_auth(
        webos, ["auth", "shop"], modules_path=modules, exclude=["ledger"], **settings
    )


def _pre(html: str, name: str) -> object:
    found = re.search(rf'<pre class="{name}">(.*?)</pre>', html, re.S)
    assert found, html
    return json.loads(unescape(found.group(1)))


async def test_the_picture_names_subjects_producers_and_consumers(
    webos: KernelHarness, tmp_path: Path
) -> None:
    app = await _gateway(webos, tmp_path)
    token = await login(app)
    response = await app.client.get("/console/catalog/graph", headers=bearer(token))
    assert response.status_code == 200, response.text
    svg = re.search(r"<svg.*?</svg>", response.text, re.S)
    assert svg, response.text
    picture = svg.group(0)
    # Both subjects link to their detail; the typed one is drawn apart from the untyped one.
    assert '<a href="/console/catalog?subject=shop.sold" data-subject="shop.sold">' in picture
    assert re.search(r'data-subject="shop.sold"><g class="subject typed">', picture)
    assert re.search(r'data-subject="shop.restocked"><g class="subject untyped">', picture)
    # Producers on the left, consumers on the right, ledger included though it runs nowhere.
    assert ">shop</text>" in picture and ">ledger</text>" in picture
    assert 'class="edge durable typed"' in picture  # ledger's durable, typed handler
    assert 'class="edge untyped"' in picture  # its broadcast handler that takes any JSON
    # Descriptions come from module code: escaped, never markup.
    assert "<script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; its buyer" in response.text
    assert re.search(
        r"Built from 3 module\(s\): auth \S+, ledger \S+, shop 1\.2\.0\.", response.text
    )


async def test_a_subject_shows_its_schema_an_example_and_where_to_watch_it(
    webos: KernelHarness, tmp_path: Path
) -> None:
    app = await _gateway(webos, tmp_path)
    token = await login(app)
    response = await app.client.get(
        "/console/catalog/subject", params={"subject": "shop.sold"}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    page = response.text
    schema = _pre(page, "schema")
    assert isinstance(schema, dict)
    assert set(schema["required"]) == {"sku", "quantity", "buyer"}
    assert schema["properties"]["buyer"]["format"] == "email"
    assert _pre(page, "example") == {"sku": "string", "quantity": 0, "buyer": "user@example.org"}
    assert 'href="/console/events?subject=shop.sold"' in page
    assert "&lt;script&gt;" in page and "<script>" not in page
    consumers = re.search(r'<table class="table consumers">.*?</table>', page, re.S)
    assert consumers, page
    rows = consumers.group(0)
    assert "durable, queue <code>" in rows and "ledger" in rows and "shop.*" in rows
    assert "every instance" in rows  # the broadcast handler

    untyped = await app.client.get(
        "/console/catalog/subject", params={"subject": "shop.restocked"}, headers=bearer(token)
    )
    assert untyped.status_code == 200
    assert "No producer declares a model: any JSON" in untyped.text

    missing = await app.client.get(
        "/console/catalog/subject", params={"subject": "shop.nope"}, headers=bearer(token)
    )
    assert missing.status_code == 404
    assert "No subject &#39;shop.nope&#39; in the catalog" in missing.text
    assert "shop.sold" in missing.text


async def test_the_catalog_needs_system_read(webos: KernelHarness, tmp_path: Path) -> None:
    app = await _gateway(webos, tmp_path, roles='{"viewer": ["console.view"]}')
    admin = await login(app)
    _, viewer = await add_user(app, admin, "viewer@example.org", ["viewer"])
    for url in (
        "/console/catalog",
        "/console/catalog/graph",
        "/console/catalog/subject?subject=shop.sold",
    ):
        response = await app.client.get(url, headers=bearer(viewer))
        assert response.status_code == 403, url
        assert "shop.sold" not in response.text
    # Neither the sidebar nor the palette offers it (nor names a subject) to the viewer.
    shell = await app.client.get("/console", headers=bearer(viewer))
    assert shell.status_code == 200 and "/console/catalog" not in shell.text
    assert "shop.sold" not in shell.text
    home = await app.client.get("/console", headers=bearer(admin))
    assert "Catalog: shop.sold" in home.text
    granted = await app.client.get("/console/catalog", headers=bearer(admin))
    assert granted.status_code == 200 and 'hx-get="/console/catalog/graph"' in granted.text


async def test_from_the_catalog_to_a_subject_to_its_live_events(
    webos: KernelHarness, tmp_path: Path, browser: Any
) -> None:
    app = await _gateway(webos, tmp_path)
    page = await browser.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    await sign_in(page, app.url, ADMIN_EMAIL, ADMIN_PASSWORD)

    # The sidebar entry, reached and followed with the keyboard.
    await page.get_by_role("link", name="Catalog").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{app.url}/console/catalog")
    node = page.locator('svg.contracts-graph a[data-subject="shop.sold"]')
    await expect(node).to_be_visible()
    await expect(page.locator("svg.contracts-graph text", has_text="ledger")).to_be_visible()
    await page.screenshot(path=shot_path("catalog"), full_page=True)

    await node.click()
    await page.wait_for_url(f"{app.url}/console/catalog?subject=shop.sold")
    detail = page.locator("#subject-detail")
    await expect(detail.locator("pre.schema").first).to_contain_text('"buyer"')
    await expect(detail.locator("pre.example")).to_contain_text('"user@example.org"')
    await page.screenshot(path=shot_path("catalog-subject"), full_page=True)

    await detail.get_by_role("link", name="Watch live").click()
    await page.wait_for_url(f"{app.url}/console/events?subject=shop.sold")
    await expect(page.locator("#subject")).to_have_value("shop.sold")
    await expect(page.locator("#events-status")).to_contain_text("shop.sold")

    # Every subject is in the command palette too.
    await page.keyboard.press("Control+k")
    await expect(page.locator("#palette-input")).to_be_focused()
    await page.keyboard.type("catalog shop.restocked")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{app.url}/console/catalog?subject=shop.restocked")
    await expect(page.locator("#subject-detail")).to_contain_text("any JSON")
    selected = page.locator('svg.contracts-graph a[aria-current="true"]')
    await expect(selected).to_have_attribute("data-subject", "shop.restocked")
    await page.close()
    assert refused == []
