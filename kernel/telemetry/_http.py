"""HTTP pieces: the server span of every request, and ``/metrics``.

With metrics on, the server span comes from Litestar's OpenTelemetry plugin, whose ASGI
instrumentation also records the HTTP metrics. With metrics off, the same plugin runs
:class:`ServerSpanMiddleware` instead: one span per request, made the kernel's short way
(``kernel.telemetry._spans``), without the instrumentation's per-request work (a span for each
``receive`` and ``send`` it then discards, header capture, URL rebuilding, metric bookkeeping),
which cost more than the request itself.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.middleware.base import AbstractMiddleware
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.plugins.opentelemetry.middleware import OpenTelemetryInstrumentationMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace

from kernel.context import current_traceparent
from kernel.telemetry._setup import prometheus_text
from kernel.telemetry._spans import SpanKind, fail, received_span, traceparent_of

#: Probes and scrapes would drown real requests in traces.
UNTRACED_PATHS = ["^/health$", "^/ready$", "^/metrics$"]


def _span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
    # Before routing only the method is known; a raw path as the name (or as http.route, which
    # becomes a metric label) would make one series per URL. sync_server_span names it later.
    return str(scope.get("method", "HTTP")), {}


def opentelemetry_plugin(instrumented: bool = True) -> OpenTelemetryPlugin:
    """Litestar's plugin; ``instrumented`` keeps its ASGI instrumentation (HTTP metrics), else
    the server span is :class:`ServerSpanMiddleware`'s. Either wraps the whole app, routing
    included, so a request no route matches still gets its span."""
    extra: dict[str, Any] = {} if instrumented else {"middleware_class": ServerSpanMiddleware}
    config = OpenTelemetryConfig(
        scope_span_details_extractor=_span_details,  # type: ignore[arg-type]
        exclude=UNTRACED_PATHS,
        exclude_spans=["receive", "send"],
        scopes={"http"},  # type: ignore[arg-type]
        **extra,
    )
    plugin = OpenTelemetryPlugin(config)
    if not instrumented:
        # This Litestar's plugin wraps the app in its own middleware class whatever
        # ``middleware_class`` says, unless its ``_middleware`` is set (nothing public sets it):
        # without this line the ASGI instrumentation ran anyway (measured: ~400 us a request).
        plugin._middleware = config.middleware
    return plugin


_TRACEPARENT = b"traceparent"
#: Keys of the ASGI instrumentation's server span (its default, older HTTP conventions).
_SCHEMES = {"http": "http", "https": "https"}


class ServerSpanMiddleware(OpenTelemetryInstrumentationMiddleware):
    """The server span of a request: named by its method until routing names it by route
    (:func:`sync_server_span`), child of the caller's ``traceparent`` header, with the
    response's status; a 5xx fails it, as the ASGI instrumentation does."""

    def __init__(self, app: ASGIApp, config: OpenTelemetryConfig) -> None:
        # Not the parent's __init__: that builds the ASGI instrumentation this class replaces.
        AbstractMiddleware.__init__(
            self,
            app=app,
            scopes=config.scopes,
            exclude=config.exclude,
            exclude_opt_key=config.exclude_opt_key,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = None
        for name, value in scope["headers"]:
            if name == _TRACEPARENT:
                incoming = value.decode("latin-1")
                break
        token = current_traceparent.set(incoming)
        try:
            method = str(scope.get("method", "HTTP"))
            server = scope.get("server")
            with received_span(
                method,
                SpanKind.SERVER,
                {
                    "http.method": method,
                    "http.scheme": _SCHEMES.get(scope.get("scheme", "http"), "http"),
                    "http.target": scope["path"],
                    "http.flavor": scope.get("http_version", "1.1"),
                    "net.host.port": server[1] if server and server[1] is not None else 0,
                },
            ) as span:

                async def send_with_status(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        status = message["status"]
                        span.set_attribute("http.status_code", status)
                        if status >= 500:
                            fail(span, f"HTTP {status}")
                    await send(message)

                await self.app(scope, receive, send_with_status)
        finally:
            current_traceparent.reset(token)


def sync_server_span(app: ASGIApp) -> ASGIApp:
    """Inside the server span, after routing: name it by route and point
    ``current_traceparent`` at it (events, calls and tasks of this request become its children).
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        traceparent = traceparent_of(span)
        if traceparent is None or scope["type"] != "http":
            await app(scope, receive, send)
            return
        route = scope.get("path_template") or scope["path"]
        span.update_name(f"{scope.get('method', 'HTTP')} {route}")
        span.set_attribute("http.route", route)
        token = current_traceparent.set(traceparent)
        try:
            await app(scope, receive, send)
        finally:
            current_traceparent.reset(token)

    return middleware


def metrics_handler(guards: list[Any]) -> Any:
    @get("/metrics", guards=guards, tags=["system"], include_in_schema=True, sync_to_thread=False)
    def prometheus_metrics() -> Response[bytes]:
        """This process's metrics in the Prometheus text format (needs ``system.read``)."""
        body, content_type = prometheus_text()
        return Response(body, media_type=content_type)

    return prometheus_metrics
