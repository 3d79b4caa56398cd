"""Choosing an instance: shard keys stick to one of three module processes and move only when it
goes; ``prefer_local=False`` goes over NATS although the service runs in the caller's process.
"""

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from nats.errors import NoRespondersError

from kernel.contracts import Instances
from kernel.registry import instance_subject
from kernel.registry._routing import pick
from kernel.testing import KernelHarness, RunningKernel, write_module

SERVICES = """
import os
from kernel import service

@service("shard_probe")
class ShardProbe:
    async def whoami(self) -> int:
        return os.getpid()
"""

KEYS = [f"customer-{index}" for index in range(50)]
SETTLE = 30.0  # a failure bound for the node table to list what the test started or killed


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(root, "probe", {"services.py": SERVICES})
    return root


async def _keyed(proxy: Any, key: str) -> int:
    return int(await proxy.with_options(shard_key=key).whoami())


async def _owners(proxy: Any) -> dict[str, int]:
    return {key: await _keyed(proxy, key) for key in KEYS}


def _instances(gateway: RunningKernel) -> Instances:
    found = gateway.kernel.find(Instances)  # type: ignore[type-abstract]
    assert found is not None
    return found


async def _until_running(gateway: RunningKernel, count: int) -> list[str]:
    """The node ids running ``probe`` once the gateway's table lists ``count`` of them."""
    instances = _instances(gateway)
    deadline = asyncio.get_running_loop().time() + SETTLE
    while asyncio.get_running_loop().time() < deadline:
        nodes = instances.nodes_running("probe")
        if nodes is not None and len(nodes) == count:
            return nodes
        await asyncio.sleep(0.1)
    raise AssertionError(f"the table never listed {count} probe nodes: {nodes}")


def _pids(gateway: RunningKernel) -> dict[str, int]:
    table = gateway.kernel.find(Instances).table  # type: ignore[type-abstract, attr-defined]
    return {node.node_id: node.pid for node in table.nodes_with_module("probe")}


async def test_shard_keys_stick_to_one_instance_and_move_only_when_it_dies(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(["probe"], modules_path=modules_path, exclude=["probe"])
    processes = [
        await webos.run_module("probe", modules_path=modules_path, WEBOS_HEARTBEAT_INTERVAL="2")
        for _ in range(3)
    ]
    nodes = await _until_running(gateway, 3)
    pids = _pids(gateway)
    proxy = gateway.kernel.registry.get("shard_probe")

    before = await _owners(proxy)
    assert await _owners(proxy) == before  # the same key, the same instance, every time
    assert set(before.values()) == {process.pid for process in processes}
    assert before == {key: pids[str(pick(key, nodes))] for key in KEYS}

    victim = next(process for process in processes if process.pid == before[KEYS[0]])
    victim_node = next(node for node, pid in pids.items() if pid == victim.pid)
    victim.kill()
    # Its subscriptions went with its connection while the table still lists it: its keys get
    # "no responders" on its own subject and are answered by another instance.
    await _until_no_responders(gateway, instance_subject("shard_probe", "whoami", victim_node))
    assert victim_node in (_instances(gateway).nodes_running("probe") or [])
    assert await _keyed(proxy, KEYS[0]) != victim.pid

    survivors = await _until_running(gateway, 2)
    after = await _owners(proxy)
    moved = [key for key in KEYS if before[key] == victim.pid]
    assert moved and all(after[key] != victim.pid for key in moved)
    assert {key: after[key] for key in KEYS if key not in moved} == {
        key: before[key] for key in KEYS if key not in moved
    }
    assert after == {key: pids[str(pick(key, survivors))] for key in KEYS}


async def _until_no_responders(gateway: RunningKernel, subject: str) -> None:
    deadline = asyncio.get_running_loop().time() + SETTLE
    while asyncio.get_running_loop().time() < deadline:
        try:
            await gateway.nats.request(subject, b'{"args": {}}', timeout=1)
        except NoRespondersError:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{subject} still answered {SETTLE}s after its process was killed")


async def test_prefer_local_false_goes_over_nats_although_the_service_runs_here(
    webos: KernelHarness, modules_path: Path
) -> None:
    gateway = await webos.start(["probe"], modules_path=modules_path)
    process = await webos.run_module("probe", modules_path=modules_path)
    registry = gateway.kernel.registry

    assert await registry.get("shard_probe").whoami() == os.getpid()  # the local object
    remote = registry.get("shard_probe", prefer_local=False)
    # The queue group picks at random among both instances: 40 calls all staying here would
    # happen once in 2**40 runs.
    answered = {await remote.whoami() for _ in range(40)}
    assert process.pid in answered
