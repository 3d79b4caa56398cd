"""What travels with an event besides its payload: NATS headers that plain subscribers ignore."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

HEADER_EVENT_ID = "webos-event-id"
HEADER_SOURCE = "webos-source"
HEADER_TIME = "webos-time"
HEADER_TRACEPARENT = "traceparent"
HEADER_CONTENT_TYPE = "content-type"
# JetStream deduplicates re-publishes by this header; plain subscribers never see a difference.
HEADER_MSG_ID = "Nats-Msg-Id"
JSON_CONTENT_TYPE = "application/json"
#: A replayed dead letter travels on ``webos.replay.<consumer>`` with its original subject here.
HEADER_ORIGINAL_SUBJECT = "webos-original-subject"
REPLAY_PREFIX = "webos.replay"


@dataclass(frozen=True, slots=True)
class Event:
    """An event as a handler sees it. Declare a parameter of this type to receive it."""

    id: str
    subject: str
    source: str | None
    time: str | None
    data: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    #: When JetStream stored it (durable handlers only): the server's clock, not the sender's,
    #: so a redelivery hours later is judged by when the event was published.
    stored_at: datetime | None = None

    @property
    def traceparent(self) -> str | None:
        return self.headers.get(HEADER_TRACEPARENT)

    def json(self) -> Any:
        return json.loads(self.data)

    @classmethod
    def from_message(
        cls,
        subject: str,
        data: bytes,
        headers: Mapping[str, str] | None,
        source: Callable[[str | None, str], str | None] | None = None,
    ) -> Event:
        """The event a message carries. Only a replay (published by a kernel process on a
        replay subject, which module processes may not publish) names another subject as its
        original. ``source`` judges the claimed ``webos-source`` for the subject."""
        headers = headers or {}
        if subject.startswith(REPLAY_PREFIX):
            subject = headers.get(HEADER_ORIGINAL_SUBJECT, subject)
        claimed = headers.get(HEADER_SOURCE)
        return cls(
            id=headers.get(HEADER_EVENT_ID) or headers.get(HEADER_MSG_ID) or "",
            subject=subject,
            source=claimed if source is None else source(claimed, subject),
            time=headers.get(HEADER_TIME),
            data=data,
            headers=headers,
        )
