"""The kernel's metrics: counters and latency histograms through OpenTelemetry metrics.

Instruments are created on first use from the global meter provider (a proxy until the SDK is
set up). Attributes are kept to bounded sets: subscription subjects, handler, service and task
names, and an outcome. HTTP request metrics come from the ASGI instrumentation
(``http.server.*``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from opentelemetry import metrics

# Seconds: from a fast in-process handler up to a slow task.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Instruments:
    def __init__(self) -> None:
        meter = metrics.get_meter("webos")

        def histogram(name: str, description: str) -> Any:
            return meter.create_histogram(
                name,
                unit="s",
                description=description,
                explicit_bucket_boundaries_advisory=_BUCKETS,
            )

        self.events_published = meter.create_counter(
            "webos.events.published", unit="{event}", description="Events emitted."
        )
        self.events_handled = meter.create_counter(
            "webos.events.handled",
            unit="{event}",
            description="Event deliveries to handlers, by outcome (handled, failed, rejected).",
        )
        self.event_duration = histogram("webos.events.duration", "Time a handler took.")
        self.remote_calls = meter.create_counter(
            "webos.remote.calls",
            unit="{call}",
            description="Remote service calls, by side (client, server) and outcome.",
        )
        self.remote_duration = histogram("webos.remote.duration", "Time a remote call took.")
        self.circuit_changes = meter.create_counter(
            "webos.circuit.changes",
            unit="{change}",
            description="Circuit breaker state changes, by target service and new state.",
        )
        self.forwarded = meter.create_counter(
            "webos.http.forwarded",
            unit="{request}",
            description="HTTP requests the gateway forwarded to module processes.",
        )
        self.forward_duration = histogram(
            "webos.http.forward.duration", "Time a forwarded request took."
        )
        self.tasks_sent = meter.create_counter(
            "webos.tasks.sent", unit="{task}", description="Tasks queued."
        )
        self.task_runs = meter.create_counter(
            "webos.tasks.runs",
            unit="{run}",
            description="Task attempts, by outcome (succeeded, retrying, failed).",
        )
        self.task_duration = histogram("webos.tasks.duration", "Time one task attempt took.")


@cache
def instruments() -> Instruments:
    return Instruments()


@cache
def attributes(**values: str) -> dict[str, str]:
    """A shared attribute dict per combination (hot paths record without allocating)."""
    return values
