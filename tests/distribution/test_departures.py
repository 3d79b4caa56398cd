"""A module process that goes away: stopped cleanly, it leaves the node table at once; killed, its
callers hear 503 (``ServiceUnavailable``) at once instead of waiting out the request timeout.

The gateway runs ``audit`` as ``webos run`` does by default: its ``@on(">")`` handler hears every
subject, forwarded requests included, which is what used to keep NATS from answering "no
responders" for a dead module.
"""

import asyncio
import logging
import shutil
import time
from pathlib import Path

import pytest

from kernel.registry import ServiceUnavailable
from kernel.testing import KernelHarness, write_module

ROUTER = """
from litestar import get
from kernel.auth import PUBLIC

@get("/ping", sync_to_thread=False, opt=PUBLIC)
def ping() -> dict:
    return {"pong": True}
"""

SERVICES = """
from kernel import service

@service("pinger")
class Pinger:
    async def ping(self) -> str:
        return "pong"
"""

EXAMPLES = Path(__file__).resolve().parents[2] / "modules"
REQUEST_TIMEOUT = 30.0  # far longer than anything the fast failure should take
MODULE_HEARTBEAT = 30.0  # so a node dropped by missed heartbeats would take 90 s


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    shutil.copytree(EXAMPLES / "audit", root / "audit")
    write_module(root, "pinger", {"router.py": ROUTER, "services.py": SERVICES})
    return root


async def _gateway(webos: KernelHarness, modules_path: Path):
    webos.sign_in_as("admin")
    return await webos.start(
        ["audit", "pinger"],
        modules_path=modules_path,
        exclude=["pinger"],
        request_timeout=REQUEST_TIMEOUT,
    )


async def test_a_killed_modules_route_answers_503_at_once(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await _gateway(webos, modules_path)
    process = await webos.run_module("pinger", modules_path=modules_path)
    assert (await gateway.client.get("/api/pinger/ping")).json() == {"pong": True}

    process.kill()
    started = time.monotonic()
    response = await gateway.client.get("/api/pinger/ping", timeout=2 * REQUEST_TIMEOUT)
    took = time.monotonic() - started

    assert response.status_code == 503
    assert "no live instance of module 'pinger'" in response.json()["detail"]
    assert took < REQUEST_TIMEOUT / 2, f"{took:.1f}s: waited for WEBOS_REQUEST_TIMEOUT"


async def test_a_killed_modules_service_is_unavailable_at_once(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await _gateway(webos, modules_path)
    process = await webos.run_module("pinger", modules_path=modules_path)
    pinger = gateway.kernel.registry.get("pinger")
    assert await pinger.ping() == "pong"

    process.kill()
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="no instance of service 'pinger'"):
        await pinger.ping()

    assert time.monotonic() - started < REQUEST_TIMEOUT / 2


async def test_a_stopped_module_leaves_the_node_table_at_once(
    webos: KernelHarness, modules_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webos.nodes")
    gateway = await _gateway(webos, modules_path)
    process = await webos.run_module(
        "pinger", modules_path=modules_path, WEBOS_HEARTBEAT_INTERVAL=str(MODULE_HEARTBEAT)
    )

    assert await process.stop() == 0
    # Bounded by one heartbeat interval, a third of what dropping a silent node takes.
    for _ in range(int(MODULE_HEARTBEAT / 0.1)):
        nodes = (await gateway.client.get("/api/system/nodes")).json()
        if all(node["pid"] != process.pid for node in nodes):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the stopped module is still in the node table")

    lines = [record for record in caplog.records if record.name == "webos.nodes"]
    left = [r for r in lines if r.getMessage().startswith("node left:")]
    assert [r.levelno for r in left] == [logging.INFO]
    assert not [r.getMessage() for r in lines if "node down" in r.getMessage()]


async def test_a_killed_modules_service_called_by_name_is_unavailable_at_once(
    webos: KernelHarness, modules_path: Path
) -> None:
    # What `webos call --as` uses: the gateway asks its node table too, not only NATS.
    gateway = await _gateway(webos, modules_path)
    process = await webos.run_module("pinger", modules_path=modules_path)
    url, admin = "/api/system/services/pinger/ping", gateway.auth_headers(["admin"])
    assert (await gateway.client.post(url, json={}, headers=admin)).json() == {"result": "pong"}

    process.kill()
    response = await gateway.client.post(url, json={}, headers=admin, timeout=2 * REQUEST_TIMEOUT)

    assert response.status_code == 503
    assert "nothing serves pinger.ping" in response.json()["detail"]  # not "did not answer"
