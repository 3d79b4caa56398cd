"""Task status and results in NATS KV, as JSON.

One key per task in the ``WEBOS_TASK_STATUS`` bucket holds its whole record once the task has
run: state, progress, attempts, result or error. Until then the task's message in the tasks
stream stands in for it (``pending``, given by the broker), which keeps sending to one write.
KV reads and writes are single JetStream API calls (direct get and publish); unlike taskiq-nats's
object-store backend they create no consumer, so nothing piles up on the server however many
results are read. Entries expire ``WEBOS_TASKS_RESULT_TTL`` seconds
after their last write.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pydantic_core
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (
    BadRequestError,
    BucketNotFoundError,
    KeyNotFoundError,
    NotFoundError,
)
from pydantic import BaseModel, Field

from kernel.errors import WebOSError
from kernel.transport import AckedPublisher, add_bucket

STATUS_BUCKET = "WEBOS_TASK_STATUS"
LATEST_WALK_FACTOR = 4
"""``latest(n)`` reads at most this many stream positions per record asked for."""
READ_AHEAD = 25
"""Stream positions read at once: one round trip's latency for this many reads, while a walk
that stops early reads at most this many more than it needed."""
_TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class TaskState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class TaskStatus(BaseModel):
    """What ``GET /api/system/tasks/{id}`` answers."""

    id: str
    task: str
    state: TaskState
    progress: float | None = None
    message: str | None = None
    result: Any = None
    error: str | None = None
    attempts: int = 0
    max_attempts: int | None = None
    correlation_id: str | None = None
    traceparent: str | None = None
    principal: str | None = Field(None, description="Id of the principal the task runs for.")
    worker: str | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    next_attempt_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.state in (TaskState.SUCCEEDED, TaskState.FAILED)


def now() -> datetime:
    return datetime.now(UTC)


def valid_task_id(task_id: str) -> bool:
    return bool(_TASK_ID.match(task_id))


async def open_bucket(js: Any, bucket: str, *, ttl: float | None = None, replicas: int = 1) -> Any:
    """The KV bucket, created on first use with ``replicas`` copies (two processes racing both
    end up with it)."""
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        pass
    config = KeyValueConfig(bucket=bucket, history=1, ttl=ttl, storage=StorageType.FILE)
    try:
        return await add_bucket(js, config, replicas)
    except BadRequestError:
        return await js.key_value(bucket)


PendingLookup = Callable[[str], Awaitable[TaskStatus | None]]


class StatusStore:
    """Task records in NATS KV, written by the worker; ``pending`` finds queued tasks."""

    def __init__(
        self,
        js: Any,
        kv: Any,
        publisher: AckedPublisher,
        *,
        pending: PendingLookup | None = None,
    ) -> None:
        self.js = js
        self.kv = kv
        self.publisher = publisher
        self.pending = pending

    @classmethod
    async def open(
        cls,
        js: Any,
        publisher: AckedPublisher,
        *,
        ttl: float,
        pending: PendingLookup | None = None,
        replicas: int = 1,
    ) -> StatusStore:
        kv = await open_bucket(js, STATUS_BUCKET, ttl=ttl, replicas=replicas)
        return cls(js, kv, publisher, pending=pending)

    async def latest(self, limit: int) -> list[TaskStatus]:
        """The ``limit`` records written last, newest first."""
        return await self._walk(limit, limit * LATEST_WALK_FACTOR)

    async def latest_of(self, principal: str, limit: int, *, scan: int) -> list[TaskStatus]:
        """The ``limit`` records of ``principal`` among the ``scan`` written last, newest first.

        A record names its principal from the identity the worker verified, so a caller cannot
        list someone else's tasks by claiming their id.
        """
        return await self._walk(limit, scan, lambda status: status.principal == principal)

    async def _walk(
        self, limit: int, budget: int, keep: Callable[[TaskStatus], bool] | None = None
    ) -> list[TaskStatus]:
        """Read backwards from the bucket's stream, one message each (``READ_AHEAD`` at a time),
        so the cost follows ``budget`` and not the number of records kept (a week of them by
        default); listing every key would read them all."""
        stream = f"KV_{STATUS_BUCKET}"
        state = (await self.js.stream_info(stream)).state
        found: dict[str, TaskStatus] = {}
        seen: set[str] = set()
        # A record's older revisions leave holes (history is 1): the budget bounds the walk.
        last, first = state.last_seq, max(state.first_seq, 1, state.last_seq - budget + 1)
        for top in range(last, first - 1, -READ_AHEAD):
            sequences = range(top, max(top - READ_AHEAD, first - 1), -1)
            messages = await asyncio.gather(*(self._message(stream, n) for n in sequences))
            for message in messages:
                if message is None or len(found) >= limit:
                    continue
                key = message.subject.removeprefix(f"$KV.{STATUS_BUCKET}.")
                if not message.data or key in seen:  # an empty one marks a deleted key
                    continue
                seen.add(key)
                status = TaskStatus.model_validate_json(message.data)
                if keep is None or keep(status):
                    found[key] = status
            if len(found) >= limit:
                break
        return list(found.values())

    async def _message(self, stream: str, sequence: int) -> Any:
        try:
            return await self.js.get_msg(stream, seq=sequence)
        except NotFoundError:
            return None

    async def recorded(self, task_id: str) -> TaskStatus | None:
        """The KV record alone (a task that has not run yet has none)."""
        if not valid_task_id(task_id):
            return None
        try:
            entry = await self.kv.get(task_id)
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        return TaskStatus.model_validate_json(entry.value)

    async def get(self, task_id: str) -> TaskStatus | None:
        status = await self.recorded(task_id)
        if status is not None or self.pending is None or not valid_task_id(task_id):
            return status
        queued = await self.pending(task_id)
        # Between the two reads a worker may have run it, recorded it and taken it off the
        # stream: then the record exists now.
        return queued if queued is not None else await self.recorded(task_id)

    async def put(self, status: TaskStatus) -> None:
        # The KV put, through the shared publisher (see kernel.tasks._publish).
        await self.publisher.publish(f"$KV.{STATUS_BUCKET}.{status.id}", _dump(status))

    async def update(self, task_id: str, **changes: Any) -> TaskStatus | None:
        status = await self.get(task_id)
        if status is None:
            return None
        status = status.model_copy(update=changes)
        await self.put(status)
        return status


def _dump(status: TaskStatus) -> bytes:
    return status.model_dump_json(exclude_none=True).encode()


def to_json_value(value: Any) -> Any:
    """``value`` as plain JSON data (pydantic models and dataclasses included), or TypeError."""
    try:
        return pydantic_core.from_json(pydantic_core.to_json(value))
    except pydantic_core.PydanticSerializationError as error:
        raise TypeError(f"the task's result is not JSON-serialisable: {error}") from None


class TaskError(WebOSError):
    """The error a failed task recorded (its type and message, as text)."""


async def wait_for_status(
    store: StatusStore, task_id: str, *, done: bool = True, timeout: float = 30.0
) -> TaskStatus:
    """Poll until the task finished (or just exists, with ``done=False``); a failure bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        status = await store.get(task_id)
        if status is not None and (status.done or not done):
            return status
        if loop.time() > deadline:
            raise TimeoutError(f"task {task_id} not finished within {timeout}s: {status}")
        await asyncio.sleep(0.05)
