"""The one seam that carries context across processes: events, service calls, forwarded HTTP
requests and tasks all go through it.

A :class:`Propagator` owns one or a few headers. On the sending side ``inject`` writes what the
work in progress carries (its trace, its correlation id, the signed identity of its principal)
into the outgoing headers; on the receiving side ``extract`` restores it into context variables
around the work and returns how to undo that. :class:`Propagation` is the ordered set a kernel
uses for all four transports, so a new cross-cutting header (a tenant, say) is one propagator
added in one place, and every transport carries it.

``accepted_at`` is when the message was accepted by the server (JetStream's stored time for
durable events and tasks, None for live messages): a propagator that judges validity by time
(the identity) judges it as of then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from datetime import datetime
from typing import Protocol

from kernel.context import current_correlation_id, current_traceparent

Undo = Callable[[], None]

HEADER_TRACEPARENT = "traceparent"
HEADER_CORRELATION = "webos-correlation-id"


class Propagator(Protocol):
    #: Headers this propagator owns: set only by it, never passed on from a client.
    headers: frozenset[str]

    def inject(self, headers: MutableMapping[str, str]) -> None:
        """Add the context of the work in progress to ``headers``."""
        ...

    def extract(self, headers: Mapping[str, str], accepted_at: datetime | None) -> Undo | None:
        """Restore context from received ``headers``; return how to undo it (or None)."""
        ...


class TraceContext:
    """W3C ``traceparent``: the innermost span of the sender becomes the receiver's parent."""

    headers = frozenset({HEADER_TRACEPARENT})

    def inject(self, headers: MutableMapping[str, str]) -> None:
        traceparent = current_traceparent.get()
        if traceparent:
            headers[HEADER_TRACEPARENT] = traceparent

    def extract(self, headers: Mapping[str, str], accepted_at: datetime | None) -> Undo | None:
        token = current_traceparent.set(headers.get(HEADER_TRACEPARENT) or None)
        return lambda: current_traceparent.reset(token)


class CorrelationId:
    """``webos-correlation-id``: one id for everything a piece of work causes, when it has one."""

    headers = frozenset({HEADER_CORRELATION})

    def inject(self, headers: MutableMapping[str, str]) -> None:
        correlation = current_correlation_id.get()
        if correlation:
            headers[HEADER_CORRELATION] = correlation

    def extract(self, headers: Mapping[str, str], accepted_at: datetime | None) -> Undo | None:
        token = current_correlation_id.set(headers.get(HEADER_CORRELATION) or None)
        return lambda: current_correlation_id.reset(token)


def _undo_all(undos: list[Undo]) -> Undo:
    def undo() -> None:
        for step in reversed(undos):
            step()

    return undo


class Propagation:
    """The propagators of one kernel, applied in order (undone in reverse)."""

    def __init__(self, propagators: Iterable[Propagator] = ()) -> None:
        self._propagators: tuple[Propagator, ...] = tuple(propagators)

    @classmethod
    def default(cls) -> Propagation:
        """Trace and correlation id; the security subsystem adds the identity when it starts."""
        return cls([TraceContext(), CorrelationId()])

    def add(self, propagator: Propagator) -> None:
        self._propagators = (*self._propagators, propagator)

    def remove(self, propagator: Propagator) -> None:
        self._propagators = tuple(p for p in self._propagators if p is not propagator)

    @property
    def headers(self) -> frozenset[str]:
        """Every header some propagator owns (a gateway drops these from client requests)."""
        return frozenset().union(*(p.headers for p in self._propagators))

    def inject(self, headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
        for propagator in self._propagators:
            propagator.inject(headers)
        return headers

    def extract(self, headers: Mapping[str, str], accepted_at: datetime | None = None) -> Undo:
        """Restore the context ``headers`` carry; call the result to undo it."""
        undos = []
        for propagator in self._propagators:
            undo = propagator.extract(headers, accepted_at)
            if undo is not None:
                undos.append(undo)
        return _undo_all(undos)


__all__ = [
    "HEADER_CORRELATION",
    "HEADER_TRACEPARENT",
    "CorrelationId",
    "Propagation",
    "Propagator",
    "TraceContext",
    "Undo",
]
