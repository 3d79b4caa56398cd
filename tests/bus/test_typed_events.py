"""Typed events on a real nats-server: ``event(subject, Model)`` in ``events.py`` makes every emit
on the subject validated against the model (``WEBOS_EVENT_VALIDATION``), and the manifest's
``emits`` must cover what a module declares."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import BaseModel

from kernel import bus
from kernel.bus import EventPayloadInvalid, event
from kernel.errors import ModuleError
from kernel.tasks import TasksSubsystem, TaskState, wait_for_status
from kernel.testing import KernelHarness, MessageCollector, write_module

SHOP_EVENTS = """
from pydantic import BaseModel
from kernel import event

class SoldPayload(BaseModel):
    sku: str
    quantity: int

Sold = event("shop.sold", SoldPayload, description="Something was sold.")
"""
SHOP_ROUTER = """
from litestar import post
from litestar.params import JSONBody
from kernel.auth import PUBLIC
from .events import Sold

@post("/sell", status_code=200, opt=PUBLIC)
async def sell(data: JSONBody[dict]) -> dict:
    return {"event_id": await Sold.emit(sku=data["sku"], quantity=data["quantity"])}
"""
SHOP_MANIFEST = 'name = "shop"\nemits = ["shop.*"]\n'


def write_shop(root: Path, *, manifest: str = SHOP_MANIFEST) -> None:
    write_module(
        root, "shop", {"events.py": SHOP_EVENTS, "router.py": SHOP_ROUTER}, manifest=manifest
    )


async def only_valid_arrived(events: MessageCollector) -> dict:
    """The next event on ``events``, after emitting a valid greeting: nothing sent before it."""
    await bus.emit("greeter.greeted", {"name": "Ada", "greeting": "Hello, Ada!"})
    return (await events.next()).json()


async def test_a_payload_that_breaks_the_model_is_refused_naming_the_field(
    webos: KernelHarness,
) -> None:
    app = await webos.start(["greeter"])
    events = await app.subscribe("greeter.>")

    with pytest.raises(EventPayloadInvalid) as raised:
        await bus.emit("greeter.greeted", {"greeting": "Hello, Ada!"})
    with pytest.raises(EventPayloadInvalid) as through_module:
        await app.kernel.modules["greeter"].context.emit("greeter.greeted", {"name": 7})

    assert str(raised.value) == (
        "greeter.greeted: payload does not match GreetedPayload: name: Field required"
    )
    assert str(through_module.value) == (
        "greeter.greeted: payload does not match GreetedPayload: "
        "name: Input should be a valid string; greeting: Field required"
    )
    assert await only_valid_arrived(events) == {"name": "Ada", "greeting": "Hello, Ada!"}


async def test_warn_logs_once_naming_subject_module_and_field_and_sends(
    webos: KernelHarness, caplog: pytest.LogCaptureFixture
) -> None:
    app = await webos.start(["greeter"], event_validation="warn")
    events = await app.subscribe("greeter.>")

    with caplog.at_level(logging.WARNING, logger="webos.bus"):
        await app.kernel.modules["greeter"].context.emit("greeter.greeted", {"nom": "Ada"})

    assert (await events.next()).json() == {"nom": "Ada"}
    [warning] = [r for r in caplog.records if "does not match" in r.getMessage()]
    message = warning.getMessage()
    assert warning.levelno == logging.WARNING
    assert message.startswith("greeter.greeted: payload does not match GreetedPayload: name:")
    assert "emitted by greeter" in message and "WEBOS_EVENT_VALIDATION=warn" in message


async def test_off_sends_without_validating(
    webos: KernelHarness, caplog: pytest.LogCaptureFixture
) -> None:
    app = await webos.start(["greeter"], event_validation="off")
    events = await app.subscribe("greeter.>")

    with caplog.at_level(logging.WARNING, logger="webos.bus"):
        await bus.emit("greeter.greeted", {"nom": "Ada"})

    assert (await events.next()).json() == {"nom": "Ada"}
    assert not [r for r in caplog.records if "does not match" in r.getMessage()]


async def test_a_route_emits_through_its_event_type(webos: KernelHarness, tmp_path: Path) -> None:
    write_shop(tmp_path)
    app = await webos.start(["shop"], modules_path=tmp_path)
    events = await app.subscribe("shop.>")

    bad = await app.client.post("/api/shop/sell", json={"sku": "lamp", "quantity": "many"})
    good = await app.client.post("/api/shop/sell", json={"sku": "lamp", "quantity": "2"})

    assert bad.status_code == 500  # the module broke its own contract: logged, not leaked
    assert good.status_code == 200, good.text
    first = await events.next()  # the refused emit sent nothing: the valid one comes first
    assert first.json() == {"sku": "lamp", "quantity": 2}  # as the model has it
    assert first.headers["webos-source"] == "shop"
    assert first.headers["webos-event-id"] == good.json()["event_id"]


async def test_load_refuses_a_declared_event_its_manifest_does_not_emit(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_shop(tmp_path, manifest='name = "shop"\nemits = ["shop.refunded"]\n')

    with pytest.raises(ModuleError) as raised:
        await webos.start(["shop"], modules_path=tmp_path)

    message = str(raised.value)
    assert "module 'shop' declares event 'shop.sold'" in message
    assert str(tmp_path / "shop" / "module.toml") in message
    assert raised.value.modules == ("shop",)


async def test_two_modules_declaring_one_subject_is_a_load_error_naming_both(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_shop(tmp_path)
    write_module(
        tmp_path,
        "outlet",
        {"events.py": SHOP_EVENTS},
        manifest=SHOP_MANIFEST.replace("shop", "outlet", 1),
    )

    with pytest.raises(ModuleError) as raised:
        await webos.start(["shop", "outlet"], modules_path=tmp_path)

    assert "declared by both module" in str(raised.value)
    assert sorted(raised.value.modules) == ["outlet", "shop"]


async def test_an_imported_declaration_is_not_declared_again(
    webos: KernelHarness, tmp_path: Path
) -> None:
    """``@on(Sold.subject)`` in another module's events.py consumes; it does not produce."""
    write_shop(tmp_path)
    listener = "from shop.events import Sold\nfrom kernel import on\n\n" + (
        "@on(Sold.subject)\nasync def heard(payload: dict) -> None:\n    pass\n"
    )
    write_module(tmp_path, "till", {"events.py": listener})

    app = await webos.start(["shop", "till"], modules_path=tmp_path)

    assert app.kernel.bus.declaration("shop.sold").module == "shop"


