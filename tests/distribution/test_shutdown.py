"""Stopping within one bound: a module process with work that never finishes (a durable handler,
a service call, a forwarded stream) stops within WEBOS_SHUTDOWN_TIMEOUT, counted once from the
signal, and says what it cut off. The process is real (``webos module run``)."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from kernel.registry import ServiceUnavailable
from kernel.testing import KernelHarness, write_module
from kernel.transport import EmbeddedNats

#: The module process's WEBOS_SHUTDOWN_TIMEOUT, and what its exit may take beyond it (the
#: interpreter's own exit, on a loaded machine) before the test calls it over its bound.
BOUND = 3
MARGIN = 2.5

EVENTS = """
import asyncio
import os
from pathlib import Path

from kernel import on

@on("hang.job", durable=True)
async def job(payload: dict) -> None:
    marks = Path(os.environ["HANG_MARKS"])
    (marks / "job").touch()
    if os.environ.get("HANG_FOREVER"):
        await asyncio.Event().wait()
    (marks / "job-done").touch()
"""

SERVICES = """
import asyncio
import os
from pathlib import Path

from kernel import service

@service("stall")
class Stall:
    async def wait(self) -> int:
        Path(os.environ["HANG_MARKS"], "call").touch()
        await asyncio.Event().wait()
        return 0
"""

ROUTER = """
import asyncio

from litestar import get
from litestar.response import Stream

from kernel.auth import PUBLIC

@get("/stream", opt=PUBLIC)
async def stream() -> Stream:
    async def pieces():
        yield b"first\\n"
        await asyncio.Event().wait()
    return Stream(pieces(), media_type="text/plain")
"""


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(root, "hang", {"events.py": EVENTS, "services.py": SERVICES, "router.py": ROUTER})
    return root


async def _until_exists(path: Path) -> None:
    for _ in range(300):  # a bound on failure, not a timing
        if await asyncio.to_thread(path.exists):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path.name} never started")


async def test_a_module_process_stops_within_its_bound_and_names_what_it_cut_off(
    webos: KernelHarness, modules_path: Path, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    # The caller would wait this long for an answer: it hears of the stop long before.
    gateway = await webos.start(modules_path=modules_path, exclude=["hang"], request_timeout=60)
    process = await webos.run_module(
        "hang",
        modules_path=modules_path,
        WEBOS_SHUTDOWN_TIMEOUT=str(BOUND),
        HANG_MARKS=str(marks),
        HANG_FOREVER="1",
    )
    await gateway.kernel.bus.emit("hang.job", {"n": 1})
    call = asyncio.create_task(gateway.kernel.registry.get("stall").wait())

    async with gateway.client.stream("GET", "/api/hang/stream") as response:
        assert response.status_code == 200
        pieces = response.aiter_raw()
        assert await anext(pieces) == b"first\n"
        await _until_exists(marks / "job")
        await _until_exists(marks / "call")

        signalled = time.monotonic()
        assert await process.stop(signal.SIGTERM, timeout=60) == 0
        took = time.monotonic() - signalled

        # The gateway closed the response: the client sees it end short, not end well.
        with pytest.raises(httpx.RemoteProtocolError):
            async for _ in pieces:
                pass
    with pytest.raises(ServiceUnavailable, match="stopped before wait"):
        await call

    # A failure bound, not a speed claim: before, each part waited the whole bound in turn.
    assert took < BOUND + MARGIN, f"the process took {took:.1f}s to exit"
    log = process.output()
    assert f"within its bound of {BOUND}s (WEBOS_SHUTDOWN_TIMEOUT)" in log, log
    assert "cut off 3 piece(s) of work" in log, log
    assert "HTTP GET /api/hang/stream" in log
    assert "service call stall.wait" in log
    assert "1 event(s) in hand of durable handler hang.events.job, handed back" in log
    assert (await gateway.client.get("/ready")).status_code == 200
    # The event handed back is not lost: a replica started later handles it.
    await webos.run_module("hang", modules_path=modules_path, HANG_MARKS=str(marks))
    await _until_exists(marks / "job-done")


async def test_processes_stop_cleanly_within_their_bound_when_nats_is_gone(
    modules_path: Path, tmp_path: Path
) -> None:
    """The test's own nats-server, stopped under a gateway and a module process: with nothing
    to drain to, both still stop within their bound, and the module process exits 0."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = EmbeddedNats(port, tmp_path / "nats", server_name="webos-gone")
    server.start()
    harness = KernelHarness(server.url, tmp_path / ".webos")
    marks = tmp_path / "marks"
    marks.mkdir()
    try:
        gateway = await harness.start(
            modules_path=modules_path, exclude=["hang"], shutdown_timeout=BOUND
        )
        process = await harness.run_module(
            "hang",
            modules_path=modules_path,
            WEBOS_SHUTDOWN_TIMEOUT=str(BOUND),
            HANG_MARKS=str(marks),
        )
        server.stop()

        signalled = time.monotonic()
        assert await process.stop(signal.SIGTERM, timeout=60) == 0, process.output()
        took = time.monotonic() - signalled
        await asyncio.wait_for(gateway.stop(), 60)  # a bound on failure: it returns at all

        assert took < BOUND + MARGIN, f"the process took {took:.1f}s to exit"
        assert "NATS connection not drained" in process.output()
        assert f"within its bound of {BOUND}s" in process.output()
    finally:
        if server.pid is None:  # back up for the harness's own clean-up, which talks to it
            server = EmbeddedNats(port, tmp_path / "nats", server_name="webos-gone")
            server.start()
        await harness.close()
        server.stop()
