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

import re
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Protocol

from opentelemetry import trace
from opentelemetry.context import Context, attach, detach
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

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

#: W3C trace context, version 00 and later versions read the same way (as the SDK's propagator).
_TRACEPARENT = re.compile(
    r"[ \t]*(?!ff)([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?[ \t]*"
)
# A proxy until the SDK is set up; it then delegates to the real tracer.
_tracer = trace.get_tracer("webos")
_recording = False
_factory: SpanFactory | None = None


class SpanFactory(Protocol):
    """Starts recorded spans without the SDK's generic path (``_fast.SpanFactory``)."""

    def start(
        self,
        name: str,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: Mapping[str, Any] | None,
        extra: Mapping[str, Any] | None = None,
    ) -> Span: ...


def enable_recording(factory: SpanFactory | None = None) -> None:
    """Called once the SDK records spans; until then the helpers below skip OpenTelemetry
    entirely (no context attach, no parent extraction) and only carry the traceparent along.
    ``factory`` starts the spans when the SDK's sampler is the one WebOS installs."""
    global _recording, _tracer, _factory
    _recording = True
    _factory = factory
    # The real tracer, not the proxy: one call less per span.
    _tracer = trace.get_tracer("webos")


#: W3C trace context level 2 "random trace id" flag, as the SDK sets it for its random ids.
_RANDOM = 0x02


class UnsampledRoot(NonRecordingSpan):
    """The span of a new trace the sampler turned down: nothing is recorded, it only names the
    trace so that the receivers follow the decision (its traceparent, flags ``02``). Most new
    traces are turned down when sampling is low, so it builds its ``SpanContext`` (a validated
    tuple, a ``TraceFlags``) only when something asks for it; the traceparent it sends is
    written at once."""

    def __init__(self, trace_id: int, span_id: int) -> None:
        # Not NonRecordingSpan's __init__: the context is built on first use.
        self._ids = (trace_id, span_id)
        self._built: SpanContext | None = None
        self.traceparent = f"00-{trace_id:032x}-{span_id:016x}-02"

    @property
    def _context(self) -> SpanContext:  # type: ignore[override]
        context = self._built
        if context is None:
            trace_id, span_id = self._ids
            context = self._built = SpanContext(trace_id, span_id, False, TraceFlags(_RANDOM))
        return context

    def get_span_context(self) -> SpanContext:
        return self._context


def traceparent_of(span: Span) -> str | None:
    """The W3C ``traceparent`` header naming ``span`` as the parent (None when invalid)."""
    if type(span) is UnsampledRoot:
        return span.traceparent
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def _remote_span(traceparent: str) -> SpanContext | None:
    found = _TRACEPARENT.fullmatch(traceparent)
    if found is None or (found[1] == "00" and found[5]):
        return None  # version 00 has exactly four fields
    context = SpanContext(
        int(found[2], 16),
        int(found[3], 16),
        is_remote=True,
        trace_flags=TraceFlags(int(found[4], 16)),
    )
    return context if context.is_valid else None


def _unsampled(traceparent: str) -> bool:
    """Whether ``traceparent`` names a valid span of a trace not sampled: what ``_remote_span``
    then ``trace_flags.sampled`` say, without building the ``SpanContext``."""
    if len(traceparent) == _PLAIN_LENGTH and traceparent[-1] in _ODD_HEX:
        return False  # sampled flag set (or no traceparent at all): no regex for a sampled one
    found = _TRACEPARENT.fullmatch(traceparent)
    if found is None or (found[1] == "00" and found[5]):
        return False  # not a parent at all: a new trace
    return (
        not int(found[4], 16) & TraceFlags.SAMPLED
        and found[2] != _ZERO_TRACE
        and found[3] != _ZERO_SPAN
    )


#: Length of a traceparent with nothing around it and no further fields: the flags end it.
_PLAIN_LENGTH = 55
_ODD_HEX = frozenset("13579bdf")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


def remote_context(traceparent: str | None) -> Context:
    """A context whose parent is the span named by ``traceparent`` (empty: a new trace)."""
    remote = _remote_span(traceparent) if traceparent else None
    if remote is None:
        return Context()
    return trace.set_span_in_context(NonRecordingSpan(remote), Context())


