"""``webos run`` stops within one WEBOS_SHUTDOWN_TIMEOUT, counted from the signal, however much
work it has in hand that never ends, and says what it cut off."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from kernel.testing import write_module

#: The gateway's WEBOS_SHUTDOWN_TIMEOUT, and what its exit may take beyond it (the embedded
#: nats-server's stop and the interpreter's exit, on a loaded machine).
BOUND = 3
MARGIN = 2.5

ROUTER = """
import asyncio
import os
from pathlib import Path

from litestar import get, post
from litestar.response import Stream

from kernel import bus
from kernel.auth import PUBLIC

@get("/stream", opt=PUBLIC)
async def stream() -> Stream:
    async def pieces():
        yield b"first\\n"
        await asyncio.Event().wait()
    return Stream(pieces(), media_type="text/plain")

@post("/job", opt=PUBLIC, status_code=202)
async def job() -> dict:
    return {"id": await bus.emit("hang.job", {"n": 1})}
"""

EVENTS = """
import asyncio
import os
from pathlib import Path

from kernel import on

@on("hang.job", durable=True)
async def job(payload: dict) -> None:
    Path(os.environ["HANG_MARKS"], "job").touch()
    await asyncio.Event().wait()
"""


def test_the_gateway_stops_within_its_bound_with_work_that_never_ends(
    make_gateway, tmp_path: Path
) -> None:
    modules = tmp_path / "mods"
    write_module(
        modules,
        "hang",
        {"router.py": ROUTER, "events.py": EVENTS},
        manifest='name = "hang"\nemits = ["hang.job"]\n',
    )
    marks = tmp_path / "marks"
    marks.mkdir()
    gateway = make_gateway(modules, WEBOS_SHUTDOWN_TIMEOUT=str(BOUND), HANG_MARKS=str(marks))
    gateway.start()
    gateway.wait_ready()
    assert httpx.post(f"{gateway.url}/api/hang/job", timeout=10).status_code == 202

    with httpx.stream("GET", f"{gateway.url}/api/hang/stream", timeout=30) as response:
        pieces = response.iter_raw()  # held: a dropped iterator would close the connection
        assert next(pieces) == b"first\n"
        deadline = time.monotonic() + 15  # a bound on failure, not a timing
        while not (marks / "job").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (marks / "job").exists(), "the durable handler never started"

        signalled = time.monotonic()
        code = gateway.stop(signal.SIGTERM, timeout=60)
        took = time.monotonic() - signalled

        # The response was ended short, not passed off as complete.
        with pytest.raises(httpx.RemoteProtocolError):
            for _ in pieces:
                pass

    log = gateway.process.stdout.read()
    assert code == 0, log
    # A failure bound, not a speed claim (it includes stopping the embedded nats-server).
    assert took < BOUND + MARGIN, f"webos run took {took:.1f}s to exit"
    assert f"within its bound of {BOUND}s (WEBOS_SHUTDOWN_TIMEOUT)" in log, log
    assert "cut off 2 piece(s) of work" in log, log
    assert "HTTP GET /api/hang/stream" in log
    assert "1 event(s) in hand of durable handler hang.events.job, handed back" in log
