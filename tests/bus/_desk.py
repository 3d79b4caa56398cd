"""A module whose durable handler fails while its desk is closed, noting who each event ran as."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from kernel.bus import DeadLetter, list_dead_letters
from kernel.testing import RunningKernel, write_module

SERVICES = """
from kernel import service

@service("desk")
class Desk:
    def __init__(self) -> None:
        self.callers: list[tuple[str, str]] = []
        self.closed = True
"""
EVENTS = """
from kernel import on, registry
from kernel.auth import current_principal

@on("desk.noted", durable=True)
async def noted(payload: dict) -> None:
    desk = registry.get("desk")
    desk.callers.append((payload["n"], current_principal.get().id))
    if desk.closed:
        raise RuntimeError("the desk is closed")
"""
BANK = """
from kernel import on

@on("bank.robbed", durable=True)
async def robbed(payload: dict) -> None:
    pass
"""
DESK_SETTINGS: dict[str, Any] = {
    "durable_max_deliver": 2,
    "durable_backoff": 0.05,
    "durable_backoff_max": 0.1,
    "jwt_leeway": 0,  # so that an identity's expiry is exact
}


def write_desk(root: Path) -> None:
    """The ``desk`` module and a ``bank`` module with a durable handler on another subject."""
    write_module(root, "desk", {"services.py": SERVICES, "events.py": EVENTS})
    write_module(root, "bank", {"events.py": BANK})


async def until(check: Any, what: str) -> Any:
    for _ in range(400):  # a bound on failure, not a timing
        if found := await check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def letters(js: Any, count: int) -> list[DeadLetter]:
    """The dead letters, once there are at least ``count``."""

    async def enough() -> list[DeadLetter] | None:
        found = await list_dead_letters(js)
        return found if len(found) >= count else None

    return await until(enough, f"{count} dead letter(s)")


async def caller_of(app: RunningKernel, n: str) -> str:
    """Who the desk's handler last ran as for event ``n``, once it has."""
    desk = app.kernel.registry.get("desk")

    async def replayed() -> str | None:
        return next((who for got, who in reversed(desk.callers) if got == n), None)

    return await until(replayed, f"the replay of {n}")
