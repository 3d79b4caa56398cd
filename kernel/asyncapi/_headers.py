"""The headers WebOS puts on what it sends, as the JSON schemas of an AsyncAPI message.

The names come from their owners (the bus's event metadata, the one propagation seam, the
signed identity), so a renamed header changes the catalog with it.
"""

from __future__ import annotations

from typing import Any

from kernel.auth import IDENTITY_HEADER
from kernel.bus._event import HEADER_EVENT_ID, HEADER_SOURCE, HEADER_TIME
from kernel.propagation import HEADER_CORRELATION, HEADER_DEADLINE, HEADER_TRACEPARENT

_SHARED = {
    HEADER_TRACEPARENT: {
        "type": "string",
        "description": "W3C trace context of the sender's span, when it records a trace",
    },
    HEADER_CORRELATION: {
        "type": "string",
        "description": "one id for everything a piece of work causes, when it has one",
    },
    IDENTITY_HEADER: {
        "type": "string",
        "description": "the principal the work is done for, signed by the gateway (short-lived)",
    },
}

#: Every event a module emits carries the first three; the others when the work has them.
EVENT_HEADERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        HEADER_EVENT_ID: {"type": "string", "description": "unique id of the event"},
        HEADER_SOURCE: {"type": "string", "description": "the module that emitted it"},
        HEADER_TIME: {
            "type": "string",
            "format": "date-time",
            "description": "when it was emitted (ISO 8601, UTC)",
        },
        **_SHARED,
    },
    "required": [HEADER_EVENT_ID, HEADER_SOURCE, HEADER_TIME],
}

#: A service call's request.
CALL_HEADERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        **_SHARED,
        HEADER_DEADLINE: {
            "type": "string",
            "pattern": "^[0-9]+$",
            "description": "milliseconds left of the caller's deadline",
        },
    },
}
