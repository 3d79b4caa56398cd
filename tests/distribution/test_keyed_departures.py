"""A shard-keyed call to an instance killed while the node table still lists it, with a wildcard
subscriber in the gateway (audit's ``@on(">")``, as ``webos run`` has) that keeps NATS from
saying "no responders": the call ends when the table drops that node, not at the timeout."""

import asyncio
import shutil
from pathlib import Path

import pytest

from kernel.contracts import Instances
from kernel.registry import ServiceUnavailable
from kernel.registry._routing import pick
from kernel.testing import KernelHarness, RunningKernel, write_module

SERVICES = """
import os
from kernel import service

@service("keyed")
class Keyed:
    @service(idempotent=True)
    async def whoami(self) -> int:
        return os.getpid()

    async def charge(self) -> int:  # not idempotent: never sent twice
        return os.getpid()
"""

EXAMPLES = Path(__file__).resolve().parents[2] / "modules"
REQUEST_TIMEOUT = 30.0  # ten times what the table takes to drop the node
SETTLE = 30.0  # a failure bound for the node table to list the three instances


@pytest.fixture
def modules_path(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    shutil.copytree(EXAMPLES / "audit", root / "audit")
    write_module(root, "keyed", {"services.py": SERVICES})
    return root


async def _three_nodes(gateway: RunningKernel) -> dict[str, int]:
    instances = gateway.kernel.find(Instances)  # type: ignore[type-abstract]
    assert instances is not None
    deadline = asyncio.get_running_loop().time() + SETTLE
    while asyncio.get_running_loop().time() < deadline:
        nodes = instances.table.nodes_with_module("keyed")  # type: ignore[attr-defined]
        if instances.nodes_running("keyed") is not None and len(nodes) == 3:
            return {node.node_id: node.pid for node in nodes}
        await asyncio.sleep(0.1)
    raise AssertionError("the table never listed three instances of 'keyed'")


async def test_a_keyed_call_to_a_killed_instance_ends_when_the_table_drops_it(
    webos: KernelHarness, modules_path: Path
) -> None:
    webos.sign_in_as("admin")
    gateway = await webos.start(
        ["audit", "keyed"],
        modules_path=modules_path,
        exclude=["keyed"],
        request_timeout=REQUEST_TIMEOUT,
    )
    processes = {
        process.pid: process
        for process in [
            await webos.run_module("keyed", modules_path=modules_path, WEBOS_HEARTBEAT_INTERVAL="1")
            for _ in range(3)
        ]
    }
    pids = await _three_nodes(gateway)
    key = "customer-7"
    owner = pids[str(pick(key, pids))]
    keyed = gateway.kernel.registry.get("keyed").with_options(shard_key=key)
    assert await keyed.whoami() == owner

    processes[owner].kill()
    # Both sent while the table still lists the dead instance (it drops it 3 s later).
    answered, refused = await asyncio.gather(keyed.whoami(), keyed.charge(), return_exceptions=True)

    # The idempotent call is sent again, to an instance still alive.
    assert answered in set(processes) - {owner}, answered
    # The other may have run on the dead instance: it fails, and says so, rather than running
    # twice or waiting out the timeout.
    assert isinstance(refused, ServiceUnavailable), refused
    assert refused.reason == "stopped" and "may have run" in str(refused)
