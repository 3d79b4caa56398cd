"""``ui.py``: declarations, validation, permissions on contributed URLs, slots, remote modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kernel.console import App, Catalog, Command, SlotItem, Widget
from kernel.errors import ModuleError
from kernel.testing import KernelHarness, write_module

SHOP_UI = """
from litestar import Response, get
from kernel.console import App, PageSlot, SlotItem, Widget, fragment

app = App(name="orders", title="Orders", route="/console", permission="shop.read")
widgets = [Widget(name="sales", title="Sales", url="/console/sales")]
order_extras = PageSlot(name="order", title="Order extras")
help_link = SlotItem(name="help", title="Shop help", slot="sidebar", url="/help", kind="link")


@get("/console")
async def orders() -> Response[str]:
    return fragment('<div hx-get="/console/slots/shop.order" hx-trigger="load"></div>')


@get("/console/detail")
async def detail() -> Response[str]:
    return fragment("detail")


@get("/console/sales")
async def sales() -> Response[str]:
    return fragment("<p>42 sold</p>")
"""

LABELS_UI = """
from litestar import Response, get
from kernel.console import SlotItem, fragment

label = SlotItem(name="label", title="Print label", slot="shop.order", url="/console/label")


@get("/console/label")
async def print_label() -> Response[str]:
    return fragment("<button>Print label</button>")
"""


def test_declarations_are_validated() -> None:
    with pytest.raises(ValidationError, match="not a name"):
        App(name="Bad Name", title="x", route="/x")
    with pytest.raises(ValidationError, match="concrete permission"):
        Widget(name="w", title="w", url="/w", permission="shop.*")
    with pytest.raises(ValidationError, match="starting with '/'"):
        App(name="a", title="a", route="https://elsewhere.example/")
    with pytest.raises(ValidationError, match="exactly one of url or goto"):
        Command(name="c", title="c")
    with pytest.raises(ValidationError, match="console path"):
        Command(name="c", title="c", goto="/api/x")
    with pytest.raises(ValidationError, match="slot name"):
        SlotItem(name="s", title="s", slot="Side Bar", url="/s")


def test_the_catalog_guards_contributed_urls_and_the_pages_below_an_app() -> None:
    catalog = Catalog()
    catalog.add("shop", [App(name="o", title="O", route="/console", permission="shop.read")])
    assert catalog.permission_for("/api/shop/console") == "shop.read"
    assert catalog.permission_for("/api/shop/console/detail/7") == "shop.read"
    assert catalog.permission_for("/api/shop/consoles") is None
    assert catalog.permission_for("/api/other/console") is None
    with pytest.raises(ValueError, match="two Apps named 'o'"):
        catalog.add("shop", [App(name="o", title="Again", route="/again")])


async def test_a_broken_ui_py_stops_start_up_naming_the_module(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_module(tmp_path, "shop", {"ui.py": "from kernel.console import App\nApp(name='X')\n"})
    with pytest.raises(ModuleError, match=r"module 'shop' failed to load ui\.py"):
        await webos.start(["shop"], modules_path=tmp_path)


async def test_contributions_permissions_and_page_slots(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_module(tmp_path, "shop", {"ui.py": SHOP_UI})
    write_module(tmp_path, "labels", {"ui.py": LABELS_UI})
    app = await webos.start(
        ["shop", "labels"], modules_path=tmp_path, roles='{"clerk": ["console.view"]}'
    )
    admin = app.auth_headers(["admin"])
    clerk = app.auth_headers(["clerk"])

    home = await app.client.get("/console", headers=admin)
    assert home.status_code == 200
    assert 'href="/console/apps/shop/orders"' in home.text
    assert 'hx-get="/api/shop/console/sales"' in home.text
    assert 'href="/api/shop/help"' in home.text  # a sidebar link
    slot = await app.client.get("/console/slots/shop.order", headers=admin)
    assert 'hx-get="/api/labels/console/label"' in slot.text

    # The clerk lacks shop.read: no Orders app, and its URLs answer 403.
    clerk_home = await app.client.get("/console", headers=clerk)
    assert clerk_home.status_code == 200
    assert "/console/apps/shop/orders" not in clerk_home.text
    assert 'hx-get="/api/shop/console/sales"' in clerk_home.text  # no permission needed
    for url in ("/console/apps/shop/orders", "/api/shop/console", "/api/shop/console/detail"):
        assert (await app.client.get(url, headers=clerk)).status_code == 403, url
    assert (await app.client.get("/api/shop/console", headers=admin)).status_code == 200
    # No system views for the clerk either.
    assert (await app.client.get("/console/nodes", headers=clerk)).status_code == 403


async def test_contributions_of_a_module_running_elsewhere_are_shown_and_forwarded(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_module(tmp_path, "shop", {"ui.py": SHOP_UI})
    write_module(tmp_path, "labels", {"ui.py": LABELS_UI})
    app = await webos.start(["labels"], modules_path=tmp_path)
    admin = app.auth_headers(["admin"])
    # Declared (from shop's ui.py) but not running yet: shown, and the fragment says so.
    home = await app.client.get("/console", headers=admin)
    assert 'href="/console/apps/shop/orders"' in home.text
    assert (await app.client.get("/api/shop/console/sales", headers=admin)).status_code == 503
    await webos.run_module("shop", modules_path=tmp_path)
    sales = await app.client.get("/api/shop/console/sales", headers=admin)
    assert sales.status_code == 200 and sales.text == "<p>42 sold</p>"
    clerk = app.auth_headers(["user"])
    assert (await app.client.get("/api/shop/console", headers=clerk)).status_code == 403
