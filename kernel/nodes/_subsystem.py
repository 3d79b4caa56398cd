"""Every process announces itself; every process keeps the table (the gateway announces changes)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kernel.nodes._info import DISCOVER, HEARTBEAT, LEAVING, NodeInfo, describe_node
from kernel.nodes._table import NodeTable

if TYPE_CHECKING:
    from kernel.runtime import Kernel

log = logging.getLogger("webos.nodes")


class NodesSubsystem:
    name = "nodes"

    def __init__(self) -> None:
        self.table = NodeTable()
        self._kernel: Kernel | None = None
        self._subscriptions: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._started_at = time.time()

    async def start(self, kernel: Kernel) -> None:
        self._kernel = kernel
        nats = kernel.bus.nats
        emit = kernel.bus.emit if kernel.role == "gateway" else None
        self.table = NodeTable(emit=emit)
        self._subscriptions = [
            await nats.subscribe(HEARTBEAT, cb=self._on_heartbeat),
            await nats.subscribe(LEAVING, cb=self._on_leaving),
            await nats.subscribe(DISCOVER, cb=self._on_discover),
        ]
        await nats.publish(DISCOVER, b"")
        self._tasks = [
            asyncio.create_task(self._beat(), name="webos-heartbeat"),
            asyncio.create_task(self._sweep(), name="webos-node-sweep"),
        ]

    async def announce(self) -> None:
        """Publish this node's heartbeat now (also done every heartbeat interval)."""
        kernel = self._kernel
        if kernel is None or not kernel.bus.connected:
            return
        info = describe_node(kernel, self._started_at)
        await kernel.bus.nats.publish(HEARTBEAT, info.model_dump_json().encode())

    async def _beat(self) -> None:
        assert self._kernel is not None
        interval = self._kernel.settings.heartbeat_interval
        while True:
            try:
                await self.announce()
            except Exception:
                log.exception("heartbeat failed")
            await asyncio.sleep(interval)

    async def _sweep(self) -> None:
        assert self._kernel is not None
        interval = self._kernel.settings.heartbeat_interval
        while True:
            await asyncio.sleep(interval / 2)
            await self.table.expire()

    async def _on_heartbeat(self, msg: Any) -> None:
        try:
            info = NodeInfo.model_validate_json(msg.data)
        except ValidationError as error:
            log.warning("ignored a malformed heartbeat on %s: %s", msg.subject, error)
            return
        await self.table.saw(info)

    async def _on_leaving(self, msg: Any) -> None:
        await self.table.left(msg.data.decode(errors="replace"), "stopped")

    async def _on_discover(self, _: Any) -> None:
        await self.announce()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        kernel = self._kernel
        if kernel is not None and kernel.bus.connected:
            with contextlib.suppress(Exception):
                await kernel.bus.nats.publish(LEAVING, kernel.node_id.encode())
            for subscription in self._subscriptions:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()
        self._subscriptions = []

    async def check(self) -> str | None:
        kernel = self._kernel
        if kernel is None:
            return None
        missing = [
            name for name in sorted(kernel.external) if not self.table.nodes_with_module(name)
        ]
        if missing:
            return "waiting for a live instance of " + ", ".join(repr(m) for m in missing)
        return None
