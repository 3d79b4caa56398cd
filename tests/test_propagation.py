"""The one propagation seam: a cross-cutting header added in one place travels with events and
tasks alike, and is restored around the work that receives it."""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from pathlib import Path

import pytest

from kernel.context import current_deadline, time_left
from kernel.errors import DeadlineExceeded
from kernel.propagation import HEADER_DEADLINE, ContextValue, Propagation, call_deadline
from kernel.testing import KernelHarness, write_module


def test_inject_extract_and_undo() -> None:
    tenant, region = ContextVar("t", default=None), ContextVar("r", default=None)
    propagation = Propagation([ContextValue("x-tenant", tenant)])
    propagation.add(ContextValue("x-region", region))
    assert propagation.headers == {"x-tenant", "x-region"}

    tenant.set("acme")
    assert propagation.inject({}) == {"x-tenant": "acme"}  # a value not set is not sent

    undo = propagation.extract({"x-tenant": "globex", "x-region": "eu"})
    assert (tenant.get(), region.get()) == ("globex", "eu")
    undo()
    assert (tenant.get(), region.get()) == ("acme", None)


def test_a_message_without_a_header_clears_what_the_receiver_had_and_undo_restores_it() -> None:
    tenant, region = ContextVar("t2", default=None), ContextVar("r2", default=None)
    propagation = Propagation([ContextValue("x-tenant", tenant), ContextValue("x-region", region)])

    undo = propagation.extract({})  # nothing carried, nothing held: nothing changes
    assert (tenant.get(), region.get()) == (None, None)
    undo()
    assert (tenant.get(), region.get()) == (None, None)

    tenant.set("acme")
    undo = propagation.extract({"x-region": "eu"})  # the sender had no tenant: neither does this
    assert (tenant.get(), region.get()) == (None, "eu")
    undo()
    assert (tenant.get(), region.get()) == ("acme", None)


MODULE_EVENTS = """
from contextvars import ContextVar
from kernel import on, registry

tenant: ContextVar = ContextVar("shop_tenant", default=None)

@on("shop.sold")
async def sold(payload: dict) -> None:
    registry.get("seen").append(("event", tenant.get()))
"""
MODULE_SERVICES = """
from kernel import service

@service("seen")
def seen() -> list:
    return []
"""
MODULE_TASKS = """
from kernel import registry
from kernel.tasks import task

from .events import tenant

@task
async def invoice() -> None:
    registry.get("seen").append(("task", tenant.get()))
"""


async def test_a_header_added_once_travels_with_events_and_tasks(
    webos: KernelHarness, tmp_path: Path
) -> None:
    files = {"events.py": MODULE_EVENTS, "services.py": MODULE_SERVICES, "tasks.py": MODULE_TASKS}
    write_module(tmp_path / "m", "shop", files)
    app = await webos.start(modules_path=tmp_path / "m", tasks_worker=True)
    import shop.events  # type: ignore[import-not-found]  # the module the kernel loaded
    import shop.tasks  # type: ignore[import-not-found]

    app.kernel.propagation.add(ContextValue("webos-tenant", shop.events.tenant))
    wire = await app.subscribe("shop.sold")
    seen = app.kernel.registry.get("seen")

    token = shop.events.tenant.set("acme")
    try:
        await app.kernel.bus.emit("shop.sold", {})
        await shop.tasks.invoice.kiq()
    finally:
        shop.events.tenant.reset(token)
    await app.kernel.bus.emit("shop.sold", {})  # no tenant: none travels

    assert (await wire.next()).headers["webos-tenant"] == "acme"
    assert "webos-tenant" not in (await wire.next()).headers
    for _ in range(500):  # a bound on failure, not a timing
        if len(seen) == 3:
            break
        await asyncio.sleep(0.01)
    assert sorted(seen, key=str) == sorted(
        [("event", "acme"), ("task", "acme"), ("event", None)], key=str
    )


def test_the_deadline_goes_with_calls_never_with_events_or_tasks() -> None:
    propagation = Propagation.default()
    token = current_deadline.set(time.monotonic() + 2.0)
    try:
        oneway = propagation.inject({})
        awaited = propagation.inject({}, awaited=True)
    finally:
        current_deadline.reset(token)

    assert HEADER_DEADLINE not in oneway
    assert 0 < int(awaited[HEADER_DEADLINE]) <= 2000
    # An event that carries one anyway (a client outside the kernel) sets no deadline.
    undo = propagation.extract({HEADER_DEADLINE: "5"})
    assert time_left() is None
    undo()
    undo = propagation.extract({HEADER_DEADLINE: "5000"}, awaited=True)
    left = time_left()
    undo()
    assert left is not None and 0 < left <= 5.0
    assert time_left() is None


def test_a_call_with_no_time_left_is_refused_and_the_shorter_wait_is_sent() -> None:
    headers: dict[str, str] = {}
    assert call_deadline(3.0, headers, "x.y()") == 3.0
    assert headers == {}  # no deadline in force: the callee is told none
    token = current_deadline.set(time.monotonic() + 1.0)
    try:
        assert call_deadline(3.0, headers, "x.y()") <= 1.0
        assert int(headers[HEADER_DEADLINE]) <= 1000
        current_deadline.set(time.monotonic() - 0.1)
        with pytest.raises(DeadlineExceeded, match=r"x\.y\(\) was not sent"):
            call_deadline(3.0, {}, "x.y()")
    finally:
        current_deadline.reset(token)


def test_a_malformed_deadline_header_is_ignored_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    undo = Propagation.default().extract({HEADER_DEADLINE: "soon"}, awaited=True)
    undo()

    assert time_left() is None
    assert "ignored a webos-deadline header" in caplog.text
