"""Every process announces itself; every process keeps the table (the gateway announces changes)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from litestar.di import Provide
from pydantic import ValidationError

from kernel.bus import Bus
from kernel.contracts import Host, Role
from kernel.modules import ModuleSet
from kernel.nodes._info import (
    DISCOVER,
    HEARTBEAT,
    LEAVING,
    NodeInfo,
    announce_scope,
    describe_node,
    scope_of,
    scoped,
)
from kernel.nodes._settings import NodesSettings
from kernel.nodes._table import NodeTable
from kernel.registry import Registry

if TYPE_CHECKING:
    from litestar.config.app import AppConfig

log = logging.getLogger("webos.nodes")


class NodesSubsystem:
    name = "nodes"

    def __init__(self) -> None:
        self.table = NodeTable()
        self._host: Host | None = None
        self._bus: Bus | None = None
        self._interval = NodesSettings.model_fields["interval"].default
        self._subscriptions: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._started_at = time.time()
        self._settled_at: float | None = None

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        """Route handlers may take ``node_table: NodeTable`` (the live nodes)."""
        app_config.dependencies["node_table"] = Provide(lambda: self.table, sync_to_thread=False)
        return app_config

    async def start(self, host: Host) -> None:
        self._host = host
        bus = self._bus = host.get(Bus)
        self._interval = host.get(NodesSettings).interval
        nats = bus.nats
        # The table object lives as long as the subsystem: the app's provider hands it out.
        self.table.emit = bus.emit if host.role is Role.GATEWAY else None
        self._subscriptions = [
            await nats.subscribe(subject, cb=callback)
            for subject, callback in (
                (HEARTBEAT, self._on_heartbeat),
                (f"{HEARTBEAT}.*", self._on_heartbeat),
                (LEAVING, self._on_leaving),
                (f"{LEAVING}.*", self._on_leaving),
                (DISCOVER, self._on_discover),
            )
        ]
        await nats.publish(DISCOVER, b"")
        # Every live node has announced itself within one interval of this process listening.
        self._settled_at = time.monotonic() + self._interval
        self._tasks = [
            asyncio.create_task(self._beat(), name="webos-heartbeat"),
            asyncio.create_task(self._sweep(), name="webos-node-sweep"),
        ]

    def module_gone(self, module: str) -> asyncio.Future[None] | None:
        """``kernel.contracts.Instances``: done once no live node runs ``module``."""
        settled = self._settled_at
        if settled is None or time.monotonic() < settled:
            return None
        return self.table.module_gone(module)

    def node_gone(self, node_id: str) -> asyncio.Future[None] | None:
        """``kernel.contracts.Instances``: done once ``node_id`` leaves the table."""
        settled = self._settled_at
        if settled is None or time.monotonic() < settled:
            return None
        return self.table.node_gone(node_id)

    def nodes_running(self, module: str) -> list[str] | None:
        """``kernel.contracts.Instances``: the live nodes where ``module`` has started."""
        settled = self._settled_at
        if settled is None or time.monotonic() < settled:
            return None
        return sorted(node.node_id for node in self.table.nodes_with_module(module))

    async def announce(self) -> None:
        """Publish this node's heartbeat now (also done every heartbeat interval)."""
        host, bus = self._host, self._bus
        if host is None or bus is None or not bus.connected:
            return
        info = describe_node(
            host.node_id,
            host.role.value,
            host.get(ModuleSet).running.values(),
            started_at=self._started_at,
            heartbeat_interval=self._interval,
            calls=self._calls(host),
        )
        subject = scoped(HEARTBEAT, self._scope(host))
        await bus.nats.publish(subject, info.model_dump_json().encode())

    @staticmethod
    def _calls(host: Host) -> list[dict[str, Any]]:
        """The services this process has called (a proxy built but never used is not news)."""
        registry = host.find(Registry)
        if registry is None:
            return []
        return [stats for stats in registry.call_stats() if stats["calls"] or stats["rejected"]]

    @staticmethod
    def _scope(host: Host) -> str | None:
        return announce_scope(host.role.value, host.get(ModuleSet).running)

    async def _beat(self) -> None:
        interval = self._interval
        while True:
            try:
                await self.announce()
            except Exception:
                log.exception("heartbeat failed")
            await asyncio.sleep(interval)

    async def _sweep(self) -> None:
        interval = self._interval
        while True:
            await asyncio.sleep(interval / 2)
            await self.table.expire()

    async def _on_heartbeat(self, msg: Any) -> None:
        try:
            info = NodeInfo.model_validate_json(msg.data)
        except ValidationError as error:
            log.warning("ignored a malformed heartbeat on %s: %s", msg.subject, error)
            return
        await self.table.saw(info, scope_of(msg.subject, HEARTBEAT))

    async def _on_leaving(self, msg: Any) -> None:
        node_id = msg.data.decode(errors="replace")
        await self.table.left(node_id, "stopped", scope_of(msg.subject, LEAVING), clean=True)

    async def _on_discover(self, _: Any) -> None:
        await self.announce()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        host, bus = self._host, self._bus
        if host is not None and bus is not None and bus.connected:
            with contextlib.suppress(Exception):
                await bus.nats.publish(scoped(LEAVING, self._scope(host)), host.node_id.encode())
            for subscription in self._subscriptions:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()
        self._subscriptions = []

    async def check(self) -> str | None:
        host = self._host
        if host is None:
            return None
        external = host.get(ModuleSet).external
        missing = [name for name in sorted(external) if not self.table.nodes_with_module(name)]
        if missing:
            return "waiting for a live instance of " + ", ".join(repr(m) for m in missing)
        return None
