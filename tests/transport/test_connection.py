"""A kernel process's NATS connection: what the server does to it, and what the log says.

Real nats-servers from the wheel, on loopback; waits are bounded polls (failure bounds).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nats
import pytest

from kernel.testing import KernelHarness, free_port, write_module
from kernel.transport import EmbeddedNats

PROBE = {
    "events.py": """
from kernel import bus, on

@on("probe.ping")
async def ping(payload: dict) -> None:
    await bus.emit("probe.pong", payload)

@on("probe.kept", durable=True)
async def kept(payload: dict) -> None:
    await bus.emit("probe.kept.seen", payload)
"""
}
MANIFEST = 'name = "probe"\nemits = ["probe.pong", "probe.kept.seen"]\n'


async def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} within {timeout}s")
        await asyncio.sleep(0.05)


def oversized(connection: Any) -> tuple[bytes, dict[str, str]]:
    """A message nats-py sends (its body is under the server's max_payload) that the server
    refuses (with its headers it is over): what a near-limit event with WebOS headers was."""
    return b"x" * (connection.max_payload - 16), {"webos-padding": "y" * 64}


LOST, BACK = "lost (", "connection re-established"
#: Where a lost connection could be reported: the watch, nats-py's callers, FastStream.
CONNECTION_LOGGERS = ("webos.nats", "webos.bus", "webos.faststream")


def lines(caplog: pytest.LogCaptureFixture, text: str, level: int = logging.INFO) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "webos.nats" and r.levelno >= level and text in r.getMessage()
    ]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name in CONNECTION_LOGGERS and r.levelno >= logging.WARNING
    ]


async def test_nats_py_alone_stays_closed_after_the_server_refuses_a_message(
    nats_server: EmbeddedNats,
) -> None:
    """Why ``KernelClient`` exists: nats-py checks the body only, the server closes the
    connection, and nats-py closes the client for good (no reconnect, subscriptions gone)."""
    client = await nats.connect(nats_server.url, error_cb=_ignore)
    body, headers = oversized(client)
    await client.publish("probe.big", body, headers=headers)
    await until(lambda: client.is_closed, "nats-py closed its client")
    assert "maximum payload" in str(client.last_error).lower()


async def _ignore(_error: Exception) -> None:
    pass


async def test_a_kernel_process_comes_back_with_its_handlers_and_durable_consumers(
    webos: KernelHarness,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    nats_server: EmbeddedNats,
) -> None:
    caplog.set_level(logging.INFO, logger="webos.nats")
    write_module(tmp_path, "probe", PROBE, manifest=MANIFEST)
    app = await webos.start(modules_path=tmp_path)
    bus = app.kernel.bus
    connection = bus.nats
    body, headers = oversized(connection)
    # Straight through nats-py: the bus's own publishes are measured first (PayloadTooLarge).
    await connection.publish("probe.big", body, headers=headers)
    await until(lambda: bus.stats()["connection"]["recoveries"] == 1, "the connection came back")

    assert bus.nats is connection and connection.is_connected
    pongs = await app.subscribe("probe.pong")
    seen = await app.subscribe("probe.kept.seen")
    await app.nats.publish("probe.ping", json.dumps({"n": 1}).encode())
    assert (await pongs.next(timeout=10)).json() == {"n": 1}
    await bus.emit("probe.kept", {"n": 2})
    assert (await seen.next(timeout=10)).json() == {"n": 2}
    assert (await app.client.get("/ready")).status_code == 200
    lost = lines(caplog, LOST)
    assert len(lost) == 1 and warnings(caplog) == lost, warnings(caplog)
    assert "lost (the server said: maximum payload violation)" in lost[0]
    assert nats_server.address in lost[0]
    assert len(lines(caplog, BACK)) == 1


async def test_a_killed_server_and_its_return_are_logged_once_each_with_its_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="webos.nats")
    port, store = free_port(), tmp_path / "nats"
    server = EmbeddedNats(port, store, server_name="webos-restarted")
    server.start()
    assert server.credentials is not None
    password = server.credentials.password
    harness = KernelHarness(server.url, tmp_path / ".webos")
    try:
        empty = tmp_path / "modules"
        empty.mkdir()
        app = await harness.start(modules_path=empty)
        stats = app.kernel.bus.stats
        assert server.pid is not None
        os.kill(server.pid, signal.SIGKILL)  # no goodbye, as a crashed machine
        server.stop()  # reaps it
        await until(lambda: not app.kernel.bus.connected, "the gateway saw NATS go")
        # Each failed attempt while it is away is a debug line, not a warning.
        attempts = lambda: lines(caplog, "NATS (", logging.DEBUG)  # noqa: E731
        await until(lambda: len(attempts()) >= 3, "a few failed attempts")
        server = EmbeddedNats(port, store, server_name="webos-restarted")
        server.start()
        await until(lambda: stats()["connection"]["recoveries"] == 1, "the gateway reconnected")

        lost, back = lines(caplog, LOST), lines(caplog, BACK)
        assert len(lost) == 1 and len(back) == 1, (lost, back)
        assert server.address in lost[0] and server.address in back[0]
        assert warnings(caplog) == lost
        assert password not in caplog.text
        bus = (await app.client.get("/api/system/bus", headers=app.auth_headers())).json()
        assert bus["connection"] == {"server": server.address, "losses": 1, "recoveries": 1}
        # A single server leads every stream alone.
        sessions = next(s for s in bus["streams"] if s["name"] == "KV_WEBOS_REVOKED_SESSIONS")
        assert (sessions["replicas"], sessions["leader"], sessions["peers"]) == (
            1,
            "webos-restarted",
            [],
        )
    finally:
        if server.pid is None:
            server = EmbeddedNats(port, store, server_name="webos-restarted")
            server.start()
        await harness.close()
        server.stop()
