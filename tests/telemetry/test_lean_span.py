"""The kernel's lean spans (``kernel.telemetry._fast.LeanSpan``) export what the SDK's own spans
export for the same calls: they skip SDK work, so they are checked against the SDK itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from kernel.telemetry._export import span_record
from kernel.telemetry._fast import LeanSpan, SpanFactory

PARENT = SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, True, TraceFlags(1))
ATTRIBUTES = {"messaging.system": "nats", "webos.task.attempt": 2, "ok": True, "ratio": 0.5}


def _provider(limits: SpanLimits | None = None) -> tuple[TracerProvider, InMemorySpanExporter]:
    exported = InMemorySpanExporter()
    provider = TracerProvider(
        sampler=ParentBased(TraceIdRatioBased(1.0)), span_limits=limits, shutdown_on_exit=False
    )
    provider.add_span_processor(SimpleSpanProcessor(exported))
    return provider, exported


def _both(
    use: Callable[[Span], None], attributes: dict[str, Any] | None = ATTRIBUTES, **limits: Any
) -> tuple[ReadableSpan, ReadableSpan, Span]:
    """The span ``use`` shaped, once made by the kernel's factory and once by the SDK."""
    provider, exported = _provider(SpanLimits(**limits) if limits else None)
    tracer = provider.get_tracer("test")
    ours = SpanFactory(tracer, 1.0).start("job process", PARENT, SpanKind.CONSUMER, attributes)  # type: ignore[arg-type]
    use(ours)
    ours.end()
    theirs = tracer.start_span(
        "job process",
        trace.set_span_in_context(trace.NonRecordingSpan(PARENT)),
        SpanKind.CONSUMER,
        attributes,
    )
    use(theirs)
    theirs.end()
    first, second = exported.get_finished_spans()
    return first, second, ours


def _same(ours: ReadableSpan, theirs: ReadableSpan) -> None:
    mine, sdk = span_record(ours), span_record(theirs)
    for record in (mine, sdk):  # new ids and times each
        for key in ("span_id", "start", "end"):
            record.pop(key)
    assert mine == sdk
    assert [(e.name, dict(e.attributes or {})) for e in ours.events] == [
        (e.name, dict(e.attributes or {})) for e in theirs.events
    ]
    assert ours.links == theirs.links
    assert (ours.dropped_attributes, ours.dropped_events) == (
        theirs.dropped_attributes,
        theirs.dropped_events,
    )
    assert ours.status.status_code is theirs.status.status_code
    assert ours.status.description == theirs.status.description
    assert ours.instrumentation_scope == theirs.instrumentation_scope
    assert ours.resource is theirs.resource


def test_a_plain_span_exports_as_the_sdks() -> None:
    ours, theirs, span = _both(lambda span: span.set_attribute("messaging.message.id", "m-1"))
    assert isinstance(span, LeanSpan)  # the short way was taken
    _same(ours, theirs)
    assert dict(ours.attributes or {}) == {**ATTRIBUTES, "messaging.message.id": "m-1"}


def test_a_failed_span_with_an_exception_exports_as_the_sdks() -> None:
    def fail(span: Span) -> None:
        try:
            raise ValueError("bad payload")
        except ValueError as error:
            span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, "ValueError: bad payload"))
        span.update_name("job failed")

    _same(*_both(fail)[:2])


def test_values_the_sdk_cleans_and_attributes_past_the_limit_are_treated_as_it_does() -> None:
    def odd(span: Span) -> None:
        span.set_attribute("tags", ["a", "b"])  # stored as a tuple
        span.set_attribute("nothing", None)  # type: ignore[arg-type]  # dropped
        span.set_attributes({"x": 1, "y": 2, "z": 3})  # past max_span_attributes=6

    ours, theirs, _ = _both(odd, max_span_attributes=6)
    _same(ours, theirs)
    assert ours.dropped_attributes > 0


def test_an_ended_span_no_longer_changes() -> None:
    ours, theirs, span = _both(lambda span: None)
    span.set_attribute("late", "value")
    span.set_status(Status(StatusCode.ERROR, "late"))
    span.add_event("late")
    span.end()
    _same(ours, theirs)
    assert "late" not in (ours.attributes or {})


@pytest.mark.parametrize("attributes", [None, {"tags": ("a", "b")}])
def test_spans_the_short_way_does_not_fit_are_the_sdks_own(
    attributes: dict[str, Any] | None,
) -> None:
    ours, theirs, span = _both(lambda span: span.add_event("step", {"n": 1}), attributes)
    assert isinstance(span, LeanSpan) is (attributes is None)
    _same(ours, theirs)


def test_a_length_limit_leaves_the_span_to_the_sdk() -> None:
    ours, theirs, span = _both(
        lambda span: span.set_attribute("long", "x" * 50), max_span_attribute_length=10
    )
    assert not isinstance(span, LeanSpan)
    _same(ours, theirs)
    assert (ours.attributes or {})["long"] == "x" * 10