class _Unrecorded:
    """The scope of a span not recorded: the trace context in ``current_traceparent`` (a parent
    that was not sampled, or none with the SDK off) simply travels on. Shared: it keeps no state.
    """

    __slots__ = ()

    def __enter__(self) -> Span:
        return trace.INVALID_SPAN

    def __exit__(self, *exc_info: object) -> None:
        return None


_UNRECORDED = _Unrecorded()


class _Current:
    """The scope of a recorded span: current for OpenTelemetry and in ``current_traceparent``
    while it lasts, ended on exit. One flat object instead of the SDK's nested context managers
    (``start_as_current_span`` wraps ``use_span``), which cost as much as the span itself."""

    __slots__ = ("_context_token", "_span", "_traceparent_token")

    def __init__(self, span: Span) -> None:
        self._span = span

    def __enter__(self) -> Span:
        span = self._span
        self._context_token = attach(trace.set_span_in_context(span))
        # With the SDK's sampler saying no, the span is a valid non-recording one: its own
        # traceparent (flag 00) travels, so the next process does not sample either.
        self._traceparent_token = current_traceparent.set(
            traceparent_of(span) or current_traceparent.get()
        )
        return span

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        current_traceparent.reset(self._traceparent_token)
        detach(self._context_token)
        span = self._span
        if isinstance(error, Exception):  # as use_span: record it and fail the span
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        span.end()


def _start(
    name: str,
    parent: SpanContext | None,
    kind: SpanKind,
    attributes: Mapping[str, Any] | None,
    extra: Mapping[str, Any] | None = None,
) -> Span:
    if _factory is not None:
        return _factory.start(name, parent, kind, attributes, extra)
    context = Context() if parent is None else trace.set_span_in_context(NonRecordingSpan(parent))
    if extra:
        attributes = {**(attributes or {}), **extra}
    return _tracer.start_span(name, context, kind, attributes)


def _sending_parent() -> tuple[bool, SpanContext | None]:
    """Whether a sending span is recorded, and its parent: the active span, else the one
    ``current_traceparent`` names (None: a new trace). A trace not sampled gets no span; its
    traceparent travels as it is."""
    active = trace.get_current_span().get_span_context()
    if active.is_valid:
        return active.trace_flags.sampled, active
    traceparent = current_traceparent.get()
    remote = _remote_span(traceparent) if traceparent else None
    return (True, None) if remote is None else (remote.trace_flags.sampled, remote)


def start_span(
    name: str,
    kind: SpanKind,
    attributes: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Span:
    """A span that sends work, not made current: end it yourself (``span.end()``).

    ``attributes`` may be a mapping built once and shared (it is copied, never changed);
    ``extra`` holds those of this one span. The same goes for the helpers below."""
    if not _recording:
        return trace.INVALID_SPAN
    sampled, parent = _sending_parent()
    if not sampled:
        return trace.INVALID_SPAN
    return _start(name, parent, kind, attributes, extra)


def child_span(
    name: str,
    kind: SpanKind,
    attributes: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> _Current | _Unrecorded:
    """A current span that sends work (producer, client), child of the active one."""
    if not _recording:
        return _UNRECORDED
    sampled, parent = _sending_parent()
    if not sampled:
        return _UNRECORDED
    return _Current(_start(name, parent, kind, attributes, extra))


def received_span(
    name: str,
    kind: SpanKind,
    attributes: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> _Current | _Unrecorded:
    """A current span for work received (consumer, server), child of ``current_traceparent``.

    Open it after the sender's context was restored (``Propagation.extract``). With the SDK off,
    or a sender whose trace is not sampled, nothing is recorded and the restored ``traceparent``
    simply travels on: sampling is decided before any work.
    """
    if not _recording:
        return _UNRECORDED
    traceparent = current_traceparent.get()
    if not traceparent:
        return _Current(_start(name, None, kind, attributes, extra))
    if _unsampled(traceparent):  # decided on the string: nothing built
        return _UNRECORDED
    return _Current(_start(name, _remote_span(traceparent), kind, attributes, extra))


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
