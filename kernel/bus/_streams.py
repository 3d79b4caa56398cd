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

log = logging.getLogger("webos.bus")

EVENTS_STREAM = "WEBOS_EVENTS"
DLQ_STREAM = "WEBOS_DLQ"
DLQ_PREFIX = "webos.dlq"
REPLAY_PREFIX = "webos.replay"
DUPLICATE_WINDOW = 120.0  # seconds: a re-published event id inside it is stored once


def covers(pattern: str, subject: str) -> bool:
    """Whether every subject matched by ``subject`` is matched by ``pattern``."""
    wanted, given = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(given) > index
        if index >= len(given) or given[index] == ">":
            return False
        if token != "*" and token != given[index]:
            return False
        if token == "*" and given[index] == ">":
            return False
    return len(given) == len(wanted)


def overlap(a: str, b: str) -> bool:
    left, right = a.split("."), b.split(".")
    for index in range(max(len(left), len(right))):
        x = left[index] if index < len(left) else None
        y = right[index] if index < len(right) else None
        if x == ">" or y == ">":
            return x is not None and y is not None
        if x is None or y is None:
            return False
        if x != y and "*" not in (x, y):
            return False
    return True


def _join(a: str, b: str) -> str:
    left, right = a.split("."), b.split(".")
    if len(left) == len(right) and ">" not in left + right:
        return ".".join(x if x == y else "*" for x, y in zip(left, right, strict=True))
    prefix = []
    for x, y in zip(left, right, strict=False):
        if ">" in (x, y):
            break
        prefix.append(x if x == y else "*")
    prefix = prefix[: max(min(len(left), len(right)) - 1, 0)] if prefix else prefix
    return ".".join([*prefix, ">"]) if prefix else ">"


def minimal_cover(subjects: Iterable[str]) -> list[str]:
    """Patterns covering all ``subjects`` with no two overlapping (as NATS requires)."""
    patterns: list[str] = []
    for subject in sorted(set(subjects)):
        merged = subject
        changed = True
        while changed:
            changed = False
            for existing in list(patterns):
                if covers(existing, merged):
                    merged = existing
                    patterns.remove(existing)
                    changed = True
                elif covers(merged, existing):
                    patterns.remove(existing)
                    changed = True
                elif overlap(existing, merged):
                    patterns.remove(existing)
                    merged = _join(existing, merged)
                    changed = True
        patterns.append(merged)
    return sorted(set(patterns))


async def ensure_streams(js: Any, subjects: Iterable[str], *, max_age: float) -> list[str]:
    """Create or widen ``WEBOS_EVENTS`` and create ``WEBOS_DLQ``; return the event subjects."""
    wanted = set(subjects) | {f"{REPLAY_PREFIX}.>"}
    try:
        info = await js.stream_info(EVENTS_STREAM)
        current = list(info.config.subjects or [])
    except NotFoundError:
        info, current = None, []
    cover = minimal_cover([*current, *wanted])
    if info is None:
        await js.add_stream(
            StreamConfig(
                name=EVENTS_STREAM,
                subjects=cover,
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                max_age=max_age,
                duplicate_window=DUPLICATE_WINDOW,
                discard=DiscardPolicy.OLD,
            )
        )
    elif sorted(current) != cover:
        info.config.subjects = cover
        await js.update_stream(info.config)
        log.info("stream %s now captures %s", EVENTS_STREAM, ", ".join(cover))
    try:
        await js.stream_info(DLQ_STREAM)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=DLQ_STREAM,
                subjects=[f"{DLQ_PREFIX}.>"],
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                max_age=30 * 24 * 3600.0,
                duplicate_window=DUPLICATE_WINDOW,
            )
        )
    return cover
