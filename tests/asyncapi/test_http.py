"""``/schema/asyncapi.json`` and ``/schema/asyncapi`` on a real gateway, a consumer standalone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from kernel.auth import STRICT_POLICY
from kernel.testing import KernelHarness, RunningKernel
from tests.asyncapi._modules import write_shop_and_ledger
from tests.asyncapi.test_document import problems


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_shop_and_ledger(root)
    return root


@pytest.fixture
async def gateway(webos: KernelHarness, modules_path: Path) -> RunningKernel:
    """The gateway runs shop; ledger, the consumer, runs as a process of its own."""
    await webos.run_module("ledger", modules_path=modules_path)
    return await webos.start(modules_path=modules_path, exclude=["ledger"])


async def test_the_catalog_lists_a_subject_with_its_producer_and_a_standalone_consumer(
    gateway: RunningKernel,
) -> None:
    assert "ledger" not in gateway.kernel.modules  # the consumer is not in this process
    answer = await gateway.client.get(
        "/schema/asyncapi.json", headers=gateway.auth_headers(["admin"])
    )
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert problems(doc) == []
    sold = doc["channels"]["shop.sold"]["messages"]["shop"]
    assert sold["x-webos-producers"] == ["shop"]
    payload = doc["components"]["schemas"][sold["payload"]["$ref"].rsplit("/", 1)[-1]]
    assert payload["title"] == "Sold" and payload["required"] == ["order", "items"]
    consumers = {
        (op["x-webos-module"], op["x-webos-handler"], op["x-webos-durable"])
        for op in doc["operations"].values()
        if op["action"] == "receive" and op["channel"] == {"$ref": "#/channels/shop.sold"}
    }
    assert consumers == {
        ("ledger", "ledger.events.book", True),
        ("ledger", "ledger.events.count", False),
    }
    assert doc["servers"]["nats"]["protocol"] == "nats"
    assert "@" not in doc["servers"]["nats"]["host"]  # the NATS credentials stay out


async def test_the_page_shows_subjects_producers_consumers_and_services(
    gateway: RunningKernel,
) -> None:
    answer = await gateway.client.get("/schema/asyncapi", headers=gateway.auth_headers(["admin"]))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-security-policy"] == STRICT_POLICY
    assert answer.headers["x-frame-options"] == "DENY"
    page = answer.text
    assert "<code>shop.sold</code>" in page and "an order was paid" in page
    assert "ledger.events.book" in page and "till.receipt" in page
    assert "<script" not in page and "http" not in page.replace("/schema/asyncapi.json", "")
    css = await gateway.client.get("/schema/asyncapi/static/catalog.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


@pytest.mark.parametrize("path", ["/schema/asyncapi.json", "/schema/asyncapi"])
async def test_the_catalog_needs_system_read(gateway: RunningKernel, path: str) -> None:
    async with httpx.AsyncClient(base_url=gateway.url) as anonymous:
        assert (await anonymous.get(path)).status_code == 401
        lacking = gateway.auth_headers(["user"])
        assert (await anonymous.get(path, headers=lacking)).status_code == 403
    # The OpenAPI document beside it is untouched.
    assert (await gateway.client.get("/schema/openapi.json")).status_code == 200


async def test_the_example_modules_greeter_produces_and_audit_standalone_consumes(
    webos: KernelHarness,
) -> None:
    await webos.run_module("audit")
    gateway = await webos.start(["greeter", "audit"], exclude=["audit"])
    answer = await gateway.client.get(
        "/schema/asyncapi.json", headers=gateway.auth_headers(["admin"])
    )
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    greeted = doc["channels"]["greeter.greeted"]
    assert [m["x-webos-producers"] for m in greeted["messages"].values()] == [["greeter"]]
    receivers = {
        (op["x-webos-module"], op["x-webos-pattern"])
        for op in doc["operations"].values()
        if op["action"] == "receive" and op["channel"] == {"$ref": "#/channels/greeter.greeted"}
    }
    # audit's record-everything handler and its typed greeting count.
    assert receivers == {("audit", ">"), ("audit", "greeter.greeted")}
    [message] = greeted["messages"].values()
    payload = _resolved(doc, message["payload"])
    assert payload["required"] == ["name", "greeting"]
    assert set(payload["properties"]) == {"name", "greeting"}
    assert problems(doc) == []


def _resolved(doc: dict, schema: dict) -> dict:
    """``schema``, or what its ``$ref`` points at in ``doc``."""
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema
