"""JetStream streams the kernel owns for durable events and dead letters.

All durable subjects live in one stream, ``WEBOS_EVENTS``: NATS refuses streams whose subjects
overlap, so per-module streams would clash as soon as two modules consume the same subject.
The stream's subjects are the smallest set of patterns that covers every durable handler's
subject (widened where two overlap without one covering the other); every process adds its own
and keeps the others'.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from kernel.bus._event import REPLAY_PREFIX
from kernel.transport import add_stream, minimal_cover

log = logging.getLogger("webos.bus")

EVENTS_STREAM = "WEBOS_EVENTS"
#: JetStream's announcements of changes to ``EVENTS_STREAM`` (which subjects it keeps).
EVENTS_STREAM_CHANGES = f"$JS.EVENT.ADVISORY.STREAM.*.{EVENTS_STREAM}"
DLQ_STREAM = "WEBOS_DLQ"
DLQ_PREFIX = "webos.dlq"
DUPLICATE_WINDOW = 120.0  # seconds: a re-published event id inside it is stored once


async def ensure_streams(
    js: Any, subjects: Iterable[str], *, max_age: float, replicas: int = 1
) -> list[str]:
    """Create or widen ``WEBOS_EVENTS`` and create ``WEBOS_DLQ``, each with ``replicas`` copies
    (``WEBOS_JETSTREAM_REPLICAS``); return the event subjects."""
    wanted = set(subjects) | {f"{REPLAY_PREFIX}.>"}
    try:
        info = await js.stream_info(EVENTS_STREAM)
        current = list(info.config.subjects or [])
    except NotFoundError:
        info, current = None, []
    cover = minimal_cover([*current, *wanted])
    if info is None:
        await add_stream(
            js,
            StreamConfig(
                name=EVENTS_STREAM,
                subjects=cover,
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                max_age=max_age,
                duplicate_window=DUPLICATE_WINDOW,
                discard=DiscardPolicy.OLD,
            ),
            replicas,
        )
    elif sorted(current) != cover:
        info.config.subjects = cover
        await js.update_stream(info.config)
        log.info("stream %s now captures %s", EVENTS_STREAM, ", ".join(cover))
    try:
        await js.stream_info(DLQ_STREAM)
    except NotFoundError:
        await add_stream(
            js,
            StreamConfig(
                name=DLQ_STREAM,
                subjects=[f"{DLQ_PREFIX}.>"],
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                max_age=30 * 24 * 3600.0,
                duplicate_window=DUPLICATE_WINDOW,
            ),
            replicas,
        )
    return cover
