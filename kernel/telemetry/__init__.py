"""OpenTelemetry for WebOS: traces across processes, metrics for Prometheus, ids in logs.

See ``docs/observability.md``. The SDK is set up per process from the ``OTEL_*`` variables, and
loaded only when something records; the kernel's spans live where the work happens (bus,
registry, forwarding, tasks) and use the helpers of :mod:`kernel.telemetry._spans`.
"""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.telemetry._export import FileSpanExporter, SwitchboardProcessor, span_record
    from kernel.telemetry._metrics import instruments
    from kernel.telemetry._settings import TelemetrySettings
    from kernel.telemetry._setup import (
        TRACE_FILE_ENV,
        Telemetry,
        current_telemetry,
        prometheus_text,
        setup_telemetry,
    )
    from kernel.telemetry._spans import current_ids, traceparent_of
    from kernel.telemetry._subsystem import TelemetrySubsystem

__getattr__ = lazy_exports(__name__)
__all__ = [
    "TRACE_FILE_ENV",
    "FileSpanExporter",
    "SwitchboardProcessor",
    "Telemetry",
    "TelemetrySettings",
    "TelemetrySubsystem",
    "current_ids",
    "current_telemetry",
    "instruments",
    "prometheus_text",
    "setup_telemetry",
    "span_record",
    "traceparent_of",
]
