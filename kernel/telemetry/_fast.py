"""The kernel's own spans, made with less of the SDK's generic work (imported with the SDK).

``Tracer.start_span`` costs ~40 us per span under load: it looks the parent up in a context,
asks the sampler (which looks it up again), cleans every attribute value through
``BoundedAttributes`` and builds a sampling result. For the spans of the hot paths (events, tasks,
service calls) the kernel knows all of that already:

* the parent is a ``SpanContext`` the helpers of ``_spans`` have in hand, and the sampler is the
  parent-based ratio sampler this process installed (``_sdk``), so the decision is the parent's
  flag, or for a new trace the SDK's own ratio test on the trace id, taken before anything is
  built;
* the attribute values are plain ``str``/``int``/``float``/``bool``, already what the SDK would
  store, so they are copied in one step (anything else goes through ``set_attributes``);
* ids come from ``random.getrandbits``, as the SDK's ``RandomIdGenerator`` does.

What comes out is the SDK's own span: processors, exporters and ``span.end()`` see no difference.
With another sampler configured (``OTEL_TRACES_SAMPLER``) nothing here is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from random import getrandbits
from typing import Any, cast

from opentelemetry.sdk.trace import Tracer, _Span
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags

_PLAIN = (str, int, float, bool)
_SAMPLED = TraceFlags.SAMPLED
#: W3C trace context level 2 "random trace id" flag, as the SDK sets it for its random ids.
_RANDOM = 0x02
_ID_LIMIT = TraceIdRatioBased.TRACE_ID_LIMIT


class SpanFactory:
    """Starts recorded spans of ``tracer`` whose sampler is ``ParentBased(TraceIdRatioBased)``."""

    def __init__(self, tracer: Tracer, ratio: float) -> None:
        self._tracer = tracer
        self._bound = TraceIdRatioBased.get_bound_for_rate(ratio)
        # Everything _Span needs from the tracer, read once.
        self._fixed: dict[str, Any] = {
            "sampler": tracer.sampler,
            "resource": tracer.resource,
            "span_processor": tracer.span_processor,
            "instrumentation_info": tracer.instrumentation_info,
            "instrumentation_scope": tracer._instrumentation_scope,
            "limits": tracer._span_limits,
        }
        self._max_attributes = tracer._span_limits.max_span_attributes

    def start(
        self,
        name: str,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: Mapping[str, Any] | None,
    ) -> Span:
        """A started span, child of ``parent`` (a sampled one) or the root of a new trace."""
        if parent is None:
            trace_id = getrandbits(128)
            # TraceIdRatioBased's test, on the id before anything else is built.
            if trace_id & _ID_LIMIT >= self._bound:
                return NonRecordingSpan(
                    SpanContext(trace_id, _span_id(), False, TraceFlags(_RANDOM))
                )
            flags = TraceFlags(_SAMPLED | _RANDOM)
        else:
            trace_id = parent.trace_id
            flags = TraceFlags(_SAMPLED | (parent.trace_flags & _RANDOM))
        context = SpanContext(trace_id, _span_id(), False, flags)
        span = _Span(name, context, parent, kind=kind, **self._fixed)
        if attributes:
            self._set(span, attributes)
        span.start()
        return span

    def _set(self, span: _Span, attributes: Mapping[str, Any]) -> None:
        plain = len(attributes) <= (self._max_attributes or 0) and all(
            type(value) in _PLAIN for value in attributes.values()
        )
        if plain:
            # The values the SDK would keep after cleaning them; one dict update, no lock
            # (nobody else holds the span yet).
            cast(Any, span._attributes)._dict.update(attributes)
        else:
            span.set_attributes(attributes)


def _span_id() -> int:
    # RandomIdGenerator.generate_span_id: 64 random bits, never the invalid 0.
    span_id = getrandbits(64)
    while not span_id:
        span_id = getrandbits(64)
    return span_id
