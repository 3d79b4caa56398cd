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
from kernel.nodes._info import DISCOVER, HEARTBEAT, NodeInfo, scope_of
from kernel.transport import connect_once

STARTED = ModuleState.STARTED.value

log = logging.getLogger("webos.nodes")
MISSED_BEATS = 3
# Refused node ids remembered so each is logged once as a warning (bounded: ids are chosen by the
# sender, and a hostile one may invent many).
_REMEMBERED_REFUSALS = 256

Emit = Callable[[str, Any], Awaitable[Any]]


class NodeTable:
    """Nodes seen recently. ``emit`` (the gateway's) announces arrivals and departures.

    Each node is kept with the scope its heartbeats came under (a module's subject, or the
    kernel's: see ``_info.py``): a heartbeat the subject does not vouch for is refused, and so is
    one that would take over a node id seen under another scope, or a module's subject saying
    that a node of another scope left.
    """

    def __init__(
        self, *, emit: Emit | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._nodes: dict[str, NodeInfo] = {}
        # Each node's heartbeat before its latest: rates (calls/s) are counter differences.
        self._previous: dict[str, NodeInfo] = {}
        self._scopes: dict[str, str | None] = {}
        self._seen_at: dict[str, float] = {}
        self._refused: set[str] = set()
        self.emit = emit
        self._clock = clock
        self._changed = asyncio.Event()
        # Per module: done when its last live node is dropped (callers waiting on it give up).
        self._gone: dict[str, asyncio.Future[None]] = {}
        # Per node: done when it is dropped (a call to its own subject gives up).
        self._node_gone: dict[str, asyncio.Future[None]] = {}

    async def saw(self, info: NodeInfo, scope: str | None = None) -> bool:
        """Record a heartbeat that came under ``scope``; False (and logged) if refused."""
        reason = info.vouches_for(scope)
        owner = self._scopes.get(info.node_id, scope)
        if reason is None and scope is not None and owner != scope:
            reason = f"node id {info.node_id!r} belongs to {_describe(owner)}"
        if reason is not None:
            self._refuse(info.node_id, scope, reason)
            return False
        is_new = info.node_id not in self._nodes
        if not is_new:
            self._previous[info.node_id] = self._nodes[info.node_id]
        self._nodes[info.node_id] = info
        self._scopes[info.node_id] = scope
        self._seen_at[info.node_id] = self._clock()
        if is_new:
            log.info(
                "node up: %s (%s) modules=%s", info.node_id, info.role, sorted(info.module_names())
            )
            self._notify()
            if self.emit is not None:
                await self.emit("webos.node.up", _summary(info))
        return True

    def _refuse(self, node_id: str, scope: str | None, reason: str) -> None:
        if node_id in self._refused:
            log.debug("refused a heartbeat of node %s: %s", node_id, reason)
            return
        if len(self._refused) >= _REMEMBERED_REFUSALS:
            self._refused.clear()
        self._refused.add(node_id)
        log.warning(
            "refused a heartbeat of node %s on the subject of %s: %s",
            node_id,
            _describe(scope),
            reason,
        )

    async def left(
        self, node_id: str, reason: str, scope: str | None = None, *, clean: bool = False
    ) -> None:
        """Drop ``node_id``; a module's subject (``scope``) may only drop a node of its own.
        ``clean``: the node said it was leaving (a stop), so nothing went wrong: an INFO line."""
        if node_id not in self._nodes:
            return
        if scope is not None and self._scopes.get(node_id) != scope:
            log.warning("ignored the word of %s that node %s left", _describe(scope), node_id)
            return
        info = self._nodes.pop(node_id)
        self._previous.pop(node_id, None)
        self._scopes.pop(node_id, None)
        self._seen_at.pop(node_id, None)
        if clean:
            log.info("node left: %s (%s): %s", node_id, info.role, reason)
        else:
            log.warning("node down: %s (%s): %s", node_id, info.role, reason)
        self._notify()
        if node_id in self._node_gone:
            self._node_gone.pop(node_id).set_result(None)
        for module in info.module_names():
            if not self._runs(module) and module in self._gone:
                self._gone.pop(module).set_result(None)
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

    def previous(self, node_id: str) -> NodeInfo | None:
        """The heartbeat ``node_id`` sent before its latest one (None after its first)."""
        return self._previous.get(node_id)

    def nodes_with_module(self, name: str) -> list[NodeInfo]:
        """Live nodes where module ``name`` has started (not one still starting, or failed)."""
        return [
            node
            for node in self._nodes.values()
            if any(module.name == name and module.state == STARTED for module in node.modules)
        ]

    def module_gone(self, module: str) -> asyncio.Future[None]:
        """Done once no node listed here runs ``module`` (whatever its state: one still
        starting holds the requests it gets until it has started); already done if none does."""
        gone = self._gone.get(module)
        if gone is None:
            gone = asyncio.get_running_loop().create_future()
            if self._runs(module):
                self._gone[module] = gone
            else:
                gone.set_result(None)
        return gone

    def node_gone(self, node_id: str) -> asyncio.Future[None]:
        """Done once ``node_id`` is dropped from the table; already done if it is not listed."""
        gone = self._node_gone.get(node_id)
        if gone is None:
            gone = asyncio.get_running_loop().create_future()
            if node_id in self._nodes:
                self._node_gone[node_id] = gone
            else:
                gone.set_result(None)
        return gone

    def _runs(self, module: str) -> bool:
        return any(module in node.module_names() for node in self._nodes.values())

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)


def _describe(scope: str | None) -> str:
    return f"module {scope!r}" if scope else "the kernel"


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
                info = NodeInfo.model_validate_json(msg.data)
                await table.saw(info, scope_of(msg.subject, HEARTBEAT))

        for subject in (HEARTBEAT, f"{HEARTBEAT}.*"):
            await client.subscribe(subject, cb=saw)
        await client.publish(DISCOVER, b"")
        await client.flush()
        await asyncio.sleep(wait)
    finally:
        await client.close()
    return table.nodes()
