"""The OpenTelemetry SDK of this process, set up from the standard ``OTEL_*`` variables.

Once per process (the API's global providers can be set only once); later calls, as when tests
build many kernels, reuse it and only attach a trace file not attached yet. What is exported:

* spans and metrics over OTLP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the per-signal
  ``..._TRACES_ENDPOINT`` / ``..._METRICS_ENDPOINT``) is set; ``OTEL_TRACES_EXPORTER`` /
  ``OTEL_METRICS_EXPORTER`` may add ``console`` or say ``none``;
* spans as JSON lines to ``WEBOS_TRACE_FILE`` when set (tests collect them from every process);
* metrics for Prometheus, always, pulled from :func:`prometheus_text` (``/metrics``).

``OTEL_SDK_DISABLED=true`` sets nothing up: spans are the API's no-ops and the trace context
passes through unchanged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

from kernel.errors import ConfigError
from kernel.telemetry._export import FileSpanExporter, SwitchboardProcessor
from kernel.telemetry._spans import enable_recording

log = logging.getLogger("webos.telemetry")

TRACE_FILE_ENV = "WEBOS_TRACE_FILE"
#: ``WEBOS_TRACING=on`` records spans even with no exporter (trace ids in logs for every request).
TRACING_ENV = "WEBOS_TRACING"
#: ``WEBOS_METRICS=on`` records metrics (also on with a metrics exporter or WEBOS_METRICS_PORT).
METRICS_ENV = "WEBOS_METRICS"
_TRUE = {"true", "1", "yes", "on"}


@dataclass
class Telemetry:
    """What this process set up. ``enabled`` is False with ``OTEL_SDK_DISABLED=true``."""

    enabled: bool
    service_name: str
    tracer_provider: TracerProvider | None = None
    meter_provider: MeterProvider | None = None
    switchboard: SwitchboardProcessor = field(default_factory=SwitchboardProcessor)
    prometheus_registry: Any = None
    exporters: list[str] = field(default_factory=list)
    trace_files: dict[str, SpanProcessor] = field(default_factory=dict)
    metrics_server: Any = None
    resource: Resource | None = None

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


def _env(environ: Mapping[str, str], name: str) -> str:
    # compose passes unset variables through as empty strings: empty means unset.
    return environ.get(name, "").strip()


def setup_telemetry(role: str, environ: Mapping[str, str] | None = None) -> Telemetry:
    """Set up (or reuse) this process's SDK. Safe to call for every kernel."""
    global _process
    environ = os.environ if environ is None else environ
    if _process is None:
        _process = _build(role, environ)
    trace_file = _env(environ, TRACE_FILE_ENV)
    if _process.enabled and trace_file and _process.tracer_provider is None:
        _install_tracing(_process, _process.resource)
    if _process.enabled and _metrics_wanted(environ) and _process.meter_provider is None:
        _install_metrics(_process, [_prometheus_reader(_process)])
    if _process.enabled and trace_file and trace_file not in _process.trace_files:
        processor = SimpleSpanProcessor(FileSpanExporter(trace_file))
        _process.switchboard.add(processor)
        _process.trace_files[trace_file] = processor
    return _process


def _build(role: str, environ: Mapping[str, str]) -> Telemetry:
    if _env(environ, "OTEL_SDK_DISABLED").lower() in _TRUE:
        return Telemetry(enabled=False, service_name="")
    resource = _resource(role, environ)
    service = str(resource.attributes.get(SERVICE_NAME))
    telemetry = Telemetry(enabled=True, service_name=service)

    telemetry.resource = resource
    trace_exporters = _exporter_names(environ, "OTEL_TRACES_EXPORTER", "TRACES")
    # Recording spans costs ~40 us per event; spend it only when spans go somewhere. Otherwise
    # spans are the API's no-ops and an incoming traceparent still travels unchanged.
    if trace_exporters or _env(environ, TRACE_FILE_ENV) or _tracing_forced(environ):
        _install_tracing(telemetry, resource)
    for name in trace_exporters:
        telemetry.switchboard.add(_span_processor(name, environ))
        telemetry.exporters.append(f"traces:{name}")

    metric_exporters = _exporter_names(environ, "OTEL_METRICS_EXPORTER", "METRICS")
    # Metrics cost a few microseconds per event and call on every hot path (measured: rpc with
    # 16 in flight fell from 0.71 to 0.48 of raw nats-py): on when asked for, like spans.
    if metric_exporters or _metrics_wanted(environ):
        readers = [_prometheus_reader(telemetry)]
        for name in metric_exporters:
            readers.append(_metric_reader(name, environ))
            telemetry.exporters.append(f"metrics:{name}")
        _install_metrics(telemetry, readers)
    log.info(
        "telemetry: service %s, exporting %s",
        service,
        ", ".join(telemetry.exporters) or "nothing (set OTEL_EXPORTER_OTLP_ENDPOINT)",
    )
    return telemetry


