"""HTTP pieces: Litestar's OpenTelemetry plugin configured for the gateway, and ``/metrics``."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.types import ASGIApp, Receive, Scope, Send
from opentelemetry import trace

from kernel.context import current_traceparent
from kernel.telemetry._setup import prometheus_text
from kernel.telemetry._spans import traceparent_of

#: Probes and scrapes would drown real requests in traces.
UNTRACED_PATHS = ["^/health$", "^/ready$", "^/metrics$"]


def _span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
    # Before routing only the method is known; a raw path as the name (or as http.route, which
    # becomes a metric label) would make one series per URL. sync_server_span names it later.
    return str(scope.get("method", "HTTP")), {}


def opentelemetry_plugin() -> OpenTelemetryPlugin:
    return OpenTelemetryPlugin(
        OpenTelemetryConfig(
            scope_span_details_extractor=_span_details,  # type: ignore[arg-type]
            exclude=UNTRACED_PATHS,
            exclude_spans=["receive", "send"],
            scopes={"http"},  # type: ignore[arg-type]
        )
    )


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
