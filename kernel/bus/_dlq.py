"""The dead letters: events a durable handler gave up on, kept with why, until replayed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nats.js.errors import NotFoundError

from kernel.bus._durable import (
    HEADER_DLQ_CONSUMER,
    HEADER_DLQ_DELIVERIES,
    HEADER_DLQ_ERROR,
    HEADER_DLQ_HANDLER,
    HEADER_DLQ_MODULE,
    HEADER_DLQ_STORED_AT,
    HEADER_DLQ_TIME,
    HEADER_ORIGINAL_SUBJECT,
    replay_subject,
)
from kernel.bus._event import HEADER_EVENT_ID, HEADER_MSG_ID
from kernel.bus._streams import DLQ_STREAM, EVENTS_STREAM
from kernel.errors import WebOSError


@dataclass(frozen=True)
class DeadLetter:
    id: int
    event_id: str
    subject: str
    module: str
    handler: str
    consumer: str
    deliveries: int
    error: str
    time: str
    data: bytes
    headers: dict[str, str]

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "subject": self.subject,
            "module": self.module,
            "handler": self.handler,
            "deliveries": self.deliveries,
            "error": self.error,
            "time": self.time,
        }

    def payload(self) -> Any:
        try:
            return json.loads(self.data)
        except ValueError:
            return self.data.decode("utf-8", errors="replace")


class DeadLetterNotFound(WebOSError, LookupError):
    """No dead letter has that id (never stored, replayed, or expired)."""

    http_status = 404


def _letter(seq: int, data: bytes, headers: dict[str, str]) -> DeadLetter:
    return DeadLetter(
        id=seq,
        event_id=headers.get(HEADER_EVENT_ID, ""),
        subject=headers.get(HEADER_ORIGINAL_SUBJECT, ""),
        module=headers.get(HEADER_DLQ_MODULE, ""),
        handler=headers.get(HEADER_DLQ_HANDLER, ""),
        consumer=headers.get(HEADER_DLQ_CONSUMER, ""),
        deliveries=int(headers.get(HEADER_DLQ_DELIVERIES, "0") or 0),
        error=headers.get(HEADER_DLQ_ERROR, ""),
        time=headers.get(HEADER_DLQ_TIME, ""),
        data=data,
        headers=headers,
    )


async def get_dead_letter(js: Any, letter_id: int) -> DeadLetter:
    try:
        raw = await js.get_msg(DLQ_STREAM, seq=letter_id)
    except NotFoundError:
        raise DeadLetterNotFound(f"no dead letter {letter_id}") from None
    return _letter(letter_id, raw.data or b"", dict(raw.headers or {}))


async def list_dead_letters(js: Any, *, limit: int = 100) -> list[DeadLetter]:
    """Oldest first; deleted (replayed) letters are skipped."""
    try:
        state = (await js.stream_info(DLQ_STREAM)).state
    except NotFoundError:
        return []
    letters: list[DeadLetter] = []
    if not state.messages:
        return letters
    for seq in range(max(state.first_seq, 1), state.last_seq + 1):
        if len(letters) >= limit:
            break
        try:
            letters.append(await get_dead_letter(js, seq))
        except DeadLetterNotFound:
            continue
    return letters


Reattest = Callable[[dict[str, str], datetime | None], dict[str, str]]


async def replay_dead_letter(
    js: Any, letter_id: int, *, reattest: Reattest | None = None
) -> DeadLetter:
    """Deliver the event again to the handler that gave up on it (only that one), then forget it.

    The event keeps its id, so idempotent handlers can recognise it; the JetStream message id
    is new, or the stream's duplicate window would swallow the replay. ``reattest`` (given by a
    process that can sign identities) re-signs the original caller's identity, judged at the time
    the event was first stored, so a replay days later still runs as that caller.
    """
    letter = await get_dead_letter(js, letter_id)
    headers = {
        key: value for key, value in letter.headers.items() if not key.startswith("webos-dlq-")
    }
    if reattest is not None:
        stored = letter.headers.get(HEADER_DLQ_STORED_AT)
        headers = reattest(headers, datetime.fromisoformat(stored) if stored else None)
    headers[HEADER_ORIGINAL_SUBJECT] = letter.subject
    headers[HEADER_MSG_ID] = f"replay-{letter_id}-{uuid.uuid4().hex}"
    await js.publish(
        replay_subject(letter.consumer), letter.data, headers=headers, stream=EVENTS_STREAM
    )
    await js.delete_msg(DLQ_STREAM, letter_id)
    return letter
