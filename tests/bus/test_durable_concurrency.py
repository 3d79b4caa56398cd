"""``@on(..., durable=True, concurrency=N)``: up to N events of a handler in hand at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kernel.bus import EVENTS_STREAM, on
from kernel.testing import KernelHarness, write_module

SERVICES = """
import asyncio
from kernel import service

@service("gate")
class Gate:
    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.order: list[int] = []
        self.open = asyncio.Event()

    async def through(self, n: int) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.open.wait()
            self.order.append(n)
        finally:
            self.running -= 1
"""
EVENTS = """
from kernel import on, registry

@on("work.parallel", durable=True, concurrency=3)
async def parallel(payload: dict) -> None:
    await registry.get("gate").through(payload["n"])

@on("work.serial", durable=True)
async def serial(payload: dict) -> None:
    await registry.get("gate").through(payload["n"])
"""


async def _until(check, what: str) -> None:
    for _ in range(400):  # a bound on failure, not a timing
        if check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting for {what}")


async def test_up_to_n_events_run_at_once_and_one_keeps_order(
    webos: KernelHarness, tmp_path: Path
) -> None:
    write_module(tmp_path / "m", "work", {"services.py": SERVICES, "events.py": EVENTS})
    app = await webos.start(["work"], modules_path=tmp_path / "m")
    gate = app.kernel.registry.get("gate")
    for n in range(6):
        await app.kernel.bus.emit("work.parallel", {"n": n})

    await _until(lambda: gate.running == 3, "three events in hand")
    # Six are waiting to be handled; the other three stay with JetStream, not in this process.
    js = app.kernel.bus.nats.jetstream()
    [parallel] = [
        info for info in await js.consumers_info(EVENTS_STREAM) if info.name.endswith("parallel")
    ]
    assert parallel.num_ack_pending == 3 and parallel.num_pending == 3
    gate.open.set()
    await _until(lambda: len(gate.order) == 6, "all six")
    assert gate.most == 3

    gate.most, gate.order = 0, []
    for n in range(6):
        await app.kernel.bus.emit("work.serial", {"n": n})
    await _until(lambda: len(gate.order) == 6, "the serial six")
    assert gate.most == 1 and gate.order == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("concurrency", [0, -1, 1.5, True])
def test_concurrency_is_a_whole_number_of_at_least_one(concurrency: object) -> None:
    with pytest.raises(TypeError, match="concurrency must be a whole number"):
        on("work.x", durable=True, concurrency=concurrency)  # type: ignore[arg-type]


def test_concurrency_is_for_durable_handlers() -> None:
    with pytest.raises(TypeError, match="concurrency applies to durable handlers"):
        on("work.x", concurrency=4)
