"""The TaskIQ broker: taskiq-nats's pull-based JetStream broker on the kernel's connection.

Tasks go to the ``WEBOS_TASKS`` stream (work-queue retention, on disk) on the subject
``webos.tasks.<module>.<task>.<task id>``, so a task sent before any worker runs waits in the
stream. Each module's tasks are consumed through one durable pull consumer (``tasks_<module>``)
shared by all the workers that run the module.

A queued task has no status record of its own: while it waits, its message in the stream *is*
the record (found by the id in its subject, see :func:`queued_status`), and the worker writes
the first KV record once the task runs. Sending is then one JetStream publish, as in plain
taskiq-nats.

Changes to taskiq-nats's broker: it reuses the kernel's NATS connection instead of opening one,
publishes on the task's own subject, and deduplicates by task id (``Nats-Msg-Id``, the only
header). Labels (principal, trace, correlation id) travel inside the taskiq message, not as NATS
headers as in taskiq-nats: headers must be strings (taskiq's OpenTelemetry middleware adds a
float label), and parsing them was a measurable share of the worker's time per task.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from nats.js.errors import NotFoundError
from taskiq import AsyncBroker, BrokerMessage
from taskiq_nats import PullBasedJetStreamBroker

from kernel.auth import IDENTITY_HEADER
from kernel.propagation import HEADER_CORRELATION, HEADER_TRACEPARENT
from kernel.tasks._results import KvResultBackend
from kernel.tasks._store import StatusStore, TaskState, TaskStatus, valid_task_id
from kernel.tasks._stream import SUBJECT_PREFIX, TASKS_STREAM, ensure_stream, stream_config

HEADER_MSG_ID = "Nats-Msg-Id"
HEADER_EXPECTED_STREAM = "Nats-Expected-Stream"
log = logging.getLogger("webos.tasks")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def task_subject(task_name: str, task_id: str) -> str:
    """Where a task is published; the id is the last token when it is a valid task id (an
    invalid one has no status anyway, see :func:`kernel.tasks._store.valid_task_id`)."""
    module, _, function = task_name.partition(".")
    subject = f"{SUBJECT_PREFIX}.{module}.{_UNSAFE.sub('_', function)}"
    return f"{subject}.{task_id}" if valid_task_id(task_id) else subject


def module_subjects(module: str) -> str:
    return f"{SUBJECT_PREFIX}.{module}.>"


def consumer_name(module: str) -> str:
    return f"tasks_{_UNSAFE.sub('_', module)}"


def string_labels(labels: dict[str, Any]) -> dict[str, str]:
    """Labels as strings, as the context readers expect; taskiq adds ints and floats (retries,
    OpenTelemetry)."""
    return {
        str(key): value if isinstance(value, str) else str(value) for key, value in labels.items()
    }


class KernelTaskBroker(PullBasedJetStreamBroker):
    """See the module docstring. Consumption is :class:`kernel.tasks._worker.Worker`'s job."""

    def __init__(
        self, connection: Any, store: StatusStore, *, max_age: float, replicas: int = 1
    ) -> None:
        super().__init__(
            servers=[],
            subject=f"{SUBJECT_PREFIX}.>",
            stream_name=TASKS_STREAM,
            stream_config=stream_config(max_age),
        )
        self._connection = connection
        self.store = store
        self.max_age = max_age
        self.replicas = replicas
        self.with_result_backend(KvResultBackend(store))

    async def startup(self) -> None:
        # AsyncBroker.startup: taskiq events, middlewares and the result backend; no connect.
        await AsyncBroker.startup(self)
        self.js = self._connection.jetstream()
        await ensure_stream(self.js, self.max_age, self.replicas)

    async def shutdown(self) -> None:
        # The connection is the kernel's; it closes it with the bus.
        await AsyncBroker.shutdown(self)

    async def kick(self, message: BrokerMessage) -> None:
        # The labels travel in the taskiq message itself; the one header is for deduplication.
        await self.store.publisher.publish(
            task_subject(message.task_name, message.task_id),
            message.message,
            headers={HEADER_MSG_ID: message.task_id, HEADER_EXPECTED_STREAM: TASKS_STREAM},
        )

    async def listen(self) -> Any:  # pragma: no cover - the kernel's Worker consumes
        raise NotImplementedError("kernel tasks are consumed by kernel.tasks.Worker")
        yield


#: Who a queued task runs for: the verified principal id of its identity header, as of the
#: time the stream stored it (None when anonymous or unverifiable).
PrincipalOf = Callable[[str, datetime], "str | None"]


async def queued_status(js: Any, task_id: str, principal_of: PrincipalOf) -> TaskStatus | None:
    """The status of a task still waiting in the stream, read from its message; else None."""
    if not valid_task_id(task_id):
        return None
    try:
        message = await js.get_msg(TASKS_STREAM, subject=f"{SUBJECT_PREFIX}.*.*.{task_id}")
    except NotFoundError:
        return None
    return _queued(message, principal_of)


async def queued_tasks(js: Any, limit: int, principal_of: PrincipalOf) -> list[TaskStatus]:
    """The ``limit`` oldest tasks waiting in the stream: one read each, however long the queue."""
    try:
        info = await js.stream_info(TASKS_STREAM)
    except NotFoundError:
        return []
    found: list[TaskStatus] = []
    sequence = info.state.first_seq
    while len(found) < limit and info.state.messages and sequence <= info.state.last_seq:
        try:
            message = await js.get_msg(
                TASKS_STREAM, seq=sequence, subject=f"{SUBJECT_PREFIX}.>", next=True
            )
        except NotFoundError:
            break
        if (status := _queued(message, principal_of)) is not None:
            found.append(status)
        sequence = message.seq + 1
    return found


def _queued(message: Any, principal_of: PrincipalOf) -> TaskStatus | None:
    try:
        body = json.loads(message.data)
        task_id, name = str(body["task_id"]), str(body["task_name"])
        labels = string_labels(body.get("labels") or {})
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("message %s in %s is not a taskiq message", message.seq, TASKS_STREAM)
        return None
    token = labels.get(IDENTITY_HEADER)
    return TaskStatus(
        id=task_id,
        task=name,
        state=TaskState.QUEUED,
        correlation_id=labels.get(HEADER_CORRELATION),
        traceparent=labels.get(HEADER_TRACEPARENT),
        principal=principal_of(token, message.time) if token and message.time else None,
        queued_at=message.time,
    )
