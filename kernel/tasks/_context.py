"""What travels with a task (principal, trace, correlation id) and what a running task can ask.

The sender adds labels to the task message through the same propagation seam as events, calls and
forwarded requests (``kernel.propagation``): the identity is signed in the gateway and passed on
elsewhere. The worker restores them with the time JetStream stored the message (its server-side
timestamp, which a publisher cannot choose), so retries and late deliveries keep the caller's
principal without a private key in the worker. A task always has a correlation id: the sender's,
or a new one.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from kernel.context import current_module
from kernel.errors import WebOSError
from kernel.propagation import HEADER_CORRELATION, Propagation

HEADER_SOURCE = "webos-source"
HEADER_TICK = "webos-tick"


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """The task in progress, as ``task_info()`` returns it inside a task."""

    id: str
    name: str
    attempt: int
    max_attempts: int
    correlation_id: str | None
    #: For a scheduled run: the tick (epoch seconds) it was sent for.
    tick: int | None = None


_current_run: ContextVar[tuple[TaskInfo, Callable[[float, str | None], Awaitable[None]]] | None] = (
    ContextVar("webos_task_run", default=None)
)


class NotInTask(WebOSError, RuntimeError):
    """``progress()`` or ``task_info()`` was called outside a running task."""


def task_info() -> TaskInfo:
    run = _current_run.get()
    if run is None:
        raise NotInTask("task_info() is only available inside a running task")
    return run[0]


async def progress(fraction: float, message: str | None = None) -> None:
    """Record how far the running task got (0..1); ``GET /api/system/tasks/{id}`` shows it."""
    run = _current_run.get()
    if run is None:
        raise NotInTask("progress() is only available inside a running task")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"progress must be between 0 and 1, got {fraction}")
    await run[1](fraction, message)


def outgoing_labels(propagation: Propagation) -> dict[str, str]:
    """Labels (NATS headers) carrying the caller's context onto a task being sent now."""
    labels: dict[str, str] = {}
    propagation.inject(labels)
    labels.setdefault(HEADER_CORRELATION, uuid.uuid4().hex)
    module = current_module.get()
    if module:
        labels[HEADER_SOURCE] = module
    return labels


def restore_context(
    labels: Mapping[str, str], *, module: str, propagation: Propagation, accepted_at: datetime
) -> None:
    """Set the context variables of the current asyncio task for one task run: the sender's
    context, the identity judged as of ``accepted_at``. Call it inside the task's own asyncio
    task: the variables end with it, so nothing needs undoing."""
    propagation.extract(labels, accepted_at)
    current_module.set(module)


def bind_run(info: TaskInfo, report: Callable[[float, str | None], Awaitable[None]]) -> None:
    _current_run.set((info, report))
