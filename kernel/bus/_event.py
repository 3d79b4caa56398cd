"""What travels with an event besides its payload: NATS headers that plain subscribers ignore."""

from __future__ import annotations

import json
from collections.abc import Mapping
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
    def from_message(cls, subject: str, data: bytes, headers: Mapping[str, str] | None) -> Event:
        headers = headers or {}
        # A replayed dead letter travels on a replay subject but is the original event.
        subject = headers.get("webos-original-subject", subject)
        return cls(
            id=headers.get(HEADER_EVENT_ID) or headers.get(HEADER_MSG_ID) or "",
            subject=subject,
            source=headers.get(HEADER_SOURCE),
            time=headers.get(HEADER_TIME),
            data=data,
            headers=headers,
        )
