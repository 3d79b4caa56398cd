"""A started process takes what start-up built out of the garbage collector's sight.

A full collection walks every object the collector tracks, with the event loop stopped: about
100 ms in a started gateway. Real ``webos module run`` and ``webos run`` processes run a module
that answers a raw NATS request with how many objects are frozen (``gc.get_freeze_count``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from kernel.testing._processes import ModuleProcess, module_env
from kernel.transport import EmbeddedNats, connect_once
from tests.runtime.test_lean_imports import gateway_serving, write_probe

PROBE = {
    "module.toml": 'name = "heap"\nversion = "0.1.0"\ndepends = []\n',
    "__init__.py": "",
    "hooks.py": """
        import gc
        import json

        from kernel import ModuleContext, bus, hookimpl

        @hookimpl
        async def webos_startup(module: ModuleContext) -> None:
            async def answer(message) -> None:
                await message.respond(json.dumps(gc.get_freeze_count()).encode())

            await bus.nats.subscribe("heap.frozen", cb=answer)
    """,
}

#: Fewer objects than any started kernel holds (a gateway: about 130,000).
STARTUP_OBJECTS = 20_000


async def frozen_in(nats_url: str) -> int:
    """The frozen count once the process froze its heap; it answers before it has (its hook
    runs during start-up), so ask until it has, within a failure bound."""
    client = await connect_once(nats_url, "heap-test")
    try:
        for _ in range(200):
            reply = await client.request("heap.frozen", b"", timeout=10)
            frozen = json.loads(reply.data)
            if frozen:
                return frozen
            await asyncio.sleep(0.05)
    finally:
        await client.close()
    raise AssertionError("the process never froze its start-up heap")


async def test_a_module_process_freezes_what_start_up_built(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    modules = write_probe(tmp_path, PROBE, "heap")
    env = module_env(nats_server.url, tmp_path / "data", modules)
    process = ModuleProcess(["heap"], env, tmp_path, tmp_path / "module.log")
    process.start()
    try:
        await process.wait_visible(nats_server.url, started=True)
        assert await frozen_in(nats_server.url) > STARTUP_OBJECTS, process.output()
    finally:
        await process.stop()


async def test_the_gateway_freezes_what_start_up_built(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    modules = write_probe(tmp_path, PROBE, "heap")
    async with gateway_serving(nats_server.url, tmp_path, modules):
        assert await frozen_in(nats_server.url) > STARTUP_OBJECTS
