"""The live table of nodes, kept from heartbeats; a node missing 3 beats is dropped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kernel.contracts import Role
from kernel.modules import ModuleState
from kernel.nodes._info import DISCOVER, HEARTBEAT, NodeInfo
from kernel.transport import connect_once

STARTED = ModuleState.STARTED.value

log = logging.getLogger("webos.nodes")
MISSED_BEATS = 3

Emit = Callable[[str, Any], Awaitable[Any]]


class NodeTable:
    """Nodes seen recently. ``emit`` (the gateway's) announces arrivals and departures."""

    def __init__(
        self, *, emit: Emit | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._nodes: dict[str, NodeInfo] = {}
        self._seen_at: dict[str, float] = {}
        self.emit = emit
        self._clock = clock
        self._changed = asyncio.Event()

    async def saw(self, info: NodeInfo) -> None:
        is_new = info.node_id not in self._nodes
        self._nodes[info.node_id] = info
        self._seen_at[info.node_id] = self._clock()
        if is_new:
            log.info(
                "node up: %s (%s) modules=%s", info.node_id, info.role, sorted(info.module_names())
            )
            self._notify()
            if self.emit is not None:
                await self.emit("webos.node.up", _summary(info))

    async def left(self, node_id: str, reason: str) -> None:
        info = self._nodes.pop(node_id, None)
        self._seen_at.pop(node_id, None)
        if info is None:
            return
        log.warning("node down: %s (%s): %s", node_id, info.role, reason)
        self._notify()
        if self.emit is not None:
            await self.emit("webos.node.down", {**_summary(info), "reason": reason})

    async def expire(self) -> None:
        now = self._clock()
        for node_id, seen in list(self._seen_at.items()):
            interval = self._nodes[node_id].heartbeat_interval
            if now - seen > MISSED_BEATS * interval:
                await self.left(node_id, f"missed {MISSED_BEATS} heartbeats")

    def nodes(self) -> list[NodeInfo]:
        return sorted(
            self._nodes.values(), key=lambda node: (node.role != Role.GATEWAY, node.node_id)
        )

    def nodes_with_module(self, name: str) -> list[NodeInfo]:
        """Live nodes where module ``name`` has started (not one still starting, or failed)."""
        return [
            node
            for node in self._nodes.values()
            if any(module.name == name and module.state == STARTED for module in node.modules)
        ]

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)


def _summary(info: NodeInfo) -> dict[str, Any]:
    return {
        "node_id": info.node_id,
        "role": info.role,
        "pid": info.pid,
        "host": info.host,
        "modules": sorted(info.module_names()),
    }


async def snapshot(nats_url: str, *, wait: float = 1.0) -> list[NodeInfo]:
    """Ask every node to announce itself and collect the answers for ``wait`` seconds."""
    table = NodeTable()
    client = await connect_once(nats_url, "webos-ps")
    try:

        async def saw(msg: Any) -> None:
            with contextlib.suppress(ValueError):
                await table.saw(NodeInfo.model_validate_json(msg.data))

        await client.subscribe(HEARTBEAT, cb=saw)
        await client.publish(DISCOVER, b"")
        await client.flush()
        await asyncio.sleep(wait)
    finally:
        await client.close()
    return table.nodes()
