"""A handler that cannot keep up holds a bounded backlog; what does not fit is dropped and counted.

Core (non-durable) events are at-most-once: a process whose handler falls behind keeps at most
``WEBOS_SUBSCRIPTION_PENDING_MESSAGES`` events and ``_BYTES`` bytes for it, and says how many it
dropped, per handler, in ``/api/system/bus``. Another handler of the same subject is unaffected.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from kernel.testing import (
    KernelHarness,
    RunningKernel,
    bearer,
    login,
    start_with_auth,
    write_module,
)

SERVICES = """
import asyncio
from kernel import service

@service("gate")
class Gate:
    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.slow = 0
        self.quick = 0

    async def through(self) -> None:
        await self.open.wait()
        self.slow += 1
"""
EVENTS = """
from kernel import on, registry

@on("flood.tick")
async def slow(payload: dict) -> None:
    await registry.get("gate").through()

@on("flood.tick")
async def quick(payload: dict) -> None:
    registry.get("gate").quick += 1
"""
LIMIT = 25
AUTH_MODULE = Path(__file__).resolve().parents[2] / "modules" / "auth"
SENT = 400


async def _until(check, what: str) -> None:
    for _ in range(400):  # a bound on failure, not a timing
        if await check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting for {what}")


def _handler(stats: dict, name: str) -> dict:
    [found] = [h for h in stats["handlers"] if h["handler"].endswith(f".{name}")]
    return found


async def _flood(webos: KernelHarness, tmp_path: Path, **settings: int) -> RunningKernel:
    modules = tmp_path / "m"
    write_module(modules, "flood", {"services.py": SERVICES, "events.py": EVENTS})
    (modules / "auth").symlink_to(AUTH_MODULE, target_is_directory=True)
    return await start_with_auth(webos, ["flood"], modules_path=modules, **settings)


async def _bus_stats(app: RunningKernel, token: str) -> dict:
    answer = await app.client.get("/api/system/bus", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_stuck_handler_keeps_a_bounded_backlog_and_counts_what_it_drops(
    webos: KernelHarness, tmp_path: Path
) -> None:
    app = await _flood(webos, tmp_path, subscription_pending_messages=LIMIT)
    token = await login(app)
    gate = app.kernel.registry.get("gate")
    for n in range(SENT):
        await app.kernel.bus.emit("flood.tick", {"n": n})

    async def all_accounted() -> bool:
        stats = await _bus_stats(app, token)
        slow, quick = _handler(stats, "slow"), _handler(stats, "quick")
        # slow: one event in hand at the gate, the rest held or dropped
        return slow["dropped"] + slow["backlog"] + 1 == SENT and (
            quick["handled"] + quick["dropped"] == SENT
        )

    await _until(all_accounted, "every event handled, held or dropped, per handler")
    slow = _handler(await _bus_stats(app, token), "slow")
    assert slow["backlog"] <= LIMIT
    assert slow["dropped"] >= SENT - LIMIT - 1
    card = await app.client.get("/console/dashboard/summary", headers=bearer(token))
    row = card.text.split('data-handler="flood.events.slow"')[1].split("</tr>")[0]
    assert f"<td data-dropped>{slow['dropped']}</td>" in row  # the console shows it too

    gate.open.set()  # what was held is handled; what was dropped is gone, and said so
    await _until(lambda: _settled(app, token, gate, slow["dropped"]), "the backlog drained")
    assert gate.slow == SENT - slow["dropped"]
    await app.kernel.bus.emit("flood.tick", {"n": SENT})  # and the handler takes new events
    await _until(lambda: _settled(app, token, gate, slow["dropped"] - 1), "a new event handled")


async def _settled(app: RunningKernel, token: str, gate, dropped: int) -> bool:
    stats = await _bus_stats(app, token)
    return _handler(stats, "slow")["backlog"] == 0 and gate.slow == SENT - dropped


async def test_the_byte_limit_bounds_a_backlog_of_large_events(
    webos: KernelHarness, tmp_path: Path
) -> None:
    limit = 256 * 1024
    app = await _flood(webos, tmp_path, subscription_pending_bytes=limit)
    token = await login(app)
    gate = app.kernel.registry.get("gate")
    blob = "x" * 16 * 1024
    for n in range(100):  # 1.6 MB of events for a handler that takes none
        await app.kernel.bus.emit("flood.tick", {"n": n, "blob": blob})

    async def arrived() -> bool:
        return gate.quick == 100

    await _until(arrived, "every event seen by the quick handler")
    [slow] = [b for b in app.kernel.bus._handlers if b.name.endswith(".slow")]
    subscription = slow.subscription
    assert subscription.pending_bytes <= limit
    stats = await _bus_stats(app, token)
    assert _handler(stats, "slow")["dropped"] >= 100 - limit // len(blob) - 1
    gate.open.set()
