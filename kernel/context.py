"""Context variables that follow a unit of work (request, event, call, task) through the kernel.

They are set by the code that starts the work (HTTP middleware, the bus, the task worker) and read
by code deep inside it, so that ``bus.emit`` knows which module is emitting and which trace it
belongs to without every call site passing them along. Across processes they travel as headers
through the one propagation seam (:mod:`kernel.propagation`).
"""

from __future__ import annotations

import time
from contextvars import ContextVar

current_module: ContextVar[str | None] = ContextVar("webos_current_module", default=None)
current_traceparent: ContextVar[str | None] = ContextVar("webos_traceparent", default=None)
current_correlation_id: ContextVar[str | None] = ContextVar("webos_correlation_id", default=None)
#: When the work in progress must be done by, on this process's ``time.monotonic()`` clock; None
#: when nothing bounds it. Set where work starts (an HTTP request, a received call); read through
#: :func:`time_left`.
current_deadline: ContextVar[float | None] = ContextVar("webos_deadline", default=None)


def time_left() -> float | None:
    """Seconds left before the deadline of the work in progress (0 once it passed), None when
    there is none: its caller has stopped waiting by then, so work started later is wasted."""
    deadline = current_deadline.get()
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


__all__ = [
    "current_correlation_id",
    "current_deadline",
    "current_module",
    "current_traceparent",
    "time_left",
]
