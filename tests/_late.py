"""Make one side of a two-timer race late on purpose, so a test of the race never depends on
which timer the machine fires first."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

#: Seconds the caller waits past the wait it sent with its request.
LATE_BY = 5.0


def wait_longer(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> None:
    """``module``'s ``request_unless_gone`` waits ``LATE_BY`` longer than asked (what it sends,
    the deadline header included, is unchanged), as a busy caller's late timer would: the other
    side's answer ("cut at the end of your wait") always comes first."""
    request = module.request_unless_gone

    async def late(*args: Any, timeout: float, **kwargs: Any) -> Any:
        return await request(*args, timeout=timeout + LATE_BY, **kwargs)

    monkeypatch.setattr(module, "request_unless_gone", late)
