"""The OpenTelemetry SDK of this process, set up from the standard ``OTEL_*`` variables.

Once per process (the API's global providers can be set only once); later calls, as when tests
build many kernels, reuse it and only attach a trace file not attached yet. What is exported:

* spans and metrics over OTLP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the per-signal
  ``..._TRACES_ENDPOINT`` / ``..._METRICS_ENDPOINT``) is set; ``OTEL_TRACES_EXPORTER`` /
  ``OTEL_METRICS_EXPORTER`` may add ``console`` or say ``none``;
* spans as JSON lines to ``WEBOS_TRACE_FILE`` when set (tests collect them from every process);
* metrics for Prometheus, always, pulled from :func:`prometheus_text` (``/metrics``).

Spans go to every exporter through a ``BatchSpanProcessor`` (a thread exports them in batches;
:meth:`Telemetry.flush` and the stop of a kernel push out what waits). What WebOS itself reads is
:class:`~kernel.telemetry._settings.TelemetrySettings` (``WEBOS_*``); ``OTEL_*`` are the SDK's.

``OTEL_SDK_DISABLED=true`` sets nothing up: spans are the API's no-ops and the trace context
passes through unchanged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kernel.telemetry._settings import TelemetrySettings, read_telemetry_settings

log = logging.getLogger("webos.telemetry")

#: The variable of ``TelemetrySettings.trace_file`` (tests hand it to child processes).
TRACE_FILE_ENV = "WEBOS_TRACE_FILE"
_TRUE = {"true", "1", "yes", "on"}


@dataclass
class Telemetry:
    """What this process set up. ``enabled`` is False with ``OTEL_SDK_DISABLED=true``.

    The SDK parts stay None (and the SDK unloaded) until something records: an exporter, a trace
    file, ``WEBOS_TRACING`` or ``WEBOS_METRICS``.
    """

    enabled: bool
    service_name: str
    tracer_provider: Any = None
    meter_provider: Any = None
    switchboard: Any = None
    prometheus_registry: Any = None
    exporters: list[str] = field(default_factory=list)
    trace_files: dict[str, Any] = field(default_factory=dict)
    metrics_server: Any = None
    resource: Any = None

    @property
    def recording(self) -> bool:
        return self.tracer_provider is not None or self.meter_provider is not None

    def detach_trace_file(self, path: str) -> None:
        """Stop writing spans to ``path`` (tests attach a file per test)."""
        processor = self.trace_files.pop(str(path), None)
        if processor is not None:
            self.switchboard.remove(processor)

    def flush(self, timeout: float = 5.0) -> None:
        millis = int(timeout * 1000)
        if self.tracer_provider is not None:
            self.tracer_provider.force_flush(millis)
        if self.meter_provider is not None:
            self.meter_provider.force_flush(millis)


_process: Telemetry | None = None


def current_telemetry() -> Telemetry | None:
    return _process


def env_value(environ: Mapping[str, str], name: str) -> str:
    # compose passes unset variables through as empty strings: empty means unset.
    return environ.get(name, "").strip()


def metrics_wanted(settings: TelemetrySettings) -> bool:
    return settings.metrics or settings.metrics_port is not None


def tracing_forced(settings: TelemetrySettings) -> bool:
    return settings.tracing


def _exporters_named(environ: Mapping[str, str]) -> bool:
    return any(
        env_value(environ, name)
        for name in (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "OTEL_TRACES_EXPORTER",
            "OTEL_METRICS_EXPORTER",
        )
    )


def _records(environ: Mapping[str, str], settings: TelemetrySettings) -> bool:
    return (
        _exporters_named(environ)
        or bool(settings.trace_file)
        or tracing_forced(settings)
        or metrics_wanted(settings)
    )


def service_name(role: str, environ: Mapping[str, str]) -> str:
    named = env_value(environ, "OTEL_SERVICE_NAME")
    if named:
        return named
    for item in env_value(environ, "OTEL_RESOURCE_ATTRIBUTES").split(","):
        key, _, value = item.partition("=")
        if key.strip() == "service.name" and value.strip():
            return value.strip()
    return f"webos-{role}"


def setup_telemetry(
    role: str,
    environ: Mapping[str, str] | None = None,
    settings: TelemetrySettings | None = None,
) -> Telemetry:
    """Set up (or reuse) this process's SDK. Safe to call for every kernel.

    ``settings`` default to those in ``environ`` (default: the process's environment); ``OTEL_*``
    come from ``environ``. Nothing to record (no exporter, trace file, ``WEBOS_TRACING`` or
    ``WEBOS_METRICS``) sets nothing up and loads no SDK: spans are the API's no-ops and trace
    context travels unchanged. An invalid setting raises ``ConfigError`` naming it.
    """
    global _process
    if settings is None:
        settings = read_telemetry_settings(environ)
    environ = os.environ if environ is None else environ
    if _process is None:
        if env_value(environ, "OTEL_SDK_DISABLED").lower() in _TRUE:
            _process = Telemetry(enabled=False, service_name="")
        else:
            _process = Telemetry(enabled=True, service_name=service_name(role, environ))
            log.info(
                "telemetry: service %s%s",
                _process.service_name,
                ""
                if _records(environ, settings)
                else ", recording nothing (set OTEL_EXPORTER_OTLP_ENDPOINT)",
            )
    if _process.enabled and _records(environ, settings):
        from kernel.telemetry import _sdk  # the SDK loads only where something records

        _sdk.install(_process, role, environ, settings)
    return _process


def prometheus_text() -> tuple[bytes, str]:
    """The process's metrics in the Prometheus text format, with its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    telemetry = _process
    if telemetry is None or telemetry.prometheus_registry is None:
        return b"", CONTENT_TYPE_LATEST
    return generate_latest(telemetry.prometheus_registry), CONTENT_TYPE_LATEST


def serve_metrics(host: str, port: int) -> None:
    """Serve ``/metrics`` of this process on ``host:port`` (once per process; unauthenticated)."""
    telemetry = _process
    if telemetry is None or telemetry.prometheus_registry is None:
        return
    if telemetry.metrics_server is not None:
        return
    from prometheus_client import start_http_server

    server, _ = start_http_server(port, addr=host, registry=telemetry.prometheus_registry)
    telemetry.metrics_server = server
    log.info("Prometheus metrics on http://%s:%d/metrics", host, port)
