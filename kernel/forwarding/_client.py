"""The client side of forwarding: the gateway answers routes of modules that run elsewhere.

The gateway mounts a remote module's real route handlers, so routing, authentication and the
OpenAPI schema are the same as in-process. The router of such a module gets :class:`Forwarder` as
its middleware: it runs after the app's middleware (the caller is authenticated, the trace
context set, the app-wide checks passed: an anonymous caller of a closed route is refused here)
and instead of the handler, guards and parameter parsing, which run in the module process
against the same code (the server side, ``_server.py``). The request goes to a live
instance on ``webos.http.<module>`` with the context the propagation seam carries everywhere
(trace, and the principal the gateway authenticated, signed): the module's guards judge the
caller the gateway knows, API keys and role changes included.

A request whose body fits one NATS message gets its answer as one message (the fast path).
Larger bodies and streamed answers (downloads, server-sent events) go in chunks with flow control
through a relay (``_client_relay.py``); ``_wire.py`` describes both.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from litestar.types import (
    ASGIApp,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    Scope,
    Send,
)
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from kernel.auth import CREDENTIAL_HEADERS, without_cookies
from kernel.bus import Bus
from kernel.config import CoreSettings
from kernel.contracts import Host, Instances
from kernel.errors import DeadlineExceeded
from kernel.forwarding._client_relay import CLIENT_GONE, Relay
from kernel.forwarding._settings import ForwardingSettings
from kernel.forwarding._websockets import refuse_websocket
from kernel.forwarding._wire import (
    DEADLINE_CUT,
    HEADROOM,
    HOP_BY_HOP,
    HTTP_SUBJECT,
    WireError,
    chunk_size,
    decode_answer,
    encode_request,
)
from kernel.modules import ModuleSet, RouterConvention, module_router
from kernel.problems import send_problem
from kernel.propagation import Propagation, call_deadline
from kernel.telemetry._metrics import attributes, instruments
from kernel.telemetry._spans import SpanKind, child_span, fail
from kernel.transport import PayloadTooLarge, check_size, request_unless_gone

if TYPE_CHECKING:
    from litestar import Router
    from litestar.config.app import AppConfig

__all__ = ["Forwarder", "ForwardingClient", "http_subject"]


def http_subject(module: str) -> str:
    return HTTP_SUBJECT.format(module=module)


class ForwardingClient:
    """The gateway's side of forwarding, as a subsystem: it mounts the routes of every module
    running elsewhere, each answered by a :class:`Forwarder`."""

    name = "forwarding"

    def __init__(self) -> None:
        self._host: Host | None = None

    def middleware(self, host: Host, module: str) -> Any:
        """Router middleware answering every request of ``module`` from a process running it."""
        forwarder = Forwarder(host, module)

        def middleware(app: ASGIApp) -> ASGIApp:
            return forwarder  # not ``app``: the route's guards and handler run elsewhere

        return middleware

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        app_config.route_handlers.extend(self.remote_routers(host))
        return app_config

    def remote_routers(self, host: Host) -> list[Router]:
        """Routers for modules that run in other processes, forwarded over NATS."""
        modules = host.get(ModuleSet)
        routers = []
        for spec in modules.elsewhere.values():
            if "router" not in spec.files:
                continue
            module = modules.elsewhere_module(spec)
            source = importlib.import_module(f"{spec.package}.router")
            RouterConvention().collect(module, source, host)
            if module.route_handlers:
                routers.append(module_router(module, forward=self.middleware(host, spec.name)))
        return routers

    async def start(self, host: Host) -> None:
        self._host = host

    async def stop(self) -> None:
        self._host = None

    async def check(self) -> str | None:
        return None


class Forwarder:
    """ASGI app sending a request to a live instance of ``module`` and relaying its answer."""

    def __init__(self, host: Host, module: str) -> None:
        self.bus = host.get(Bus)
        self.timeout = host.get(CoreSettings).request_timeout
        self.propagation = host.get(Propagation)
        # A Protocol, found by what it does (mypy wants concrete classes for type[T]).
        self.instances = host.find(Instances)  # type: ignore[type-abstract]
        # Never passed on: hop-by-hop headers, and every credential (the gateway authenticated
        # the request; the module process gets the principal, signed, and nothing to replay).
        extra = host.get(ForwardingSettings).credential_headers
        names = {*CREDENTIAL_HEADERS, *extra}
        self.never_forwarded = HOP_BY_HOP | {name.encode("latin-1") for name in names}
        # What ``_request`` drops, made again only when the propagation seam's headers change.
        self._owned: frozenset[bytes] | None = None
        self._dropped = self.never_forwarded
        #: The bus's NATS client, looked up again once it is closed (the bus reconnected):
        #: reading it through FastStream's configuration costs more than a whole small header.
        self._nats: Any = None
        self.module = module
        self.subject = http_subject(module)
        self.span_name = f"forward {module}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await refuse_websocket(send)
            return
        http = cast(HTTPScope, scope)
        started = time.perf_counter()
        status = 503
        try:
            with child_span(
                self.span_name,
                SpanKind.CLIENT,
                {
                    "webos.module": self.module,
                    "http.request.method": http["method"],
                    "url.path": http["path"],
                },
            ) as span:
                status = await self._forward(http, receive, send)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    fail(span, f"HTTP {status}")
        finally:
            labels = attributes(module=self.module, status=str(status))
            meters = instruments()
            meters.forwarded.add(1, labels)
            meters.forward_duration.record(time.perf_counter() - started, labels)

    async def _forward(self, scope: HTTPScope, receive: Receive, send: Send) -> int:
        nats = self._nats
        if nats is None or nats.is_closed:
            nats = self._nats = self.bus.nats
        limit = nats.max_payload - HEADROOM
        # The body as far as one message takes it (servers hand it over in pieces).
        parts: list[bytes] = []
        size, more = 0, True
        while more and size <= limit:
            message: Any = await receive()
            if message["type"] == "http.disconnect":
                return CLIENT_GONE
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            more = message.get("more_body", False)
        body = parts[0] if len(parts) == 1 else b"".join(parts)
        target = scope.get("raw_path") or scope["path"].encode()
        if scope["query_string"]:
            target += b"?" + scope["query_string"]
        whole = not more and size <= limit
        # Inside the forwarding span: the trace names it; the identity is the caller's, as the
        # authentication middleware set it; the deadline is the request's (or this wait's).
        context: dict[str, str] = {}
        self.propagation.inject(context, awaited=True)
        try:
            timeout = call_deadline(self.timeout, context, f"forwarding to {self.module!r}")
        except DeadlineExceeded as error:
            return await send_problem(send, 504, str(error), scope["path"])
        payload = self._request(scope, target, body if whole else b"", whole, context)
        if whole and len(payload) > nats.max_payload:  # headers beyond the headroom
            whole = False
            payload = self._request(scope, target, b"", whole, context)
        try:
            check_size(nats, self.subject, payload, None)
        except PayloadTooLarge as error:  # the request line and headers alone
            return await send_problem(send, 413, str(error), scope["path"])
        try:
            gone = self.instances.module_gone(self.module) if self.instances else None
            reply = await request_unless_gone(
                nats, self.subject, payload, timeout=timeout, gone=gone
            )
            answer = decode_answer(reply.data)
        except NoRespondersError:
            detail = f"no live instance of module {self.module!r}"
            return await send_problem(send, 503, detail, scope["path"])
        except (NatsTimeout, TimeoutError):
            return await self._unanswered(send, timeout, scope["path"])
        except WireError as error:
            detail = f"module {self.module!r} sent an answer the gateway cannot read: {error}"
            return await send_problem(send, 502, detail, scope["path"])
        if answer.status == 503 and (DEADLINE_CUT, b"1") in answer.headers:
            return await self._unanswered(send, timeout, scope["path"])
        if answer.inbox is None:
            start: HTTPResponseStartEvent = {
                "type": "http.response.start",
                "status": answer.status,
                "headers": answer.headers,
            }
            await send(start)
            await send({"type": "http.response.body", "body": answer.body, "more_body": False})
            return answer.status
        relay = Relay(nats, answer.inbox, receive, send, chunk_size(nats.max_payload), self.module)
        return await relay.run(None if whole else (body, more), instance=scope["path"])

    async def _unanswered(self, send: Send, timeout: float, path: str) -> int:
        detail = f"module {self.module!r} did not answer within {timeout}s"
        return await send_problem(send, 503, detail, path)

    def _request(
        self, scope: HTTPScope, target: bytes, body: bytes, whole: bool, context: dict[str, str]
    ) -> bytes:
        headers: Iterable[tuple[bytes, bytes]] = scope["headers"]
        for key, _ in headers:
            if key == b"cookie":  # most API calls send none: no copy of the headers then
                headers = _without_session_cookies(headers)
                break
        return encode_request(
            scope["method"],
            target,
            headers,
            body,
            whole=whole,
            context=context,
            dropped=self.dropped(),
        )

    def dropped(self) -> frozenset[bytes]:
        """Client headers never passed on; those of the context's names too: only the kernel
        sets them."""
        owned = self.propagation.header_bytes
        if owned is not self._owned:
            self._owned, self._dropped = owned, self.never_forwarded | owned
        return self._dropped


def _without_session_cookies(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    kept = []
    for key, value in headers:
        if key == b"cookie":
            value = without_cookies(value)
            if not value:
                continue
        kept.append((key, value))
    return kept