# bus.emit, not Sold.emit: only the worker's declarations can check it.
SHOP_TASKS = """
from kernel import bus
from kernel.tasks import task

@task(retries=0)
async def restock(quantity: object) -> str:
    return await bus.emit("shop.sold", {"sku": "lamp", "quantity": quantity})
"""
SHOP_TASK_ROUTER = """
from litestar import post
from litestar.params import JSONBody
from .tasks import restock

@post("/restock", status_code=202)
async def send(data: JSONBody[dict]) -> dict:
    return {"task_id": (await restock.kiq(data["quantity"])).task_id}
"""


async def test_a_worker_validates_what_its_tasks_emit(webos: KernelHarness, tmp_path: Path) -> None:
    """A worker runs no handlers, yet the declarations of events.py hold for its tasks' emits."""
    write_module(
        tmp_path,
        "shop",
        {"events.py": SHOP_EVENTS, "tasks.py": SHOP_TASKS, "router.py": SHOP_TASK_ROUTER},
        manifest=SHOP_MANIFEST,
    )
    webos.sign_in_as("admin")
    app = await webos.start(["shop"], modules_path=tmp_path)  # no in-process worker (NATS URL set)
    await webos.run_worker("shop", modules_path=tmp_path)
    events = await app.subscribe("shop.>")

    bad = await app.client.post("/api/shop/restock", json={"quantity": "many"})
    good = await app.client.post("/api/shop/restock", json={"quantity": 3})

    store = app.kernel.get(TasksSubsystem).store
    refused = await wait_for_status(store, bad.json()["task_id"])
    sent = await wait_for_status(store, good.json()["task_id"])
    assert refused.state is TaskState.FAILED, refused
    assert "shop.sold: payload does not match SoldPayload: quantity:" in (refused.error or "")
    assert sent.state is TaskState.SUCCEEDED, sent
    assert (await events.next()).json() == {"sku": "lamp", "quantity": 3}


class Parcel(BaseModel):
    weight: int


async def test_an_event_type_no_module_here_declares_still_checks_its_emits(
    webos: KernelHarness,
) -> None:
    """A script or a test emitting through an ``event(...)`` of its own: no module of the process
    declared it, so ``EventType.emit`` checks it itself."""
    Shipped = event("post.shipped", Parcel)
    app = await webos.start(["greeter"])
    events = await app.subscribe("post.>")

    with pytest.raises(EventPayloadInvalid, match="weight: Input should be a valid integer"):
        await Shipped.emit(weight="heavy")
    await Shipped.emit(Parcel(weight=3))

    assert app.kernel.bus.declaration("post.shipped") is None
    assert (await events.next()).json() == {"weight": 3}
