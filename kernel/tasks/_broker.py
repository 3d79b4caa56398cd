"""The TaskIQ broker: taskiq-nats's pull-based JetStream broker on the kernel's connection.

Tasks go to the ``WEBOS_TASKS`` stream (work-queue retention, on disk) on the subject
``webos.tasks.<module>.<task>``, so a task sent before any worker runs waits in the stream. Each
module's tasks are consumed through one durable pull consumer (``tasks_<module>``) shared by all
the workers that run the module.

Changes to taskiq-nats's broker: it reuses the kernel's NATS connection instead of opening one,
publishes on the task's own subject, turns every label into a string (labels travel as NATS
headers, which must be strings), deduplicates by task id (``Nats-Msg-Id``) and writes the
"queued" record together with the publish.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from taskiq import AsyncBroker, BrokerMessage
from taskiq_nats import PullBasedJetStreamBroker

from kernel.auth import current_principal
from kernel.tasks._context import HEADER_CORRELATION, HEADER_TRACEPARENT
from kernel.tasks._store import KvResultBackend, StatusStore, TaskState, TaskStatus, now

TASKS_STREAM = "WEBOS_TASKS"
SUBJECT_PREFIX = "webos.tasks"
HEADER_MSG_ID = "Nats-Msg-Id"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def task_subject(task_name: str) -> str:
    module, _, function = task_name.partition(".")
    return f"{SUBJECT_PREFIX}.{module}.{_UNSAFE.sub('_', function)}"


def module_subjects(module: str) -> str:
    return f"{SUBJECT_PREFIX}.{module}.>"


def consumer_name(module: str) -> str:
    return f"tasks_{_UNSAFE.sub('_', module)}"


def stream_config(max_age: float) -> StreamConfig:
    return StreamConfig(
        name=TASKS_STREAM,
        subjects=[f"{SUBJECT_PREFIX}.>"],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=max_age,
        duplicate_window=120.0,
    )


async def ensure_stream(js: Any, max_age: float) -> None:
    try:
        await js.stream_info(TASKS_STREAM)
        return
    except NotFoundError:
        pass
    try:
        await js.add_stream(stream_config(max_age))
    except BadRequestError as error:
        if error.err_code != 10058:  # created meanwhile by another process
            raise


def string_labels(labels: dict[str, Any]) -> dict[str, str]:
    """NATS headers are strings; taskiq adds ints and floats (retries, OpenTelemetry)."""
    return {
        str(key): value if isinstance(value, str) else str(value) for key, value in labels.items()
    }


class KernelTaskBroker(PullBasedJetStreamBroker):
    """See the module docstring. Consumption is :class:`kernel.tasks._worker.Worker`'s job."""

    def __init__(self, connection: Any, store: StatusStore, *, max_age: float) -> None:
        super().__init__(
            servers=[],
            subject=f"{SUBJECT_PREFIX}.>",
            stream_name=TASKS_STREAM,
            stream_config=stream_config(max_age),
        )
        self._connection = connection
        self.store = store
        self.max_age = max_age
        self.with_result_backend(KvResultBackend(store))

    async def startup(self) -> None:
        # AsyncBroker.startup: taskiq events, middlewares and the result backend; no connect.
        await AsyncBroker.startup(self)
        self.js = self._connection.jetstream()
        await ensure_stream(self.js, self.max_age)

    async def shutdown(self) -> None:
        # The connection is the kernel's; it closes it with the bus.
        await AsyncBroker.shutdown(self)

    async def kick(self, message: BrokerMessage) -> None:
        headers = string_labels(message.labels)
        headers[HEADER_MSG_ID] = message.task_id
        queued = TaskStatus(
            id=message.task_id,
            task=message.task_name,
            state=TaskState.QUEUED,
            correlation_id=headers.get(HEADER_CORRELATION),
            traceparent=headers.get(HEADER_TRACEPARENT),
            principal=_principal_id(),
            queued_at=now(),
        )
        # One round trip for both: the record is created only if the worker has not written
        # one already, so a fast worker's "running" is never overwritten by "queued".
        await asyncio.gather(
            self.store.create(queued),
            self.js.publish(
                task_subject(message.task_name),
                payload=message.message,
                headers=headers,
                stream=TASKS_STREAM,
            ),
        )

    async def listen(self) -> Any:  # pragma: no cover - the kernel's Worker consumes
        raise NotImplementedError("kernel tasks are consumed by kernel.tasks.Worker")
        yield


def _principal_id() -> str | None:
    principal = current_principal.get()
    return principal.id if principal.is_authenticated else None
