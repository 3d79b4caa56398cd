"""Routes of modules that run in other processes: the gateway forwards them over NATS.

The gateway mounts a remote module's real route handlers (so routing, path validation, guards
and the OpenAPI schema are the same as in-process) with a ``before_request`` step that sends the
request to a live instance on ``webos.http.<module>`` and returns its answer instead of calling
the handler. Bodies travel as one NATS message each way; larger ones are refused (413/502).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from litestar import Request, Response
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from kernel.context import current_traceparent
from kernel.gateway._problems import problem
from kernel.telemetry._metrics import attributes, instruments
from kernel.telemetry._spans import SpanKind, child_span, fail

if TYPE_CHECKING:
    from kernel.runtime import Kernel

HTTP_SUBJECT = "webos.http.{module}"
META_HEADER = "webos-http"
STATUS_HEADER = "webos-http-status"
HEADERS_HEADER = "webos-http-headers"
# Room for NATS headers (identity, trace, request line) inside one message.
HEADROOM = 16 * 1024
_HOP_BY_HOP = {b"connection", b"transfer-encoding", b"keep-alive", b"upgrade", b"content-length"}


def http_subject(module: str) -> str:
    return HTTP_SUBJECT.format(module=module)


def request_meta(scope: dict[str, Any]) -> dict[str, Any]:
    return {
        "method": scope["method"],
        "path": scope["path"],
        "query": scope.get("query_string", b"").decode("latin-1"),
        "headers": [
            [key.decode("latin-1"), value.decode("latin-1")]
            for key, value in scope["headers"]
            if key not in _HOP_BY_HOP
        ],
    }


def max_body(kernel: Kernel) -> int:
    return max(kernel.bus.nats.max_payload - HEADROOM, 0)


def make_forwarder(kernel: Kernel, module: str) -> Any:
    subject = http_subject(module)

    async def forward(request: Request[Any, Any, Any]) -> Response[Any]:
        path = request.url.path
        body = await request.body()
        limit = max_body(kernel)
        if len(body) > limit:
            return problem(
                413,
                f"module {module!r} runs in another process, which takes request bodies of at "
                f"most {limit} bytes through the gateway",
                instance=path,
            )
        started = time.perf_counter()
        status = 503
        try:
            with child_span(
                f"forward {module}",
                SpanKind.CLIENT,
                {"webos.module": module, "http.request.method": request.method, "url.path": path},
            ) as span:
                reply = await _send(request, path, body)
                status = reply.status_code
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    fail(span, f"HTTP {status}")
        finally:
            labels = attributes(module=module, status=str(status))
            meters = instruments()
            meters.forwarded.add(1, labels)
            meters.forward_duration.record(time.perf_counter() - started, labels)
        return reply

    async def _send(request: Request[Any, Any, Any], path: str, body: bytes) -> Response[Any]:
        meta = request_meta(dict(request.scope))
        traceparent = current_traceparent.get()  # the forwarding span (see kernel.telemetry)
        if traceparent:
            # The module's server span is a child of the forwarding span, not of the caller's.
            meta["headers"] = [p for p in meta["headers"] if p[0].lower() != "traceparent"]
            meta["headers"].append(["traceparent", traceparent])
        headers = {META_HEADER: json.dumps(meta)}
        timeout = kernel.settings.request_timeout
        try:
            reply = await kernel.bus.nats.request(subject, body, timeout=timeout, headers=headers)
        except NoRespondersError:
            return problem(503, f"no live instance of module {module!r}", instance=path)
        except (NatsTimeout, TimeoutError):
            return problem(
                503, f"module {module!r} did not answer within {timeout}s", instance=path
            )
        status = int((reply.headers or {}).get(STATUS_HEADER, "502"))
        pairs = json.loads((reply.headers or {}).get(HEADERS_HEADER, "[]"))
        response_headers = {key: value for key, value in pairs if key.lower() != "content-length"}
        media_type = response_headers.pop("content-type", None)
        return Response(
            reply.data, status_code=status, headers=response_headers, media_type=media_type
        )

    return forward
