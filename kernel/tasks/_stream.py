"""The ``WEBOS_TASKS`` stream, without taskiq: the gateway keeps it (and the status bucket)
ready at start even when it opens its task broker only on first use, so a task a module sends
before then waits in the stream."""

from __future__ import annotations

from typing import Any

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from kernel.transport import add_stream

TASKS_STREAM = "WEBOS_TASKS"
SUBJECT_PREFIX = "webos.tasks"


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


async def ensure_stream(js: Any, max_age: float, replicas: int = 1) -> None:
    """Create ``WEBOS_TASKS`` with ``replicas`` copies unless it exists (the gateway brings an
    existing one to ``WEBOS_JETSTREAM_REPLICAS``: ``kernel.transport.match_replicas``)."""
    try:
        await js.stream_info(TASKS_STREAM)
        return
    except NotFoundError:
        pass
    try:
        await add_stream(js, stream_config(max_age), replicas)
    except BadRequestError as error:
        if error.err_code != 10058:  # created meanwhile by another process
            raise
