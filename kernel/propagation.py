"""The one seam that carries context across processes: events, service calls, forwarded HTTP
requests and tasks all go through it.

A :class:`Propagator` owns one or a few headers. On the sending side ``inject`` writes what the
work in progress carries (its trace, its correlation id, the signed identity of its principal)
into the outgoing headers; on the receiving side ``extract`` restores it into context variables
around the work and returns how to undo that. :class:`Propagation` is the ordered set a kernel
uses for all four transports, so a new cross-cutting header (a tenant, say) is one propagator
added in one place, and every transport carries it.

Some context only makes sense while a sender waits for the answer: the deadline (how long the
caller still waits) travels with service calls and forwarded HTTP requests, never with events or
tasks, which outlive their sender by design. Such propagators are added ``awaited_only`` and the
two request transports ask for them with ``awaited=True``.

``accepted_at`` is when the message was accepted by the server (JetStream's stored time for
durable events and tasks, None for live messages): a propagator that judges validity by time
(the identity) judges it as of then.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from contextvars import ContextVar
from datetime import datetime
from typing import Protocol

from kernel.context import (
    current_correlation_id,
    current_deadline,
    current_traceparent,
    time_left,
)
from kernel.errors import DeadlineExceeded

Undo = Callable[[], None]

HEADER_TRACEPARENT = "traceparent"
HEADER_CORRELATION = "webos-correlation-id"
#: Milliseconds the sender still waits for the answer: a duration, not a time of day, because the
#: clocks of two machines differ; the receiver turns it into a deadline on its own clock.
HEADER_DEADLINE = "webos-deadline"

log = logging.getLogger("webos.propagation")


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
        value = headers.get(self.header) or None
        variable = self.variable
        if value is None and variable.get() is None:
            return None  # as received already: nothing to set, nothing to undo
        token = variable.set(value)
        return lambda: variable.reset(token)


def trace_context() -> ContextValue:
    """W3C ``traceparent``: the innermost span of the sender becomes the receiver's parent."""
    return ContextValue(HEADER_TRACEPARENT, current_traceparent)


def correlation_id() -> ContextValue:
    """``webos-correlation-id``: one id for everything a piece of work causes, when it has one."""
    return ContextValue(HEADER_CORRELATION, current_correlation_id)


class DeadlinePropagator:
    """``webos-deadline``: what is left of the deadline in force, in whole milliseconds, rounded
    down: the callee's deadline is never later than its caller's, however many hops it takes."""

    headers = frozenset({HEADER_DEADLINE})

    def inject(self, headers: MutableMapping[str, str]) -> None:
        left = time_left()
        if left is not None:
            headers[HEADER_DEADLINE] = str(math.floor(left * 1000))

    def extract(self, headers: Mapping[str, str], accepted_at: datetime | None) -> Undo | None:
        raw = headers.get(HEADER_DEADLINE)
        if raw is None:
            return None
        try:
            left = int(raw) / 1000
        except ValueError:
            # Only a client outside the kernel sends a bad one (the gateway drops clients' copies):
            # its work runs unbounded, as without the header, and the log says why.
            log.warning(
                "ignored a %s header that is not whole milliseconds: %r", HEADER_DEADLINE, raw
            )
            return None
        token = current_deadline.set(time.monotonic() + max(0.0, left))
        return lambda: current_deadline.reset(token)


def call_deadline(timeout: float, headers: MutableMapping[str, str], what: str) -> float:
    """The time to wait for the answer to a call made now: ``timeout``, or less when the work in
    progress has less left, which is then written into ``headers`` so the callee knows when its
    caller stops waiting. With no time left, raises :class:`DeadlineExceeded` (nothing should be
    sent). Work with no deadline (a task, an event handler) sends none: a header on every call
    costs about a tenth of the call rate, as nats-py parses headers in Python."""
    left = time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise DeadlineExceeded(f"{what} was not sent: the deadline of the work calling it passed")
    timeout = min(timeout, left)
    headers[HEADER_DEADLINE] = str(math.floor(timeout * 1000))
    return timeout


def _nothing() -> None:
    return None


def _undo_all(undos: list[Undo]) -> Undo:
    if not undos:
        return _nothing  # a message that carried nothing (the common service call)
    if len(undos) == 1:
        return undos[0]

    def undo() -> None:
        for step in reversed(undos):
            step()

    return undo


class Propagation:
    """The propagators of one kernel, applied in order (undone in reverse)."""

    def __init__(
        self, propagators: Iterable[Propagator] = (), *, awaited_only: Iterable[Propagator] = ()
    ) -> None:
        self._propagators: tuple[Propagator, ...] = ()
        self._awaited_only: tuple[Propagator, ...] = ()
        self._set(tuple(propagators), ())
        for propagator in awaited_only:
            self.add(propagator, awaited_only=True)

    def _set(
        self, propagators: tuple[Propagator, ...], awaited_only: tuple[Propagator, ...]
    ) -> None:
        self._propagators = propagators
        self._awaited_only = awaited_only
        # Both kept, not recomputed per message: transports pick one on every message.
        self._oneway = tuple(p for p in propagators if not any(p is q for q in awaited_only))
        # Every header, awaited or not: forwarding drops these from every client request.
        self.headers: frozenset[str] = frozenset().union(*(p.headers for p in propagators))
        self.header_bytes: frozenset[bytes] = frozenset(h.encode("latin-1") for h in self.headers)

    @classmethod
    def default(cls) -> Propagation:
        """Trace, correlation id and (for calls) the deadline; the security subsystem adds the
        identity when it starts."""
        return cls([trace_context(), correlation_id()], awaited_only=[DeadlinePropagator()])

    def add(self, propagator: Propagator, *, awaited_only: bool = False) -> None:
        """Carry ``propagator`` too; ``awaited_only``: on service calls and forwarded HTTP only."""
        marked = (*self._awaited_only, propagator) if awaited_only else self._awaited_only
        self._set((*self._propagators, propagator), marked)

    def remove(self, propagator: Propagator) -> None:
        self._set(
            tuple(p for p in self._propagators if p is not propagator),
            tuple(p for p in self._awaited_only if p is not propagator),
        )

    def _chosen(self, awaited: bool) -> tuple[Propagator, ...]:
        return self._propagators if awaited else self._oneway

    def inject(
        self, headers: MutableMapping[str, str], *, awaited: bool = False
    ) -> MutableMapping[str, str]:
        """Add the context of the work in progress; ``awaited``: the sender waits for an answer
        (a service call, a forwarded request), so the deadline goes too."""
        for propagator in self._chosen(awaited):
            propagator.inject(headers)
        return headers

    def extract(
        self,
        headers: Mapping[str, str],
        accepted_at: datetime | None = None,
        *,
        awaited: bool = False,
    ) -> Undo:
        """Restore the context ``headers`` carry; call the result to undo it. ``awaited``: as for
        :meth:`inject`; an event's or a task's headers never set a deadline."""
        undos = []
        for propagator in self._chosen(awaited):
            undo = propagator.extract(headers, accepted_at)
            if undo is not None:
                undos.append(undo)
        return _undo_all(undos)


__all__ = [
    "HEADER_CORRELATION",
    "HEADER_DEADLINE",
    "HEADER_TRACEPARENT",
    "ContextValue",
    "DeadlinePropagator",
    "Propagation",
    "Propagator",
    "Undo",
    "call_deadline",
    "correlation_id",
    "trace_context",
]
