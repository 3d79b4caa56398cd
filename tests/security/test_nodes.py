"""A module user announces only its own node: it cannot make the gateway believe another module
runs (``/ready``, forwarding), take over a node's id, or say that another node left."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid

import pytest
from pydantic import ValidationError

from kernel.nodes import ModuleInfo, NodeInfo, describe_node
from kernel.testing import RunningKernel
from tests.security.conftest import STANDALONE, Deployment
from tests.security.hostile import Intruder, intruder

# The gateway runs shop, which depends on vault: it is ready only while a vault node lives.
RUN_ELSEWHERE = [name for name in STANDALONE if name != "shop"]


def _node(node_id: str, *modules: str, role: str = "module") -> bytes:
    info = NodeInfo(
        node_id=node_id,
        role=role,
        pid=os.getpid(),
        host=socket.gethostname(),
        started_at=time.time(),
        heartbeat_interval=60,
        modules=[ModuleInfo(name=name, version="1.0", state="started") for name in modules],
    )
    return info.model_dump_json().encode()


async def _nodes(gateway: RunningKernel) -> dict[str, dict]:
    answer = await gateway.client.get("/api/system/nodes", headers=gateway.auth_headers())
    return {node["node_id"]: node for node in answer.json()}


async def _until_listed(gateway: RunningKernel, node_id: str) -> dict[str, dict]:
    """Once an honest heartbeat sent last is listed, the gateway has handled those before it
    (one connection, one subscriber: NATS keeps their order)."""
    for _ in range(100):  # a failure bound, not a speed requirement
        nodes = await _nodes(gateway)
        if node_id in nodes:
            return nodes
        await asyncio.sleep(0.05)
    raise AssertionError(f"node {node_id} never listed: {sorted(nodes)}")


async def _announce_honestly(spy: Intruder) -> str:
    honest = f"spy-{uuid.uuid4().hex}"
    await spy.publish("webos.node.heartbeat.spy", _node(honest, "spy"))
    return honest


async def test_a_module_cannot_announce_another_module(deployment: Deployment) -> None:
    gateway = await deployment.harness.start(
        exclude=[name for name in STANDALONE if name != "shop"]
    )
    waiting = await gateway.client.get("/ready")
    async with intruder(deployment.server, "module-spy") as spy:
        fakes = {f"fake-{n}": f"fake-{n}-{uuid.uuid4().hex}" for n in range(3)}
        await spy.publish("webos.node.heartbeat", _node(fakes["fake-0"], "vault"))
        await spy.publish("webos.node.heartbeat.vault", _node(fakes["fake-1"], "vault"))
        await spy.publish("webos.node.heartbeat.spy", _node(fakes["fake-2"], "spy", "vault"))
        await spy.publish("webos.node.heartbeat.spy", _node(gateway.kernel.node_id, "spy"))
        nodes = await _until_listed(gateway, await _announce_honestly(spy))
        still = await gateway.client.get("/ready")

    assert waiting.status_code == 503 and "waiting for a live instance of 'vault'" in waiting.text
    assert still.status_code == 503 and "'vault'" in still.text
    assert not set(fakes.values()) & set(nodes)
    assert nodes[gateway.kernel.node_id]["role"] == "gateway"  # not taken over
    server = deployment.server
    assert await server.refused("module-spy", "Publish", "webos.node.heartbeat")
    assert await server.refused("module-spy", "Publish", "webos.node.heartbeat.vault")


async def test_a_module_cannot_say_that_another_node_left(deployment: Deployment) -> None:
    # Heartbeats far apart: a node wrongly dropped would not come back during the test.
    async with deployment.module("vault", WEBOS_HEARTBEAT_INTERVAL="30"):
        gateway = await deployment.harness.start(exclude=RUN_ELSEWHERE)
        vault = next(n for n, node in (await _nodes(gateway)).items() if node["role"] == "module")
        async with intruder(deployment.server, "module-spy") as spy:
            await spy.publish("webos.node.leaving", vault.encode())
            await spy.publish("webos.node.leaving.spy", vault.encode())
            leaving = await _announce_honestly(spy)
            await _until_listed(gateway, leaving)
            await spy.publish("webos.node.leaving.spy", leaving.encode())  # its own: heard
            for _ in range(100):  # a failure bound
                nodes = await _nodes(gateway)
                if leaving not in nodes:
                    break
                await asyncio.sleep(0.05)
        ready = await gateway.client.get("/ready")

    assert leaving not in nodes
    assert vault in nodes and ready.status_code == 200
    assert await deployment.server.refused("module-spy", "Publish", "webos.node.leaving")


def test_a_heartbeat_names_at_most_64_called_services() -> None:
    """The sender chooses how many services it says it called: the list is bounded, so that a
    hostile process cannot make every table (and the console's Services view) hold a huge one."""
    called = [{"service": f"s{n:03}", "breaker": "closed", "calls": 1} for n in range(65)]
    ours = describe_node("n1", "gateway", [], started_at=0.0, heartbeat_interval=2, calls=called)
    assert [stats.service for stats in ours.calls] == [f"s{n:03}" for n in range(64)]

    with pytest.raises(ValidationError, match="calls"):
        NodeInfo.model_validate({**ours.model_dump(), "calls": called})
