"""One WEBOS_SHUTDOWN_TIMEOUT for the whole kernel: parts that each wait for work that never ends
share it rather than each taking a bound of their own, and the kernel says what it cut off."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from kernel.testing import KernelHarness, write_module

EVENTS = """
import asyncio
import os
from pathlib import Path

from kernel import on

@on("stuck.poke")
async def poked(payload: dict) -> None:
    Path(os.environ["STUCK_MARKS"], "poked").touch()
    await asyncio.Event().wait()
"""

HOOKS = """
import asyncio

from kernel import hookimpl

@hookimpl
async def webos_shutdown() -> None:
    await asyncio.Event().wait()
"""


async def test_a_hanging_shutdown_hook_and_event_handler_share_one_bound(
    webos: KernelHarness,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "mods"
    write_module(root, "stuck", {"events.py": EVENTS, "hooks.py": HOOKS})
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("STUCK_MARKS", str(marks))
    app = await webos.start(["stuck"], modules_path=root, shutdown_timeout=2)
    await app.kernel.bus.emit("stuck.poke", {})
    for _ in range(200):  # a bound on failure, not a timing
        if await asyncio.to_thread((marks / "poked").exists):
            break
        await asyncio.sleep(0.05)

    with caplog.at_level(logging.INFO, logger="webos.kernel"):
        await asyncio.wait_for(app.stop(), 60)  # a bound on failure: before, the hook hung it

    said = caplog.text
    assert "within its bound of 2s (WEBOS_SHUTDOWN_TIMEOUT)" in said, said
    assert "cut off 2 piece(s) of work" in said, said
    assert "the shutdown hook of module 'stuck'" in said
    assert "1 event(s) in hand of handler stuck.events.poked, cancelled" in said
    assert not app.kernel.bus.connected
