"""What travels with a task (principal, trace, correlation id) and what a running task can ask.

The sender adds headers to the task message exactly as the bus adds them to events: the identity
comes from the bus envelopes (signed in the gateway, forwarded elsewhere). The worker verifies the
identity as of the moment JetStream stored the message (its server-side timestamp, which a
publisher cannot choose), so retries and late deliveries keep the caller's principal without a
private key in the worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from kernel.auth import IDENTITY_HEADER, Principal, current_principal, verify_identity
from kernel.auth._envelope import received_identity
from kernel.bus import Bus
from kernel.context import current_module, current_traceparent

HEADER_TRACEPARENT = "traceparent"
HEADER_CORRELATION = "webos-correlation-id"
HEADER_SOURCE = "webos-source"
HEADER_SCHEDULE = "schedule_id"  # set by taskiq's scheduler
HEADER_TICK = "webos-tick"

current_correlation_id: ContextVar[str | None] = ContextVar("webos_correlation_id", default=None)


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


class NotInTask(RuntimeError):
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


def outgoing_labels(bus: Bus) -> dict[str, str]:
    """Labels (NATS headers) carrying the caller's context onto a task being sent now."""
    labels: dict[str, str] = {}
    for envelope in bus.envelopes:
        extra = envelope.outgoing()
        if extra:
            labels.update(extra)
    traceparent = current_traceparent.get()
    if traceparent:
        labels[HEADER_TRACEPARENT] = traceparent
    labels[HEADER_CORRELATION] = current_correlation_id.get() or uuid.uuid4().hex
    module = current_module.get()
    if module:
        labels[HEADER_SOURCE] = module
    return labels


def restore_context(
    labels: Mapping[str, str],
    *,
    module: str,
    principal: Principal | None,
    public_key: object | None,
    accepted_at: datetime,
    leeway: float,
) -> None:
    """Set the context variables of the current asyncio task for one task run.

    ``principal`` wins when given (scheduled tasks run as ``system:scheduler``); otherwise the
    identity label is verified as of ``accepted_at``. Call it inside the task's own asyncio task:
    the variables end with it.
    """
    current_module.set(module)
    current_traceparent.set(labels.get(HEADER_TRACEPARENT) or None)
    current_correlation_id.set(labels.get(HEADER_CORRELATION) or None)
    if principal is None:
        token = labels.get(IDENTITY_HEADER)
        if token and public_key is not None:
            principal = verify_identity(token, public_key, leeway=leeway, now=accepted_at)  # type: ignore[arg-type]
            if principal.is_authenticated:
                # Events the task emits carry the same identity on (a worker cannot sign).
                received_identity.set((token, principal))
    if principal is not None:
        current_principal.set(principal)


def bind_run(info: TaskInfo, report: Callable[[float, str | None], Awaitable[None]]) -> None:
    _current_run.set((info, report))
