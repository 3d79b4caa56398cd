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
from contextvars import ContextVar
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


class ContextValue:
    """One header carrying one context variable as it is: the trace's ``traceparent``, the
    correlation id. Sent only when the work in progress has a value; restored as received."""

    def __init__(self, header: str, variable: ContextVar[str | None]) -> None:
        self.header = header
        self.variable = variable
        self.headers = frozenset({header})

    def inject(self, headers: MutableMapping[str, str]) -> None:
        value = self.variable.get()
        if value:
            headers[self.header] = value

    def extract(self, headers: Mapping[str, str], accepted_at: datetime | None) -> Undo | None:
        token = self.variable.set(headers.get(self.header) or None)
        return lambda: self.variable.reset(token)


def trace_context() -> ContextValue:
    """W3C ``traceparent``: the innermost span of the sender becomes the receiver's parent."""
    return ContextValue(HEADER_TRACEPARENT, current_traceparent)


def correlation_id() -> ContextValue:
    """``webos-correlation-id``: one id for everything a piece of work causes, when it has one."""
    return ContextValue(HEADER_CORRELATION, current_correlation_id)


def _undo_all(undos: list[Undo]) -> Undo:
    def undo() -> None:
        for step in reversed(undos):
            step()

    return undo


class Propagation:
    """The propagators of one kernel, applied in order (undone in reverse)."""

    def __init__(self, propagators: Iterable[Propagator] = ()) -> None:
        self._propagators: tuple[Propagator, ...] = ()
        self._set(tuple(propagators))

    def _set(self, propagators: tuple[Propagator, ...]) -> None:
        self._propagators = propagators
        # Kept, not recomputed per message: forwarding drops these from every client request.
        self.headers: frozenset[str] = frozenset().union(*(p.headers for p in propagators))
        self.header_bytes: frozenset[bytes] = frozenset(h.encode("latin-1") for h in self.headers)

    @classmethod
    def default(cls) -> Propagation:
        """Trace and correlation id; the security subsystem adds the identity when it starts."""
        return cls([trace_context(), correlation_id()])

    def add(self, propagator: Propagator) -> None:
        self._set((*self._propagators, propagator))

    def remove(self, propagator: Propagator) -> None:
        self._set(tuple(p for p in self._propagators if p is not propagator))

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
    "ContextValue",
    "Propagation",
    "Propagator",
    "Undo",
    "correlation_id",
    "trace_context",
]
