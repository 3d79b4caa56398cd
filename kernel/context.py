"""Context variables that follow a unit of work (request, event, call, task) through the kernel.

They are set by the code that starts the work (HTTP middleware, the bus, the task worker) and read
by code deep inside it, so that ``bus.emit`` knows which module is emitting and which trace it
belongs to without every call site passing them along. Across processes they travel as headers
through the one propagation seam (:mod:`kernel.propagation`).
"""

from __future__ import annotations

from contextvars import ContextVar

current_module: ContextVar[str | None] = ContextVar("webos_current_module", default=None)
current_traceparent: ContextVar[str | None] = ContextVar("webos_traceparent", default=None)
current_correlation_id: ContextVar[str | None] = ContextVar("webos_correlation_id", default=None)

__all__ = ["current_correlation_id", "current_module", "current_traceparent"]
