"""One trace from an HTTP request to a task in a worker, across three processes.

The gateway (this process) serves ``POST /api/shop/buy``, which emits ``shop.sold``; the
``billing`` module, running as ``webos module run billing``, handles it and sends a task that a
``webos worker`` process runs. Every process writes its finished spans to the same
``WEBOS_TRACE_FILE``; the test follows the parent links from the worker's span back to the
gateway's server span.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kernel.telemetry import TRACE_FILE_ENV, Telemetry
from kernel.testing import KernelHarness, write_module
from tests.telemetry._spans import wait_for_chain, wait_for_span

SHOP_ROUTER = """
from litestar import post
from kernel import ThisModule
from kernel.auth import PUBLIC


@post("/buy", opt=PUBLIC)
async def buy(module: ThisModule) -> dict:
    return {"event_id": await module.emit("shop.sold", {"sku": "lamp"})}
"""

BILLING_EVENTS = """
from kernel import on
from billing.tasks import invoice


@on("shop.sold", durable={durable})
async def bill(payload: dict) -> None:
    await invoice.kiq(payload["sku"])
"""

BILLING_TASKS = """
from kernel.tasks import task


@task
async def invoice(sku: str) -> str:
    return f"invoiced {sku}"
"""


@pytest.fixture
def trace_file(recording: tuple[Telemetry, Path]) -> Path:
    """A trace file written by this process (the gateway) and every child process."""
    return recording[1]


def shop_and_billing(root: Path, *, durable: bool) -> Path:
    write_module(
        root, "shop", {"router.py": SHOP_ROUTER}, manifest='name = "shop"\nemits = ["shop.sold"]\n'
    )
    write_module(
        root,
        "billing",
        {"events.py": BILLING_EVENTS.format(durable=durable), "tasks.py": BILLING_TASKS},
    )
    return root


@pytest.mark.parametrize("durable", [False, True], ids=["core", "durable"])
async def test_one_trace_from_http_request_to_worker_task(
    webos: KernelHarness, tmp_path: Path, trace_file: Path, durable: bool
) -> None:
    modules = shop_and_billing(tmp_path / "mods", durable=durable)
    env = {TRACE_FILE_ENV: str(trace_file)}
    app = await webos.start(["shop"], modules_path=modules)
    module = await webos.run_module("billing", modules_path=modules, **env)
    worker = await webos.run_worker("billing", modules_path=modules, **env)

    response = await app.client.post("/api/shop/buy")
    assert response.status_code == 201, response.text

    chain = await wait_for_chain(
        trace_file, lambda s: s["name"] == "billing.invoice process" and s["pid"] == worker.pid
    )
    names = [(span["service"], span["kind"], span["name"]) for span in reversed(chain)]
    assert names == [
        ("webos-gateway", "SERVER", "POST /api/shop/buy"),
        ("webos-gateway", "PRODUCER", "shop.sold publish"),
        ("webos-module", "CONSUMER", "shop.sold process"),
        ("webos-module", "PRODUCER", "billing.invoice send"),
        ("webos-worker", "CONSUMER", "billing.invoice process"),
    ], names
    assert len({span["trace_id"] for span in chain}) == 1
    assert [span["pid"] for span in reversed(chain)] == [
        os.getpid(),
        os.getpid(),
        module.pid,
        module.pid,
        worker.pid,
    ]
    assert all(span["status"] != "ERROR" for span in chain)
    assert chain[0]["attributes"]["webos.task"] == "billing.invoice"
    server = chain[-1]
    assert server["parent_span_id"] is None
    assert server["attributes"]["http.route"] == "/api/shop/buy"


async def test_incoming_traceparent_continues_the_callers_trace(
    webos: KernelHarness, tmp_path: Path, trace_file: Path
) -> None:
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    modules = shop_and_billing(tmp_path / "mods", durable=False)
    app = await webos.start(["shop"], modules_path=modules)

    response = await app.client.post("/api/shop/buy", headers={"traceparent": caller})

    assert response.status_code == 201
    server = await wait_for_span(trace_file, lambda s: s["name"] == "POST /api/shop/buy")
    assert server["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert server["parent_span_id"] == "b7ad6b7169203331"


CALC_ROUTER = """
from litestar import get
from litestar.params import FromPath
from kernel.auth import PUBLIC


@get("/twice/{n:int}", opt=PUBLIC)
async def twice(n: FromPath[int]) -> dict:
    return {"n": 2 * n}
"""

CALC_SERVICES = """
from kernel import service


@service("calc")
class Calc:
    async def add(self, a: int, b: int) -> int:
        return a + b
"""

FRONT_ROUTER = """
from litestar import get
from kernel import registry
from kernel.auth import PUBLIC


@get("/sum", opt=PUBLIC)
async def total() -> dict:
    return {"sum": await registry.get("calc").add(2, 3)}
"""


async def test_forwarded_requests_and_service_calls_join_the_trace(
    webos: KernelHarness, tmp_path: Path, trace_file: Path
) -> None:
    root = tmp_path / "mods"
    write_module(root, "calc", {"router.py": CALC_ROUTER, "services.py": CALC_SERVICES})
    write_module(root, "front", {"router.py": FRONT_ROUTER})
    app = await webos.start(["front"], modules_path=root)
    calc = await webos.run_module("calc", modules_path=root, **{TRACE_FILE_ENV: str(trace_file)})

    assert (await app.client.get("/api/calc/twice/4")).json() == {"n": 8}
    assert (await app.client.get("/api/front/sum")).json() == {"sum": 5}

    served = await wait_for_chain(
        trace_file,
        lambda s: s["kind"] == "SERVER" and s["pid"] == calc.pid and "twice" in s["name"],
    )
    assert [(s["kind"], s["name"]) for s in reversed(served)] == [
        ("SERVER", "GET /api/calc/twice/{n}"),
        ("CLIENT", "forward calc"),
        ("SERVER", "GET /api/calc/twice/{n}"),
    ]
    called = await wait_for_chain(
        trace_file, lambda s: s["name"] == "calc/add" and s["kind"] == "SERVER"
    )
    assert called[0]["pid"] == calc.pid
    assert [(s["kind"], s["name"]) for s in reversed(called)] == [
        ("SERVER", "GET /api/front/sum"),
        ("CLIENT", "calc/add"),
        ("SERVER", "calc/add"),
    ]
