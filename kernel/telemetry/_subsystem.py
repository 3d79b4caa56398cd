"""The telemetry subsystem: sets up the SDK, traces HTTP, serves metrics, flushes on stop."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from kernel.telemetry._http import metrics_handler, opentelemetry_plugin, sync_server_span
from kernel.telemetry._setup import Telemetry, serve_metrics, setup_telemetry

if TYPE_CHECKING:
    from litestar.config.app import AppConfig

    from kernel.runtime import Kernel


class TelemetrySubsystem:
    """OpenTelemetry for one kernel. The SDK itself is per process (see ``_setup``)."""

    name = "telemetry"

    def __init__(self) -> None:
        self.telemetry: Telemetry | None = None

    def configure_app(self, app_config: AppConfig, kernel: Kernel) -> AppConfig:
        from kernel.auth import requires

        telemetry = self.telemetry = setup_telemetry(kernel.role)
        recording = telemetry.tracer_provider is not None or telemetry.meter_provider is not None
        if recording:
            app_config.plugins.append(opentelemetry_plugin())
            # Last, so innermost: it runs after routing and after the plain traceparent copy.
            app_config.middleware.append(sync_server_span)
        if kernel.role == "gateway" and telemetry.meter_provider is not None:
            app_config.route_handlers.append(metrics_handler([requires("system.read")]))
        return app_config

    async def start(self, kernel: Kernel) -> None:
        self.telemetry = setup_telemetry(kernel.role)
        port = kernel.settings.metrics_port
        if port is not None:
            serve_metrics(kernel.settings.host, port)

    async def stop(self) -> None:
        # Flush, not shut down: the providers are the process's, and tests start many kernels.
        # The SDK shuts them down when the process exits.
        if self.telemetry is not None:
            await asyncio.to_thread(self.telemetry.flush)

    async def check(self) -> str | None:
        return None
