"""The other side of forwarding: a module process answers ``webos.http.<module>`` requests by
running them through its own Litestar app in-process (no socket, no port).

Each request runs in a task of its own, so a slow route or a long stream (downloads, server-sent
events) never holds up the others (``_exchange.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from kernel.auth import ANONYMOUS, Principal
from kernel.gateway._exchange import Exchange
from kernel.gateway._forward import http_subject
from kernel.gateway._problems import problem_bytes, problem_headers
from kernel.gateway._wire import (
    HEADROOM,
    IDENTITY,
    WireError,
    WireRequest,
    chunk_size,
    decode_request,
    encode_answer,
)

if TYPE_CHECKING:
    from litestar import Litestar

    from kernel.runtime import Kernel

log = logging.getLogger("webos.gateway")


class HttpResponder:
    """Serves the HTTP routes of this process's modules to the gateway, over NATS.

    A kernel subsystem, added last: it subscribes before the modules' startup hooks run, so by
    the time the node's heartbeat shows its modules started it is reachable, and it holds the
    requests that arrive early until :meth:`open` (the kernel has started).
    """

    name = "http"

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.kernel: Kernel | None = None
        self._opened = asyncio.Event()
        self._subscriptions: list[Any] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._exchanges: set[Exchange] = set()

    async def start(self, kernel: Kernel) -> None:
        self.kernel = kernel
        nats = kernel.bus.nats
        for module in kernel.modules.values():
            if module.route_handlers:
                subject = http_subject(module.name)
                self._subscriptions.append(
                    await nats.subscribe(subject, queue=subject, cb=self._received)
                )
        await nats.flush()

    def open(self) -> None:
        """Answer requests from now on (those held since start go first)."""
        self._opened.set()

    async def check(self) -> str | None:
        return None

    async def _received(self, msg: Any) -> None:
        task = asyncio.create_task(self._serve(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, msg: Any) -> None:
        await self._opened.wait()
        assert self.kernel is not None
        nats = self.kernel.bus.nats
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
        exchange = Exchange(
            nats, msg.reply, request, limit, chunk_size(nats.max_payload), self._caller(request)
        )
        self._exchanges.add(exchange)
        try:
            await exchange.run(self.app)
        finally:
            self._exchanges.discard(exchange)

    def _caller(self, request: WireRequest) -> tuple[str | None, Principal]:
        """Who the gateway says the request is from: its signed identity, verified here."""
        assert self.kernel is not None
        raw = next((value for key, value in request.headers if key == IDENTITY), None)
        if raw is None:
            return None, ANONYMOUS
        token = raw.decode("ascii", errors="replace")
        principal = self.kernel.subsystem("security").forward_verifier.principal(token)
        return (token if principal.is_authenticated else None), principal

    async def stop(self) -> None:
        """Take no new requests; let those in hand finish (bounded by WEBOS_SHUTDOWN_TIMEOUT),
        then end the rest, telling the gateway so. Safe to call twice."""
        subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            try:
                await subscription.drain()
            except Exception as error:  # a lost connection: there is nothing left to drain
                log.warning("could not drain %s: %r", subscription.subject, error)
        if self._tasks and self._opened.is_set() and self.kernel is not None:
            await asyncio.wait(set(self._tasks), timeout=self.kernel.settings.shutdown_timeout)
        for exchange in list(self._exchanges):
            await exchange.shut("the module process is stopping")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def unforwardable_routes(app: Litestar, module: str) -> list[str]:
    """Routes of ``module`` the gateway cannot forward over NATS: websockets (only HTTP
    requests and answers, streamed or not, travel)."""
    from litestar.routes import WebSocketRoute

    prefix = f"/api/{module}"
    found = [
        f"WEBSOCKET {route.path}"
        for route in app.routes
        if route.path.startswith(prefix) and isinstance(route, WebSocketRoute)
    ]
    return sorted(set(found))
