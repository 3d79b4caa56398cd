"""Sampling decided before any work, the kernel's short way to its spans, and batch export."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from kernel.context import current_traceparent
from kernel.errors import ConfigError
from kernel.settings import load_settings
from kernel.telemetry import Telemetry, _spans, traceparent_of
from kernel.telemetry._fast import SpanFactory
from kernel.telemetry._settings import read_telemetry_settings
from kernel.telemetry._spans import child_span, received_span, start_span
from tests.telemetry._spans import read_spans

TRACE = "0af7651916cd43dd8448eb211c80319c"
SAMPLED = f"00-{TRACE}-b7ad6b7169203331-01"
NOT_SAMPLED = f"00-{TRACE}-b7ad6b7169203331-00"


def test_an_invalid_sample_ratio_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="WEBOS_TRACE_SAMPLE_RATIO"):
        read_telemetry_settings({"WEBOS_TRACE_SAMPLE_RATIO": "1.5"})
    monkeypatch.setenv("WEBOS_TRACE_SAMPLE_RATIO", "half")
    with pytest.raises(ConfigError, match="WEBOS_TRACE_SAMPLE_RATIO"):
        load_settings()
    monkeypatch.setenv("WEBOS_TRACE_SAMPLE_RATIO", "0.25")
    assert load_settings().telemetry.trace_sample_ratio == 0.25


def _factory(ratio: float) -> tuple[SpanFactory, InMemorySpanExporter]:
    exported = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(ratio)), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exported))
    return SpanFactory(provider.get_tracer("test"), ratio), exported  # type: ignore[arg-type]


def test_a_new_trace_outside_the_ratio_is_not_recorded_but_still_travels() -> None:
    factory, exported = _factory(0.0)
    span = factory.start("job send", None, SpanKind.PRODUCER, {"webos.task": "a.b"})
    assert not span.is_recording()
    traceparent = traceparent_of(span)
    assert traceparent is not None and traceparent.endswith("-02")  # valid, not sampled
    span.end()
    assert exported.get_finished_spans() == ()


def test_a_sampled_parent_is_followed_whatever_the_ratio() -> None:
    factory, exported = _factory(0.0)
    parent = SpanContext(int(TRACE, 16), 0xB7AD6B7169203331, True, TraceFlags(TraceFlags.SAMPLED))
    attributes = {"messaging.system": "nats", "webos.task.attempt": 2, "tags": ("a", "b")}
    span = factory.start("job process", parent, SpanKind.CONSUMER, attributes)
    span.set_attribute("messaging.message.id", "m-1")
    span.end()
    (finished,) = exported.get_finished_spans()
    assert finished.kind is SpanKind.CONSUMER
    assert finished.parent is not None and finished.parent.span_id == 0xB7AD6B7169203331
    assert finished.context is not None and finished.context.trace_id == int(TRACE, 16)
    assert dict(finished.attributes or {}) == {**attributes, "messaging.message.id": "m-1"}


def test_every_new_trace_is_recorded_at_ratio_one() -> None:
    factory, exported = _factory(1.0)
    for _ in range(20):
        factory.start("tick", None, SpanKind.INTERNAL, None).end()
    assert len(exported.get_finished_spans()) == 20


def test_work_of_a_trace_not_sampled_records_nothing_and_passes_its_context_on(
    recording: tuple[Telemetry, Path],
) -> None:
    telemetry, path = recording
    token = current_traceparent.set(NOT_SAMPLED)
    try:
        with received_span("unsampled process", SpanKind.CONSUMER, {"a": "b"}) as span:
            assert not span.is_recording()
            assert current_traceparent.get() == NOT_SAMPLED
            with child_span("unsampled send", SpanKind.PRODUCER) as child:
                assert not child.is_recording()
                assert current_traceparent.get() == NOT_SAMPLED
            assert traceparent_of(start_span("unsampled publish", SpanKind.PRODUCER)) is None
    finally:
        current_traceparent.reset(token)
    telemetry.flush()
    assert [s for s in read_spans(path) if s["name"].startswith("unsampled")] == []


def test_spans_reach_the_file_in_batches_and_a_flush_pushes_them_out(
    recording: tuple[Telemetry, Path],
) -> None:
    telemetry, path = recording
    token = current_traceparent.set(SAMPLED)
    try:
        with received_span("sampled process", SpanKind.CONSUMER, {"webos.task": "a.b"}) as span:
            own = traceparent_of(span)
            assert current_traceparent.get() == own
            with child_span("sampled send", SpanKind.PRODUCER):
                pass
    finally:
        current_traceparent.reset(token)
    telemetry.flush()
    spans = {s["name"]: s for s in read_spans(path)}
    received, sent = spans["sampled process"], spans["sampled send"]
    assert received["trace_id"] == TRACE
    assert received["parent_span_id"] == "b7ad6b7169203331"
    assert received["attributes"] == {"webos.task": "a.b"}
    assert sent["parent_span_id"] == received["span_id"]


@pytest.mark.parametrize(
    "traceparent",
    [
        SAMPLED,
        NOT_SAMPLED,
        f"00-{TRACE}-b7ad6b7169203331-02",  # random id flag, not sampled
        f"00-{TRACE}-b7ad6b7169203331-03",
        f"00-{TRACE}-b7ad6b7169203331-0f",
        f"00-{'0' * 32}-b7ad6b7169203331-01",  # sampled flag, yet invalid
        f"00-{TRACE}-b7ad6b7169203331-0F",
        f"00-{TRACE}-b7ad6b7169203331-0e",
        f"00-{'0' * 32}-b7ad6b7169203331-00",  # invalid trace id: a new trace
        f"00-{TRACE}-{'0' * 16}-00",  # invalid span id: a new trace
        f"00-{TRACE}-b7ad6b7169203331-00-extra",  # version 00 has four fields
        f"01-{TRACE}-b7ad6b7169203331-00-extra",  # a later version may have more
        f"ff-{TRACE}-b7ad6b7169203331-00",  # version ff is invalid
        f"00-{TRACE.upper()}-b7ad6b7169203331-00",
        f" 00-{TRACE}-b7ad6b7169203331-00\t",
        "garbage",
    ],
)
def test_a_received_trace_is_turned_down_exactly_when_its_parsed_parent_is_not_sampled(
    traceparent: str,
) -> None:
    # received_span decides on the string; it must say what parsing the parent would.
    parent = _spans._remote_span(traceparent)
    expected = parent is not None and not parent.trace_flags.sampled
    assert _spans._unsampled(traceparent) is expected


def test_a_turned_down_new_trace_names_the_same_context_as_the_sdks_span() -> None:
    factory, _ = _factory(0.0)
    span = factory.start("job send", None, SpanKind.PRODUCER, None)
    context = span.get_span_context()
    # What the SDK builds for a new trace its sampler turns down, with the same ids.
    sdk = NonRecordingSpan(SpanContext(context.trace_id, context.span_id, False, TraceFlags(2)))
    assert context == sdk.get_span_context()
    assert not context.is_remote and context.is_valid and not context.trace_flags.sampled
    assert traceparent_of(span) == traceparent_of(sdk)
    assert traceparent_of(span) == f"00-{context.trace_id:032x}-{context.span_id:016x}-02"
