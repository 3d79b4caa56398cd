"""The OpenTelemetry SDK, installed into this process's :class:`Telemetry` once something
records (see ``_setup``). Importing this module loads the SDK."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, cast

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, Tracer, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased

from kernel.errors import ConfigError
from kernel.telemetry._export import FileSpanExporter, SwitchboardProcessor
from kernel.telemetry._fast import SpanFactory
from kernel.telemetry._settings import TelemetrySettings
from kernel.telemetry._setup import Telemetry, env_value, metrics_wanted, tracing_forced
from kernel.telemetry._spans import enable_recording

log = logging.getLogger("webos.telemetry")

#: How long a finished span may wait in the trace file's batch: short, as people (and tests)
#: read the file while processes run; a batch costs one ``open`` and one ``write``.
FILE_EXPORT_DELAY_MS = 200
#: Spans the trace file's batch may hold (the SDK's default, 2048, drops spans of a burst while
#: the writer thread waits for the GIL; a test reading the file must see every one).
FILE_QUEUE_SIZE = 65536


def install(
    telemetry: Telemetry, role: str, environ: Mapping[str, str], settings: TelemetrySettings
) -> None:
    """Install what ``settings`` and ``environ`` ask for; later calls (tests build many kernels)
    only attach a trace file not attached yet, or metrics not set up yet."""
    if telemetry.resource is None:
        _build(telemetry, role, environ, settings)
    trace_file = settings.trace_file
    if trace_file and telemetry.tracer_provider is None:
        _install_tracing(telemetry, settings, environ)
    if metrics_wanted(settings) and telemetry.meter_provider is None:
        _install_metrics(telemetry, [_prometheus_reader(telemetry)])
    if trace_file and trace_file not in telemetry.trace_files:
        processor = _batched(FileSpanExporter(trace_file), FILE_EXPORT_DELAY_MS, FILE_QUEUE_SIZE)
        telemetry.switchboard.add(processor)
        telemetry.trace_files[trace_file] = processor


def _batched(
    exporter: SpanExporter, delay_ms: int | None = None, queue_size: int | None = None
) -> BatchSpanProcessor:
    # Every exporter is batched: a span's end only queues it, and one thread encodes and writes
    # whole batches (a simple processor exports each span on the thread that ended it). The
    # queue is pushed out on flush (a kernel's stop) and on shutdown (process exit, detach).
    return BatchSpanProcessor(exporter, max_queue_size=queue_size, schedule_delay_millis=delay_ms)


def _sampler(settings: TelemetrySettings, environ: Mapping[str, str]) -> Sampler | None:
    """Parent-based ratio sampling from ``WEBOS_TRACE_SAMPLE_RATIO``; None lets the SDK read
    ``OTEL_TRACES_SAMPLER`` when that is set and our ratio is not."""
    if "trace_sample_ratio" not in settings.model_fields_set and env_value(
        environ, "OTEL_TRACES_SAMPLER"
    ):
        return None
    return ParentBased(TraceIdRatioBased(settings.trace_sample_ratio))


def _build(
    telemetry: Telemetry, role: str, environ: Mapping[str, str], settings: TelemetrySettings
) -> None:
    resource = _resource(role, environ)
    telemetry.resource = resource
    telemetry.switchboard = SwitchboardProcessor()
    trace_exporters = _exporter_names(environ, "OTEL_TRACES_EXPORTER", "TRACES")
    # Recording spans costs CPU on every event; spend it only when spans go somewhere.
    # Otherwise spans are the API's no-ops and an incoming traceparent still travels unchanged.
    if trace_exporters or settings.trace_file or tracing_forced(settings):
        _install_tracing(telemetry, settings, environ)
    for name in trace_exporters:
        telemetry.switchboard.add(_span_processor(name, environ))
        telemetry.exporters.append(f"traces:{name}")

    metric_exporters = _exporter_names(environ, "OTEL_METRICS_EXPORTER", "METRICS")
    # Metrics cost a few microseconds per event and call on every hot path (measured: rpc with
    # 16 in flight fell from 0.71 to 0.48 of raw nats-py): on when asked for, like spans.
    if metric_exporters or metrics_wanted(settings):
        readers = [_prometheus_reader(telemetry)]
        for name in metric_exporters:
            readers.append(_metric_reader(name, environ))
            telemetry.exporters.append(f"metrics:{name}")
        _install_metrics(telemetry, readers)
    log.info(
        "telemetry: service %s, exporting %s",
        telemetry.service_name,
        ", ".join(telemetry.exporters) or "nothing (set OTEL_EXPORTER_OTLP_ENDPOINT)",
    )


def _install_metrics(telemetry: Telemetry, readers: list[Any]) -> None:
    meter_provider = MeterProvider(resource=telemetry.resource, metric_readers=readers)
    metrics.set_meter_provider(meter_provider)
    telemetry.meter_provider = meter_provider


def _install_tracing(
    telemetry: Telemetry, settings: TelemetrySettings, environ: Mapping[str, str]
) -> None:
    sampler = _sampler(settings, environ)
    tracer_provider = TracerProvider(resource=telemetry.resource, sampler=sampler)
    tracer_provider.add_span_processor(telemetry.switchboard)
    trace.set_tracer_provider(tracer_provider)
    telemetry.tracer_provider = tracer_provider
    factory = None
    if isinstance(sampler, ParentBased):  # ours: the kernel's spans may take the short way
        tracer = tracer_provider.get_tracer("webos")
        factory = SpanFactory(cast(Tracer, tracer), settings.trace_sample_ratio)
    enable_recording(factory)


def _resource(role: str, environ: Mapping[str, str]) -> Resource:
    attributes: dict[str, Any] = {"webos.role": role, "process.pid": os.getpid()}
    named_in_env = env_value(environ, "OTEL_SERVICE_NAME") or "service.name=" in env_value(
        environ, "OTEL_RESOURCE_ATTRIBUTES"
    )
    if not named_in_env:
        attributes[SERVICE_NAME] = f"webos-{role}"
    return Resource.create(attributes)


def _exporter_names(environ: Mapping[str, str], variable: str, signal: str) -> list[str]:
    names = [n.strip() for n in env_value(environ, variable).split(",") if n.strip()] or ["otlp"]
    if "none" in names:
        return []
    endpoint = env_value(environ, "OTEL_EXPORTER_OTLP_ENDPOINT") or env_value(
        environ, f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"
    )
    # OTLP is the standard default, but only where an endpoint says where to send.
    return [name for name in names if name != "otlp" or endpoint]


def _protocol(environ: Mapping[str, str], signal: str) -> str:
    return (
        env_value(environ, f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL")
        or env_value(environ, "OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )


def _span_processor(name: str, environ: Mapping[str, str]) -> SpanProcessor:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return _batched(ConsoleSpanExporter())
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
    return _batched(exporter)


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
