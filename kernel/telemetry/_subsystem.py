"""The telemetry subsystem: sets up the SDK, traces HTTP, serves metrics, flushes on stop."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from kernel.auth import requires
from kernel.config import CoreSettings
from kernel.contracts import Host, Role
from kernel.telemetry._settings import TelemetrySettings
from kernel.telemetry._setup import Telemetry, serve_metrics, setup_telemetry

if TYPE_CHECKING:
    from litestar.config.app import AppConfig


class TelemetrySubsystem:
    """OpenTelemetry for one kernel. The SDK itself is per process (see ``_setup``)."""

    name = "telemetry"

    def __init__(self) -> None:
        self.telemetry: Telemetry | None = None

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        settings = host.get(TelemetrySettings)
        telemetry = self.telemetry = setup_telemetry(host.role, settings=settings)
        if not telemetry.recording:
            return app_config
        # Litestar's OpenTelemetry plugin loads the ASGI instrumentation: only when recording.
        from kernel.telemetry import _http

        # The ASGI instrumentation records the HTTP metrics: kept when metrics are on.
        instrumented = telemetry.meter_provider is not None
        app_config.plugins.append(_http.opentelemetry_plugin(instrumented))
        # Last, so innermost: it runs after routing and after the plain traceparent copy.
        app_config.middleware.append(_http.sync_server_span)
        if host.role is Role.GATEWAY and telemetry.meter_provider is not None:
            app_config.route_handlers.append(_http.metrics_handler([requires("system.read")]))
        return app_config

    async def start(self, host: Host) -> None:
        settings = host.get(TelemetrySettings)
        self.telemetry = setup_telemetry(host.role, settings=settings)
        port = settings.metrics_port
        if port is not None:
            serve_metrics(host.get(CoreSettings).host, port)

    async def stop(self) -> None:
        # Flush, not shut down: the providers are the process's, and tests start many kernels.
        # The SDK shuts them down when the process exits.
        if self.telemetry is not None:
            await asyncio.to_thread(self.telemetry.flush)

    async def check(self) -> str | None:
        return None
