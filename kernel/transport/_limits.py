"""The server's size limit, checked before sending: one message too large ends a connection.

nats-py compares only the body with the server's ``max_payload``; the server counts headers too
and closes the connection of a client that sends more. So every kernel publish is measured
here, body and headers, and refused with a clear error instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kernel.errors import WebOSError

#: ``NATS/1.0\r\n`` before the headers and ``\r\n`` after them, as nats-py writes them.
_HEADER_FRAME = len(b"NATS/1.0\r\n") + len(b"\r\n")


class PayloadTooLarge(WebOSError, ValueError):
    """A message (body and headers) is larger than the NATS server accepts."""

    http_status = 413


def header_size(headers: Mapping[str, str] | None) -> int:
    """Bytes ``headers`` take on the wire (``key: value\\r\\n`` each, in a frame)."""
    if headers is None:
        return 0  # nats-py sends a plain PUB, no header frame
    lines = sum(len(key.encode()) + len(value.encode()) + 4 for key, value in headers.items())
    return _HEADER_FRAME + lines


def max_payload(connection: Any) -> int | None:
    """The connected server's limit, or None before the first connection."""
    limit = getattr(connection, "max_payload", None)
    return limit if isinstance(limit, int) and limit > 0 else None


def check_size(
    connection: Any, subject: str, payload: bytes, headers: Mapping[str, str] | None
) -> None:
    """Raise ``PayloadTooLarge`` when the server would refuse this message."""
    limit = max_payload(connection)
    if limit is None:
        return
    size = len(payload) + header_size(headers)
    if size > limit:
        raise PayloadTooLarge(
            f"a message on {subject!r} is {size:,} bytes with its headers; the NATS server "
            f"accepts at most {limit:,} (its max_payload)"
        )
