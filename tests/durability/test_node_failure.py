"""Durable events through node failure: every event a caller was told is stored gets handled.

Orders are placed through the gateway at a steady pace (``POST /api/orders/place``, which emits
``order.placed``); a standalone ``books`` module process books each one with a durable handler,
appending its number to a file. Meanwhile a NATS server dies with SIGKILL: the stream leader of a
3-node cluster, or the only server (then restarted on its store). Each order's caller heard
either 200 (stored) or 503 (not stored, retry); the test asserts that every 200 was booked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from kernel.bus import EVENTS_STREAM
from kernel.testing import KernelHarness, NatsCluster, RunningKernel, write_module

pytestmark = pytest.mark.timeout(240)

ORDERS = """
from litestar import post
from litestar.params import FromPath
from kernel import bus
from kernel.auth import PUBLIC

@post("/place/{n:int}", opt=PUBLIC, status_code=200)
async def place(n: FromPath[int]) -> dict:
    return {"id": await bus.emit("order.placed", {"n": n})}
"""
BOOKS = """
import os
from kernel import on

@on("order.placed", durable=True)
async def book(payload: dict) -> None:
    with open(os.environ["BOOKS_LEDGER"], "a") as ledger:
        ledger.write(f"{payload['n']}\\n")
"""
PACE = 0.05  # seconds between orders: a steady stream, not a flood
LANES = 4  # callers placing orders at once (an order in an election waits for its answer)


def write_shop(root: Path) -> Path:
    write_module(root, "orders", {"router.py": ORDERS})
    write_module(root, "books", {"events.py": BOOKS})
    return root


class Orders:
    """Callers placing numbered orders until told to stop; what each of them heard."""

    def __init__(self, url: str) -> None:
        self.client = httpx.AsyncClient(base_url=url, timeout=60)
        self.stored: set[int] = set()
        self.refused: dict[int, int] = {}
        self._next = 0
        self._stop = asyncio.Event()

    async def _lane(self) -> None:
        while not self._stop.is_set():
            n, self._next = self._next, self._next + 1
            try:
                answer = await self.client.post(f"/api/orders/place/{n}")
                status = answer.status_code
            except httpx.TransportError:
                status = 0  # no answer: the caller knows it was not told "stored"
            if status == 200:
                self.stored.add(n)
            else:
                self.refused[n] = status
            await asyncio.sleep(PACE)

    async def run_while(self, trouble: Callable[[], Awaitable[None]]) -> None:
        lanes = [asyncio.create_task(self._lane()) for _ in range(LANES)]
        try:
            await trouble()
        finally:
            self._stop.set()
            await asyncio.gather(*lanes)
            await self.client.aclose()


def _read_ledger(ledger: Path) -> set[int]:
    return {int(line) for line in ledger.read_text().split()} if ledger.exists() else set()


async def _booked(ledger: Path, expected: set[int]) -> set[int]:
    """What the books module booked, once it has booked everything expected (or gave up)."""
    booked: set[int] = set()
    for _ in range(600):  # a failure bound, not a speed requirement
        booked = _read_ledger(ledger)
        if expected <= booked:
            break
        await asyncio.sleep(0.1)
    return booked


async def _orders_meanwhile(
    gateway: RunningKernel, trouble: Callable[[], Awaitable[None]]
) -> Orders:
    orders = Orders(gateway.url)
    await orders.run_while(trouble)
    return orders


@pytest_asyncio.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[NatsCluster]:
    nodes = NatsCluster(tmp_path / "nats")
    nodes.start()
    try:
        yield nodes
    finally:
        nodes.stop()


async def test_no_silent_loss_when_the_stream_leader_dies(
    cluster: NatsCluster, tmp_path: Path
) -> None:
    modules = write_shop(tmp_path / "modules")
    ledger = tmp_path / "ledger.txt"
    harness = KernelHarness(cluster.url, tmp_path / "data", modules)
    try:
        gateway = await harness.start(["orders"], exclude=["books"], jetstream_replicas=3)
        await harness.run_module("books", BOOKS_LEDGER=str(ledger))
        js = gateway.kernel.bus.nats.jetstream()
        info = await js.stream_info(EVENTS_STREAM)
        assert info.config.num_replicas == 3

        async def kill_the_leader() -> None:
            await asyncio.sleep(2)
            leader = (await js.stream_info(EVENTS_STREAM)).cluster.leader
            cluster.kill(leader)
            await asyncio.sleep(12)  # an election, and orders after it

        orders = await _orders_meanwhile(gateway, kill_the_leader)
        booked = await _booked(ledger, orders.stored)
    finally:
        await harness.close()

    print(f"stored={len(orders.stored)} refused={len(orders.refused)}")  # shown with -s
    assert orders.stored, "no order was stored at all"
    assert orders.stored - booked == set(), "orders confirmed as stored were never booked"
    assert set(orders.refused.values()) <= {503, 0}, orders.refused


async def test_no_silent_loss_when_the_only_server_dies_and_comes_back(tmp_path: Path) -> None:
    modules = write_shop(tmp_path / "modules")
    ledger = tmp_path / "ledger.txt"
    single = NatsCluster(tmp_path / "nats", size=1)
    single.start()
    harness = KernelHarness(single.url, tmp_path / "data", modules)
    try:
        gateway = await harness.start(["orders"], exclude=["books"])
        await harness.run_module("books", BOOKS_LEDGER=str(ledger))

        async def kill_and_restart() -> None:
            await asyncio.sleep(2)
            single.kill("n1")
            await asyncio.sleep(3)
            single.restart("n1")
            await asyncio.sleep(8)  # reconnects, and orders after them

        orders = await _orders_meanwhile(gateway, kill_and_restart)
        booked = await _booked(ledger, orders.stored)
    finally:
        await harness.close()
        single.stop()

    assert orders.stored, "no order was stored at all"
    assert orders.stored - booked == set(), "orders confirmed as stored were never booked"
    assert set(orders.refused.values()) <= {503, 0}, orders.refused


async def test_a_caller_hears_503_while_no_server_can_store_the_event(tmp_path: Path) -> None:
    modules = write_shop(tmp_path / "modules")
    single = NatsCluster(tmp_path / "nats", size=1)
    single.start()
    harness = KernelHarness(single.url, tmp_path / "data", modules)
    try:
        gateway = await harness.start(["orders"], exclude=["books"], publish_timeout=1)
        assert (await gateway.client.post("/api/orders/place/1")).status_code == 200
        single.kill("n1")
        down = await gateway.client.post("/api/orders/place/2")
        single.restart("n1")
        for _ in range(100):  # until the gateway has reconnected (a failure bound)
            again = await gateway.client.post("/api/orders/place/3")
            if again.status_code == 200:
                break
            await asyncio.sleep(0.2)
    finally:
        await harness.close()
        single.stop()

    assert down.status_code == 503, down.text
    assert down.headers["content-type"].startswith("application/problem+json")
    assert "was not stored" in down.json()["detail"]
    assert again.status_code == 200, again.text