def _metrics_wanted(environ: Mapping[str, str]) -> bool:
    return _env(environ, METRICS_ENV).lower() in _TRUE or bool(_env(environ, "WEBOS_METRICS_PORT"))


def _install_metrics(telemetry: Telemetry, readers: list[Any]) -> None:
    meter_provider = MeterProvider(resource=telemetry.resource, metric_readers=readers)
    metrics.set_meter_provider(meter_provider)
    telemetry.meter_provider = meter_provider


def _tracing_forced(environ: Mapping[str, str]) -> bool:
    return _env(environ, TRACING_ENV).lower() in _TRUE


def _install_tracing(telemetry: Telemetry, resource: Resource | None) -> None:
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(telemetry.switchboard)
    trace.set_tracer_provider(tracer_provider)
    telemetry.tracer_provider = tracer_provider
    enable_recording()


def _resource(role: str, environ: Mapping[str, str]) -> Resource:
    attributes: dict[str, Any] = {"webos.role": role, "process.pid": os.getpid()}
    named_in_env = _env(environ, "OTEL_SERVICE_NAME") or "service.name=" in _env(
        environ, "OTEL_RESOURCE_ATTRIBUTES"
    )
    if not named_in_env:
        attributes[SERVICE_NAME] = f"webos-{role}"
    return Resource.create(attributes)


def _exporter_names(environ: Mapping[str, str], variable: str, signal: str) -> list[str]:
    names = [n.strip() for n in _env(environ, variable).split(",") if n.strip()] or ["otlp"]
    if "none" in names:
        return []
    endpoint = _env(environ, "OTEL_EXPORTER_OTLP_ENDPOINT") or _env(
        environ, f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"
    )
    # OTLP is the standard default, but only where an endpoint says where to send.
    return [name for name in names if name != "otlp" or endpoint]


def _protocol(environ: Mapping[str, str], signal: str) -> str:
    return (
        _env(environ, f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL")
        or _env(environ, "OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )


def _span_processor(name: str, environ: Mapping[str, str]) -> SpanProcessor:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return SimpleSpanProcessor(ConsoleSpanExporter())
    if name != "otlp":
        raise ConfigError(f"OTEL_TRACES_EXPORTER: unknown exporter {name!r} (otlp, console, none)")
    protocol = _protocol(environ, "TRACES")
    if protocol == "grpc":
        exporter = _grpc("trace_exporter", "OTLPSpanExporter")
    elif protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    else:
        raise ConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} (http/protobuf or grpc)")
    return BatchSpanProcessor(exporter)


def _metric_reader(name: str, environ: Mapping[str, str]) -> MetricReader:
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        PeriodicExportingMetricReader,
    )

    if name == "console":
        return PeriodicExportingMetricReader(ConsoleMetricExporter())
    if name == "prometheus":  # always served at /metrics; nothing more to add
        raise ConfigError(
            "OTEL_METRICS_EXPORTER=prometheus: WebOS always serves Prometheus metrics at "
            "/metrics (and on WEBOS_METRICS_PORT); name otlp, console or none here"
        )
    if name != "otlp":
        raise ConfigError(f"OTEL_METRICS_EXPORTER: unknown exporter {name!r} (otlp, console, none)")
    protocol = _protocol(environ, "METRICS")
    if protocol == "grpc":
        exporter = _grpc("metric_exporter", "OTLPMetricExporter")
    elif protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        exporter = OTLPMetricExporter()
    else:
        raise ConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} (http/protobuf or grpc)")
    return PeriodicExportingMetricReader(exporter)


def _grpc(module: str, name: str) -> Any:
    import importlib
    import importlib.util

    qualified = f"opentelemetry.exporter.otlp.proto.grpc.{module}"
    if importlib.util.find_spec("opentelemetry.exporter.otlp.proto.grpc") is None:
        raise ConfigError(
            "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs the package "
            "opentelemetry-exporter-otlp-proto-grpc; install it or use http/protobuf (port 4318)"
        )
    return getattr(importlib.import_module(qualified), name)()


def _prometheus_reader(telemetry: Telemetry) -> MetricReader:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import CollectorRegistry

    telemetry.prometheus_registry = CollectorRegistry(auto_describe=True)
    return PrometheusMetricReader(registry=telemetry.prometheus_registry)


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
