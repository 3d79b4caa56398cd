"""Routes of modules that run in other processes: the gateway forwards them over NATS.

The gateway mounts a remote module's real route handlers, so routing, authentication and the
OpenAPI schema are the same as in-process. The router of such a module gets :class:`Forwarder` as
its middleware: it runs after the app's middleware (the caller is authenticated, the trace
context set) and instead of the handler, guards and parameter parsing, which run in the module
process against the same code. The request goes to a live instance on ``webos.http.<module>``
with the principal the gateway authenticated, signed (``kernel.auth._forwarded``): the module's
guards judge the caller the gateway knows, API keys and role changes included.

A request whose body fits one NATS message gets its answer as one message (the fast path).
Larger bodies and streamed answers (downloads, server-sent events) go in chunks with flow control
through a relay (``_relay.py``); ``_wire.py`` describes both.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from litestar.types import ASGIApp, Receive, Scope, Send
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from kernel.auth._forwarded import IdentitySigner
from kernel.context import current_traceparent
from kernel.gateway._problems import send_problem
from kernel.gateway._relay import CLIENT_GONE, Relay
from kernel.gateway._wire import (
    HEADROOM,
    HTTP_SUBJECT,
    WireError,
    chunk_size,
    decode_answer,
    encode_request,
)
from kernel.telemetry._metrics import attributes, instruments
from kernel.telemetry._spans import SpanKind, child_span, fail

if TYPE_CHECKING:
    from kernel.runtime import Kernel

__all__ = ["HTTP_SUBJECT", "Forwarder", "forwarding", "http_subject"]


def http_subject(module: str) -> str:
    return HTTP_SUBJECT.format(module=module)


def forwarding(kernel: Kernel, module: str) -> Any:
    """Router middleware answering every request of ``module`` from a process running it."""
    forwarder = Forwarder(kernel, module)

    def middleware(app: ASGIApp) -> ASGIApp:
        return forwarder  # not ``app``: the route's guards and handler run in the module process

    return middleware


class Forwarder:
    """ASGI app sending a request to a live instance of ``module`` and relaying its answer."""

    def __init__(self, kernel: Kernel, module: str) -> None:
        self.kernel = kernel
        self.module = module
        self.subject = http_subject(module)
        self.span_name = f"forward {module}"
        self._signer: IdentitySigner | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # Only HTTP travels; a module with websocket routes refuses to run standalone.
            await send({"type": "websocket.close", "code": 1011, "reason": "not forwarded"})
            return
        started = time.perf_counter()
        status = 503
        try:
            with child_span(
                self.span_name,
                SpanKind.CLIENT,
                {
                    "webos.module": self.module,
                    "http.request.method": scope["method"],
                    "url.path": scope["path"],
                },
            ) as span:
                status = await self._forward(scope, receive, send)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    fail(span, f"HTTP {status}")
        finally:
            labels = attributes(module=self.module, status=str(status))
            meters = instruments()
            meters.forwarded.add(1, labels)
            meters.forward_duration.record(time.perf_counter() - started, labels)

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> int:
        nats = self.kernel.bus.nats
        limit = nats.max_payload - HEADROOM
        # The body as far as one message takes it (servers hand it over in pieces).
        parts: list[bytes] = []
        size, more = 0, True
        while more and size <= limit:
            message = await receive()
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
        payload = self._request(scope, target, body if whole else b"", whole)
        if whole and len(payload) > nats.max_payload:  # headers beyond the headroom
            whole = False
            payload = self._request(scope, target, b"", whole)
        timeout = self.kernel.settings.request_timeout
        try:
            reply = await nats.request(self.subject, payload, timeout=timeout)
            answer = decode_answer(reply.data)
        except NoRespondersError:
            detail = f"no live instance of module {self.module!r}"
            return await send_problem(send, 503, detail, scope["path"])
        except (NatsTimeout, TimeoutError):
            detail = f"module {self.module!r} did not answer within {timeout}s"
            return await send_problem(send, 503, detail, scope["path"])
        except WireError as error:
            detail = f"module {self.module!r} sent an answer the gateway cannot read: {error}"
            return await send_problem(send, 502, detail, scope["path"])
        if answer.inbox is None:
            await send(
                {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
            )
            await send({"type": "http.response.body", "body": answer.body})
            return answer.status
        relay = Relay(nats, answer.inbox, receive, send, chunk_size(nats.max_payload), self.module)
        return await relay.run(None if whole else (body, more), instance=scope["path"])

    def _request(self, scope: Scope, target: bytes, body: bytes, whole: bool) -> bytes:
        return encode_request(
            scope["method"],
            target,
            scope["headers"],
            body,
            whole=whole,
            traceparent=current_traceparent.get(),  # the forwarding span (see kernel.telemetry)
            identity=self._identity(scope),
        )

    def _identity(self, scope: Scope) -> str | None:
        """The caller as the gateway authenticated it, signed for the module process."""
        principal = scope.get("user")
        if principal is None or not principal.is_authenticated:
            return None
        if self._signer is None:
            self._signer = self.kernel.subsystem("security").forward_signer
            if self._signer is None:
                raise RuntimeError("this gateway cannot sign identities for forwarded requests")
        return self._signer.token(principal)
