"""The catalog as an AsyncAPI 3.0.0 document: valid against the official schema, read back whole."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from kernel.asyncapi import (
    ContractDocumentInvalid,
    SystemContracts,
    from_asyncapi,
    system_contracts,
    to_asyncapi,
)
from kernel.errors import ModuleError
from kernel.modules import discover
from kernel.testing import forget_modules
from tests.asyncapi._modules import write_shop_and_ledger

ROOT = Path(__file__).resolve().parents[2]
#: The official JSON schema of AsyncAPI 3.0.0 (npm @asyncapi/specs 6.11.1, schemas/3.0.0.json,
#: Apache-2.0: LICENSE.asyncapi-specs next to it).
ASYNCAPI_SCHEMA = json.loads((Path(__file__).parent / "asyncapi-3.0.0.schema.json").read_text())


@pytest.fixture
def shop(tmp_path: Path):
    write_shop_and_ledger(tmp_path)
    yield system_contracts(discover(tmp_path, include_entry_points=False).modules.values())
    forget_modules(tmp_path)


def problems(doc: dict[str, Any]) -> list[str]:
    """What the official schema finds wrong, plus references that point nowhere (the schema
    cannot see those, every AsyncAPI tool trips on them)."""
    found = [
        f"{e.json_path}: {e.message[:200]}"
        for e in Draft7Validator(ASYNCAPI_SCHEMA).iter_errors(doc)
    ]
    return found + [f"dangling $ref {ref}" for ref in _refs(doc) if not _resolves(doc, ref)]


def test_the_project_modules_make_a_valid_asyncapi_3_document() -> None:
    contracts = system_contracts(
        discover(ROOT / "modules", include_entry_points=False).modules.values()
    )
    doc = to_asyncapi(contracts, server_url="nats://webos:secret@127.0.0.1:4222")
    assert problems(doc) == []
    assert doc["asyncapi"] == "3.0.0"
    assert doc["servers"] == {"nats": {"host": "127.0.0.1:4222", "protocol": "nats"}}
    assert "secret" not in json.dumps(doc)
    assert "greeter.greeted" in doc["channels"]


def test_a_document_that_breaks_the_schema_is_caught(shop: SystemContracts) -> None:
    """The check above can fail: a misspelt action and a dangling reference are both found."""
    doc = to_asyncapi(shop)
    broken = copy.deepcopy(doc)
    broken["operations"]["shop.send.shop.sold"]["action"] = "publish"
    broken["channels"]["shop.sold"]["messages"]["shop"]["payload"] = {
        "$ref": "#/components/schemas/Nope"
    }
    found = problems(broken)
    assert any(p.startswith("$.operations['shop.send.shop.sold']") for p in found), found
    assert "dangling $ref #/components/schemas/Nope" in found


def test_a_subject_shows_its_payload_producers_consumers_and_headers(shop: SystemContracts) -> None:
    doc = to_asyncapi(shop)
    assert problems(doc) == []
    sold = doc["channels"]["shop.sold"]
    assert sold["address"] == "shop.sold"
    message = sold["messages"]["shop"]
    assert message["x-webos-producers"] == ["shop"]
    assert message["description"] == "an order was paid"
    payload = _deref(doc, message["payload"])
    assert payload["required"] == ["order", "items"]
    item = _deref(doc, payload["properties"]["items"]["items"])  # the nested model, reachable
    assert item["properties"]["sku"] == {"title": "Sku", "type": "string"}
    headers = _deref(doc, message["headers"])["properties"]
    assert {
        "webos-event-id",
        "webos-source",
        "webos-time",
        "traceparent",
        "webos-identity",
        "webos-correlation-id",
    } <= set(headers)

    receive = {k: op for k, op in doc["operations"].items() if op["action"] == "receive"}
    book = receive["ledger.events.book.receive.shop.sold"]
    assert book["x-webos-durable"] is True and book["x-webos-queue"] == "ledger__book"
    assert _deref(doc, book["x-webos-accepts"])["required"] == ["order"]
    count = receive["ledger.events.count.receive.shop.sold"]
    assert count["x-webos-pattern"] == "shop.*" and count["x-webos-queue"] == "ledger.count"
    assert count["bindings"] == {"nats": {"queue": "ledger.count", "bindingVersion": "0.1.0"}}
    assert "bindings" not in book  # a JetStream consumer, not a queue group
    assert _deref(doc, count["x-webos-accepts"]) == _deref(
        doc, {"$ref": "#/components/schemas/AnyJSON"}
    )
    assert doc["operations"]["shop.send.shop.sold"]["x-webos-module"] == "shop"
    # Declared only in the manifest: any JSON, still with its producer.
    refunded = doc["channels"]["shop.refunded"]["messages"]["shop"]
    assert refunded["payload"] == {"$ref": "#/components/schemas/AnyJSON"}


def test_a_service_method_is_a_request_reply_operation(shop: SystemContracts) -> None:
    doc = to_asyncapi(shop)
    serve = doc["operations"]["shop.serve.webos.svc.till.receipt"]
    assert serve["action"] == "receive" and serve["x-webos-idempotent"] is True
    request = _deref(doc, serve["messages"][0])
    args = _deref(doc, request["payload"]["properties"]["args"])
    assert args["required"] == ["order"] and set(args["properties"]) == {"order", "currency"}
    assert "webos-deadline" in _deref(doc, request["headers"])["properties"]
    reply = _deref(doc, serve["reply"]["messages"][0])
    result = _deref(doc, reply["payload"]["oneOf"][0]["properties"]["result"])
    assert result["title"] == "Receipt"
    assert _deref(doc, serve["reply"]["channel"])["address"] is None  # the caller's inbox


def test_reading_the_document_gives_back_the_contracts(shop: SystemContracts) -> None:
    doc = json.loads(json.dumps(to_asyncapi(shop)))  # as saved to a file and read back
    again = from_asyncapi(doc)
    assert again.channels == shop.channels
    assert again.services == shop.services
    assert again.modules == shop.modules == {"ledger": "0.1.0", "shop": "1.2.0"}
    sold = again.channels["shop.sold"]
    assert sold.schema is not None and "$defs" in sold.schema  # nested models come back inside
    assert [c.handler for c in sold.consumers] == ["ledger.events.book", "ledger.events.count"]


def test_the_project_modules_round_trip() -> None:
    contracts = system_contracts(
        discover(ROOT / "modules", include_entry_points=False).modules.values()
    )
    again = from_asyncapi(to_asyncapi(contracts))
    assert (again.channels, again.services, again.modules) == (
        contracts.channels,
        contracts.services,
        contracts.modules,
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.update(asyncapi="2.6.0"), "not an AsyncAPI 3.0.0 document"),
        (lambda d: d["operations"]["shop.send.shop.sold"].pop("x-webos-module"), "x-webos-module"),
        (lambda d: d["components"]["schemas"].pop("shop.Sold"), "no schema 'shop.Sold'"),
        (
            lambda d: d["operations"]["shop.send.shop.sold"].update(
                channel={"$ref": "#/channels/x"}
            ),
            "#/channels/x points to nothing",
        ),
    ],
)
def test_a_document_webos_did_not_write_is_refused_naming_the_place(
    shop: SystemContracts, change: Any, named: str
) -> None:
    doc = to_asyncapi(shop)
    change(doc)
    with pytest.raises(ContractDocumentInvalid) as caught:
        from_asyncapi(doc)
    assert named in str(caught.value)


def _deref(doc: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    node: Any = doc
    for part in value["$ref"][2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [r for item in value.values() for r in _refs(item)]
    if isinstance(value, list):
        return [r for item in value for r in _refs(item)]
    return []


def _resolves(doc: dict[str, Any], ref: str) -> bool:
    try:
        _deref(doc, {"$ref": ref})
    except (KeyError, TypeError):
        return False
    return True


def test_a_module_whose_code_does_not_import_is_named(tmp_path: Path) -> None:
    write_shop_and_ledger(tmp_path)
    (tmp_path / "ledger" / "events.py").write_text("from kernel import on\n\nundefined_name\n")
    try:
        with pytest.raises(ModuleError) as caught:
            system_contracts(discover(tmp_path, include_entry_points=False).modules.values())
    finally:
        forget_modules(tmp_path)
    assert caught.value.modules == ("ledger",)
    assert "module 'ledger' failed to load events.py: NameError" in str(caught.value)
    assert any("events.py:3" in frame for frame in caught.value.frames)
