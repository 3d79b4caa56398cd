"""The server side of forwarding: a module process answers ``webos.http.<module>`` requests by
running them through its own Litestar app in-process (no socket, no port).

Each request runs in a task of its own, so a slow route or a long stream (downloads, server-sent
events) never holds up the others (``_server_exchange.py``). Before the app sees a request, the
propagation seam restores the context the gateway sent (trace, the caller's signed identity, its
deadline): the module's guards judge the principal the gateway authenticated, and its service
calls wait no longer than the gateway does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from kernel.bus import Bus
from kernel.contracts import Host
from kernel.forwarding._client import http_subject
from kernel.forwarding._server_exchange import Exchange
from kernel.forwarding._wire import (
    HEADROOM,
    HOP_BY_HOP,
    WireError,
    chunk_size,
    decode_request,
    encode_answer,
    header_text,
)
from kernel.modules import ModuleSet
from kernel.problems import problem_bytes, problem_headers
from kernel.propagation import Propagation
from kernel.transport import HAND_BACK_WAIT, deliver_directly

if TYPE_CHECKING:
    from litestar import Litestar

log = logging.getLogger("webos.gateway")


class ForwardingServer:
    """Serves the HTTP routes of this process's modules to the gateway, over NATS.

    A kernel subsystem, added last: it subscribes before the modules' startup hooks run, so by
    the time the node's heartbeat shows its modules started it is reachable, and it holds the
    requests that arrive early until :meth:`open` (the kernel has started). The app is handed
    over with :meth:`serve` once it is built, before start.
    """

    name = "http"

    def __init__(self) -> None:
        self.app: Litestar | None = None
        self._host: Host | None = None
        self._nats: Any = None
        self._propagation = Propagation.default()
        self._opened = asyncio.Event()
        self._subscriptions: list[Any] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._exchanges: set[Exchange] = set()
        self._owned: frozenset[bytes] | None = None
        self._dropped = HOP_BY_HOP

    def serve(self, app: Litestar) -> None:
        self.app = app

    async def start(self, host: Host) -> None:
        if self.app is None:
            raise RuntimeError("ForwardingServer.serve(app) must be called before start")
        self._host = host
        self._propagation = host.get(Propagation)
        nats = self._nats = host.get(Bus).nats
        for module in host.get(ModuleSet).running.values():
            if module.route_handlers:
                subject = http_subject(module.name)
                subscription = await nats.subscribe(subject, queue=subject)
                # Each request starts its task in the step nats-py reads it: no queue and no
                # subscription task in between (one task step less per request).
                deliver_directly(subscription, self._received)
                self._subscriptions.append(subscription)
        await nats.flush()

    def open(self) -> None:
        """Answer requests from now on (those held since start go first)."""
        self._opened.set()

    async def check(self) -> str | None:
        return None

    def _received(self, msg: Any) -> None:
        task = asyncio.create_task(self._serve(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, msg: Any) -> None:
        if not self._opened.is_set():  # held since start (no wait once open)
            await self._opened.wait()
        nats = self._nats
        if not msg.reply:
            log.warning("ignored a forwarded request on %s without a reply subject", msg.subject)
            return
        try:
            request = decode_request(msg.data)
        except WireError as error:
            log.warning("ignored a malformed forwarded request on %s: %s", msg.subject, error)
            body = problem_bytes(400, str(error))
            await nats.publish(msg.reply, encode_answer(400, problem_headers(body), body))
            return
        limit = nats.max_payload - HEADROOM
        owned = self._propagation.header_bytes
        if owned is not self._owned:  # made again only when the seam's headers change
            self._owned, self._dropped = owned, HOP_BY_HOP | owned
        exchange = Exchange(
            nats, msg.reply, request, limit, chunk_size(nats.max_payload), dropped=self._dropped
        )
        self._exchanges.add(exchange)
        # Who the gateway says the request is from (and its trace): restored for the app.
        undo = self._propagation.extract(header_text(request.headers, owned), awaited=True)
        try:
            assert self.app is not None
            await exchange.run(self.app)
        finally:
            undo()
            self._exchanges.discard(exchange)

    async def stop(self) -> None:
        """Take no new requests; let those in hand finish (within what is left of the process's
        shutdown bound), then end the rest, telling the gateway so. Safe to call twice."""
        subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            try:
                await subscription.drain()
            except Exception as error:  # a lost connection: there is nothing left to drain
                log.warning("could not drain %s: %r", subscription.subject, error)
        host = self._host
        if self._tasks and self._opened.is_set() and host is not None:
            await asyncio.wait(set(self._tasks), timeout=host.time_left())
        for exchange in list(self._exchanges):
            if host is not None and not exchange.finished:  # once: stop may be called twice
                host.cut_off(f"HTTP {exchange.describe()} (forwarded)")
            await exchange.shut("the module process is stopping")
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=HAND_BACK_WAIT)
