"""The other side of forwarding: a module process answers ``webos.http.<module>`` requests by
running them through its own Litestar app in-process (no socket, no port)."""

from __future__ import annotations

import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

from kernel.gateway._forward import (
    HEADERS_HEADER,
    HEADROOM,
    META_HEADER,
    STATUS_HEADER,
    http_subject,
)

if TYPE_CHECKING:
    from litestar import Litestar

    from kernel.runtime import Kernel

log = logging.getLogger("webos.gateway")


async def call_asgi(
    app: Litestar, meta: dict[str, Any], body: bytes
) -> tuple[int, list[list[str]], bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": meta["method"],
        "scheme": "http",
        "path": meta["path"],
        "raw_path": meta["path"].encode(),
        "root_path": "",
        "query_string": meta.get("query", "").encode("latin-1"),
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in meta["headers"]],
        "client": ("127.0.0.1", 0),
        "server": ("webos-forward", 0),
        "state": {},
    }
    sent_body = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if sent_body:
            return {"type": "http.disconnect"}
        sent_body = True
        return {"type": "http.request", "body": body, "more_body": False}

    status = 500
    headers: list[list[str]] = []
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [
                [k.decode("latin-1"), v.decode("latin-1")] for k, v in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)  # type: ignore[arg-type]
    return status, headers, b"".join(chunks)


class HttpResponder:
    """Serves the HTTP routes of this process's modules to the gateway, over NATS."""

    def __init__(self, kernel: Kernel, app: Litestar) -> None:
        self.kernel = kernel
        self.app = app
        self._subscriptions: list[Any] = []

    async def start(self) -> None:
        nats = self.kernel.bus.nats
        for module in self.kernel.modules.values():
            if module.route_handlers:
                subject = http_subject(module.name)
                self._subscriptions.append(
                    await nats.subscribe(subject, queue=subject, cb=self._answer)
                )
        await nats.flush()

    async def _answer(self, msg: Any) -> None:
        try:
            meta = json.loads((msg.headers or {})[META_HEADER])
            status, headers, body = await call_asgi(self.app, meta, msg.data)
        except Exception:
            log.exception("forwarded request on %s failed", msg.subject)
            status, headers, body = (
                500,
                [["content-type", "application/problem+json"]],
                json.dumps(
                    {
                        "type": "about:blank",
                        "title": "Internal Server Error",
                        "status": 500,
                        "detail": "the module failed to answer; the error was logged",
                    }
                ).encode(),
            )
        limit = self.kernel.bus.nats.max_payload - HEADROOM
        if len(body) > limit:
            status, headers = 502, [["content-type", "application/problem+json"]]
            body = json.dumps(
                {
                    "type": "about:blank",
                    "title": "Bad Gateway",
                    "status": 502,
                    "detail": f"the response ({len(body)} bytes) is larger than one NATS message "
                    f"({limit} bytes): this route cannot be served from a standalone module",
                }
            ).encode()
        reply = {STATUS_HEADER: str(status), HEADERS_HEADER: json.dumps(headers)}
        await self.kernel.bus.nats.publish(msg.reply, body, headers=reply)

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            with contextlib.suppress(Exception):
                await subscription.drain()
        self._subscriptions = []


def streaming_routes(app: Litestar, module: str) -> list[str]:
    """Routes of ``module`` that stream a body, which one NATS message cannot carry: request
    bodies without a size limit, and streamed responses (Stream, server-sent events, files)."""
    from litestar.response import File, ServerSentEvent, Stream

    streaming = (Stream, ServerSentEvent, File)
    found = []
    prefix = f"/api/{module}"
    for route in app.routes:
        if not route.path.startswith(prefix):
            continue
        for handler in getattr(route, "route_handlers", ()):
            returns = handler.parsed_fn_signature.return_type.annotation
            unlimited = getattr(handler, "request_max_body_size", ...) is None
            if unlimited or (isinstance(returns, type) and issubclass(returns, streaming)):
                methods = ",".join(sorted(handler.http_methods))
                found.append(f"{methods} {route.path}")
    return sorted(set(found))
