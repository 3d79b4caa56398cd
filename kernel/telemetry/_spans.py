"""Spans the kernel opens, kept in step with ``kernel.context.current_traceparent``.

Every span started here that becomes current also sets ``current_traceparent`` to its own W3C
``traceparent`` (and restores it after), so the propagation seam (``kernel.propagation``), which
copies that variable into the headers of events, service calls, tasks and forwarded requests,
carries the innermost span across processes.

Parents: a span that *receives* work (consumer, server) is opened after the propagation seam
restored the sender's ``traceparent`` into ``current_traceparent``, and takes it as its parent
(none: a new trace). A span that *sends* work (producer, client) is a child of the active
OpenTelemetry span, or, when there is none (the SDK is disabled, or code set only the variable),
of ``current_traceparent``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from kernel.context import current_traceparent

__all__ = [
    "Span",
    "SpanKind",
    "child_span",
    "current_ids",
    "fail",
    "received_span",
    "remote_context",
    "start_span",
    "traceparent_of",
]

_PROPAGATOR = TraceContextTextMapPropagator()
# A proxy until the SDK is set up; it then delegates to the real tracer.
_tracer = trace.get_tracer("webos")
_recording = False


def enable_recording() -> None:
    """Called once the SDK records spans; until then the helpers below skip OpenTelemetry
    entirely (no context attach, no parent extraction) and only carry the traceparent along."""
    global _recording
    _recording = True


def traceparent_of(span: Span) -> str | None:
    """The W3C ``traceparent`` header naming ``span`` as the parent (None when invalid)."""
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def remote_context(traceparent: str | None) -> Context:
    """A context whose parent is the span named by ``traceparent`` (empty: a new trace)."""
    if not traceparent:
        return Context()
    return _PROPAGATOR.extract({"traceparent": traceparent})


def _sending_parent() -> Context | None:
    if trace.get_current_span().get_span_context().is_valid:
        return None  # the active span
    traceparent = current_traceparent.get()
    return remote_context(traceparent) if traceparent else None


def start_span(name: str, kind: SpanKind, attributes: Mapping[str, Any] | None = None) -> Span:
    """A span that sends work, not made current: end it yourself (``span.end()``)."""
    if not _recording:
        return trace.INVALID_SPAN
    return _tracer.start_span(name, _sending_parent(), kind, attributes)


@contextmanager
def child_span(
    name: str, kind: SpanKind, attributes: Mapping[str, Any] | None = None
) -> Iterator[Span]:
    """A current span that sends work (producer, client), child of the active one."""
    if not _recording:
        yield trace.INVALID_SPAN
        return
    with (
        _tracer.start_as_current_span(name, _sending_parent(), kind, attributes) as span,
        _synced(span),
    ):
        yield span


@contextmanager
def received_span(
    name: str, kind: SpanKind, attributes: Mapping[str, Any] | None = None
) -> Iterator[Span]:
    """A current span for work received (consumer, server), child of ``current_traceparent``.

    Open it after the sender's context was restored (``Propagation.extract``). With the SDK off
    nothing is recorded and the restored ``traceparent`` simply travels on.
    """
    if not _recording:
        yield trace.INVALID_SPAN
        return
    parent = current_traceparent.get()
    with (
        _tracer.start_as_current_span(name, remote_context(parent), kind, attributes) as span,
        _synced(span, parent),
    ):
        yield span


@contextmanager
def _synced(span: Span, fallback: str | None = None) -> Iterator[None]:
    # With the SDK disabled the span is a no-op: pass the received trace context on unchanged.
    token = current_traceparent.set(traceparent_of(span) or fallback or current_traceparent.get())
    try:
        yield
    finally:
        current_traceparent.reset(token)


def fail(span: Span, description: str) -> None:
    """Mark ``span`` as failed (an error that was handled, so no exception reaches the span)."""
    span.set_status(Status(StatusCode.ERROR, description))


def current_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` in hex of the active span, or of ``current_traceparent``."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        return f"{context.trace_id:032x}", f"{context.span_id:016x}"
    traceparent = current_traceparent.get()
    if traceparent:
        parts = traceparent.split("-")
        if len(parts) == 4 and len(parts[1]) == 32 and len(parts[2]) == 16:
            return parts[1], parts[2]
    return None
