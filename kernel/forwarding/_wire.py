"""What a forwarded HTTP request looks like on NATS: the format both sides share (the gateway's
client side in ``_client.py``, the module process's server side in ``_server.py``).

The request goes to ``webos.http.<module>`` as a NATS request, as text much like HTTP/1.1::

    POST /api/files/local/a.txt?x=1 whole        <- method, target, "whole" or "chunked"
    content-type: text/plain
    (more headers)
                                                  <- empty line
    <body>                                        <- the whole body ("whole" only)

The one reply is either the whole answer, ``200 whole`` then headers, an empty line and the body
(when all of it fits one message), or ``open <inbox>``: the rest of the exchange goes through
that module inbox in *frames*. Then the gateway uploads a ``chunked`` request body, pulls the
answer head and body, and checks that the module is alive. Every frame the gateway sends that
wants an answer carries a fresh reply subject, and the module answers each exactly once, which is
all the NATS rights of a module process allow (``allow_responses``; ``kernel.deploy``). The first
byte of a frame says what it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kernel.errors import WebOSError

HTTP_SUBJECT = "webos.http.{module}"
# Room for the request line, headers and NATS's own framing inside one message.
HEADROOM = 16 * 1024
# Body pieces of a chunked exchange: big enough for throughput, small enough that the few a
# stream may have in flight (WINDOW each way) keep memory bounded.
MAX_CHUNK = 256 * 1024
# Frames in flight per direction: request body pieces not yet taken by the module's app, or
# pulls the module has not answered yet.
WINDOW = 2
# Both ends of an open stream hear from each other at least this often (seconds) ...
PING_EVERY = 1.0
# ... and give the other up after this long without a word.
GONE_AFTER = 5.0

# Frames, gateway -> module inbox (all but CANCEL expect one answer):
PULL = b"p"  # answer with the next frame of the response (HEAD, DATA, END or ABORT)
DATA = b"d"  # + a piece of body (both directions); the module answers ACK once its app took it
END = b"e"  # the body is complete (both directions); the module answers ACK
PING = b"h"  # answered with PING
CANCEL = b"c"  # the HTTP client went away
# Frames, module -> gateway (each an answer to one of the above):
HEAD = b"a"  # + "<status> chunked" and headers: the response starts, its body follows as DATA
ABORT = b"x"  # + a reason: the module gave up mid-response
ACK = b"k"

WHOLE = b"whole"
CHUNKED = b"chunked"
_OPEN = b"open "
_CRLF = b"\r\n"
_BLANK = b"\r\n\r\n"
#: Header of the 503 a module process answers when the gateway's deadline cut its request off
#: (``kernel/gateway/_deadline.py``). Its timer and the gateway's end together; when its answer
#: wins, the gateway answers what it would have said had its own wait ended first.
DEADLINE_CUT = b"webos-deadline-cut"

# Hop-by-hop headers stay with the connection they came on.
HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"upgrade"})

Headers = list[tuple[bytes, bytes]]


class WireError(WebOSError, ValueError):
    """A message that is not a forwarded request or answer."""

    http_status = 502


@dataclass(slots=True)
class WireRequest:
    method: str
    target: bytes
    whole: bool
    headers: Headers
    body: bytes


@dataclass(slots=True)
class WireAnswer:
    status: int
    headers: Headers
    body: bytes
    #: Set when the module opened a stream: the rest comes in frames through this inbox.
    inbox: str | None = None


def chunk_size(max_payload: int) -> int:
    """Body bytes per frame: a frame (its kind's byte, then the piece) always fits one message,
    however small the server's ``max_payload``."""
    return min(MAX_CHUNK, max(max_payload - HEADROOM, (max_payload - 1) // 2))


def encode_request(
    method: str,
    target: bytes,
    headers: Iterable[tuple[bytes, bytes]],
    body: bytes,
    *,
    whole: bool,
    context: Mapping[str, str] | None = None,
    dropped: frozenset[bytes] = HOP_BY_HOP,
) -> bytes:
    """The request as one message. ``context`` is what the gateway adds (trace, identity: the
    propagation seam's headers); ``dropped`` names client headers never passed on, which must
    include every header of ``context`` so a client cannot set them."""
    lines = [b"%s %s %s" % (method.encode("latin-1"), target, WHOLE if whole else CHUNKED)]
    lines += [key + b": " + value for key, value in headers if key not in dropped]
    for key, value in (context or {}).items():
        lines.append(key.encode("latin-1") + b": " + value.encode("latin-1"))
    return _CRLF.join(lines) + _BLANK + body


def decode_request(payload: bytes) -> WireRequest:
    head, blank, body = payload.partition(_BLANK)
    lines = head.split(_CRLF)
    try:
        method, rest = lines[0].split(b" ", 1)
        target, mode = rest.rsplit(b" ", 1)
    except ValueError:
        raise WireError(f"not a forwarded request: {lines[0][:80]!r}") from None
    if not blank or mode not in (WHOLE, CHUNKED):
        raise WireError(f"not a forwarded request: {lines[0][:80]!r}")
    return WireRequest(method.decode("latin-1"), target, mode == WHOLE, _headers(lines), body)


def encode_answer(
    status: int,
    headers: Headers,
    body: bytes = b"",
    *,
    whole: bool = True,
    dropped: frozenset[bytes] = HOP_BY_HOP,
) -> bytes:
    lines = [b"%d %s" % (status, WHOLE if whole else CHUNKED)]
    for key, value in headers:
        if key in dropped:
            continue
        if b"\n" in value or b"\r" in value:
            raise WireError(f"response header {key!r} contains a line break")
        lines.append(key + b": " + value)
    return _CRLF.join(lines) + _BLANK + body


def encode_open(inbox: str) -> bytes:
    return _OPEN + inbox.encode("ascii")


def decode_answer(payload: bytes) -> WireAnswer:
    if payload.startswith(_OPEN):
        return WireAnswer(0, [], b"", inbox=payload[len(_OPEN) :].decode("ascii"))
    head, blank, body = payload.partition(_BLANK)
    lines = head.split(_CRLF)
    try:
        status = int(lines[0].split(b" ", 1)[0])
    except ValueError:
        raise WireError(f"not a forwarded answer: {lines[0][:80]!r}") from None
    if not blank:
        raise WireError(f"not a forwarded answer: {lines[0][:80]!r}")
    return WireAnswer(status, _headers(lines), body)


def _headers(lines: list[bytes]) -> Headers:
    headers = []
    for line in lines[1:]:
        key, sep, value = line.partition(b": ")
        if not sep:
            raise WireError(f"bad header line {line[:80]!r}")
        headers.append((key, value))
    return headers


def header_text(headers: Headers, names: frozenset[bytes]) -> dict[str, str]:
    """The headers among ``names`` (lower case) as text, for the propagation seam."""
    return {
        key.decode("latin-1"): value.decode("latin-1") for key, value in headers if key in names
    }
