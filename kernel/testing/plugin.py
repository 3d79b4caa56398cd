"""pytest plugin (auto-loaded when webos is installed): ``nats_server`` and ``webos`` fixtures
(integration: a real nats-server), and ``webos_unit`` (unit: no nats-server, see ``_unit.py``).

async def test_greeting(webos):
    app = await webos.start(["greeter"])
    events = await app.subscribe("greeter.>")
    await app.client.post("/api/greeter/hello", json={"name": "Ada"})
    assert (await events.next()).json()["name"] == "Ada"
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from kernel.testing._harness import KernelHarness
from kernel.testing._ports import free_port
from kernel.testing._unit import UnitHarness
from kernel.transport import EmbeddedNats


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    """One real nats-server (JetStream on) per test session, on a free loopback port."""
    server = EmbeddedNats(free_port(), tmp_path_factory.mktemp("nats"), server_name="webos-test")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture
async def webos(nats_server: EmbeddedNats, tmp_path: Path) -> AsyncIterator[KernelHarness]:
    """Start kernels with chosen modules; all are stopped and JetStream is purged afterwards."""
    harness = KernelHarness(nats_server.url, tmp_path / ".webos")
    try:
        yield harness
    finally:
        await harness.close()


@pytest_asyncio.fixture
async def webos_unit(tmp_path: Path) -> AsyncIterator[UnitHarness]:
    """Start modules in a unit kernel: in-memory bus, in-process HTTP, no nats-server."""
    harness = UnitHarness(tmp_path / ".webos")
    try:
        yield harness
    finally:
        await harness.close()
