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
* ids come from ``random.getrandbits``, as the SDK's ``RandomIdGenerator`` does;
* the span is a :class:`LeanSpan`: the SDK's span class without its per-span locks, bounded
  containers and end-time copy (four locks, three containers and a second object per span,
  about half of a span's cost). It is built only where nothing would be bounded or cut (plain
  values within the attribute limit, no length limit); anything else turns it into what the
  SDK builds, on the spot.

What comes out is an SDK span: processors, exporters and ``span.end()`` see no difference
(``tests/telemetry/test_lean_span.py`` compares the exported spans with the SDK's).
With another sampler configured (``OTEL_TRACES_SAMPLER``) nothing here is used.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from random import getrandbits
from time import time_ns
from typing import Any, cast

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Event, Tracer, _Span
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Span, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.status import Status, StatusCode
from opentelemetry.util import types

from kernel.telemetry._spans import UnsampledRoot

log = logging.getLogger("webos.telemetry")

_PLAIN = (str, int, float, bool)
_PLAIN_SET = frozenset(_PLAIN)
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
        limits = tracer._span_limits
        self._max_attributes = limits.max_span_attributes
        # A length limit cuts string values: the SDK's own span does that.
        self._lean = limits.max_span_attribute_length is None

    def start(
        self,
        name: str,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: Mapping[str, Any] | None,
        extra: Mapping[str, Any] | None = None,
    ) -> Span:
        """A started span, child of ``parent`` (a sampled one) or the root of a new trace, with
        ``attributes`` (copied, never changed: callers build them once) and ``extra``."""
        if parent is None:
            trace_id = getrandbits(128)
            # TraceIdRatioBased's test, on the id before anything else is built.
            if trace_id & _ID_LIMIT >= self._bound:
                return UnsampledRoot(trace_id, _span_id())
            flags = TraceFlags(_SAMPLED | _RANDOM)
        else:
            trace_id = parent.trace_id
            flags = TraceFlags(_SAMPLED | (parent.trace_flags & _RANDOM))
        context = SpanContext(trace_id, _span_id(), False, flags)
        # One new dict per span: the span's own, which it may change.
        if extra:
            own = {**attributes, **extra} if attributes else dict(extra)
        else:
            own = dict(attributes) if attributes else {}
        if self._lean and self._plain(own):
            fixed = self._fixed
            lean = LeanSpan(name, context, parent, kind, own, fixed)
            fixed["span_processor"].on_start(lean, parent_context=None)
            return lean
        span = _Span(name, context, parent, kind=kind, **self._fixed)
        if own:
            self._set(span, own)
        span.start()
        return span

    def _plain(self, attributes: Mapping[str, Any]) -> bool:
        # Types collected in C, not a generator per value: this runs for every span.
        return len(attributes) <= (self._max_attributes or 0) and _PLAIN_SET.issuperset(
            map(type, attributes.values())
        )

    def _set(self, span: _Span, attributes: Mapping[str, Any]) -> None:
        if self._plain(attributes):
            # The values the SDK would keep after cleaning them; one dict update, no lock
            # (nobody else holds the span yet).
            cast(Any, span._attributes)._dict.update(attributes)
        else:
            span.set_attributes(attributes)


#: The lean spans' lock: they are written by the task that owns them, so it is never contended;
#: reentrant, as the SDK's decorators hold it around methods that may call others.
_LOCK: Any = threading.RLock()
_UNSET = Status(StatusCode.UNSET)


class LeanSpan(_Span):
    """The SDK's span with plain attributes in a ``dict``, events and links made on first use,
    one shared lock, and itself handed to the processors when it ends (it no longer changes then,
    as the SDK's end-time copy does not). A value the SDK would clean, or an attribute past the
    limit, switches the span to the SDK's ``BoundedAttributes`` first.
    """

    def __init__(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: dict[str, Any],
        fixed: dict[str, Any],
    ) -> None:
        # Not the SDK's __init__: what it builds per span is what this class saves.
        self._name = name
        self._context = context
        self._kind = kind
        self._parent = parent
        self._attributes = attributes
        self._events = ()
        self._links = ()
        self._status = _UNSET
        self._end_time = None
        self._resource = fixed["resource"]
        self._instrumentation_info = fixed["instrumentation_info"]
        self._instrumentation_scope = fixed["instrumentation_scope"]
        self._sampler = fixed["sampler"]
        self._span_processor = fixed["span_processor"]
        self._limits = fixed["limits"]
        self._trace_config = None
        self._record_exception = True
        self._set_status_on_exception = True
        self._record_end_metrics = None
        self._lock = _LOCK
        self._start_time = time_ns()

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        if self._end_time is not None:
            log.warning("Setting attribute on ended span.")
            return
        attributes = self._attributes
        if (
            type(attributes) is dict
            and type(value) in _PLAIN
            and type(key) is str
            and key
            and (key in attributes or len(attributes) < (self._limits.max_span_attributes or 0))
        ):
            attributes[key] = value
        else:
            self._bounded()[key] = value

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def _bounded(self) -> BoundedAttributes:
        attributes = self._attributes
        if not isinstance(attributes, BoundedAttributes):
            attributes = self._attributes = BoundedAttributes(
                self._limits.max_span_attributes,
                attributes,
                immutable=False,
                max_value_len=self._limits.max_span_attribute_length,
            )
        return attributes

    def _add_event(self, event: Event) -> None:  # type: ignore[override]
        if self._end_time is not None:
            log.warning("Tried calling _add_event on an ended span.")
            return
        if type(self._events) is tuple:
            self._events = self._new_events()
        cast(BoundedList, self._events).append(event)

    def _add_link(self, link: Any) -> None:
        if self._end_time is not None:
            log.warning("Tried calling _add_link on an ended span.")
            return
        if type(self._links) is tuple:
            self._links = self._new_links(())
        cast(BoundedList, self._links).append(link)

    def end(self, end_time: int | None = None) -> None:
        if self._end_time is not None:
            log.warning("Calling end() on an ended span.")
            return
        self._end_time = end_time if end_time is not None else time_ns()
        if isinstance(self._attributes, BoundedAttributes):
            self._attributes._immutable = True
        processor = self._span_processor
        processor._on_ending(self)
        processor.on_end(self)


def _span_id() -> int:
    # RandomIdGenerator.generate_span_id: 64 random bits, never the invalid 0.
    span_id = getrandbits(64)
    while not span_id:
        span_id = getrandbits(64)
    return span_id
