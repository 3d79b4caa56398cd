"""One JSON error shape for every 4xx and 5xx: RFC 9457 problem details.

``{"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "...", "instance":
"/api/x"}``, plus ``errors`` (a list of field problems) on validation failures, served as
``application/problem+json``. Route handlers answer with :func:`problem`; code that runs outside a
handler (middleware, the forwarding relay, a module process answering over NATS) writes the same
document straight through ASGI with :func:`send_problem` or as bytes with :func:`problem_bytes`.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from litestar import Response

if TYPE_CHECKING:
    from litestar.types import Send

PROBLEM_JSON = "application/problem+json"


def problem_document(
    status: int, detail: str, *, instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem(
    status: int, detail: str, *, instance: str | None = None, **extra: Any
) -> Response[Any]:
    """A Litestar response carrying the problem document."""
    body = problem_document(status, detail, instance=instance, **extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def problem_bytes(status: int, detail: str, *, instance: str | None = None) -> bytes:
    """The problem document as compact JSON, as Litestar encodes it."""
    document = problem_document(status, detail, instance=instance)
    return json.dumps(document, separators=(",", ":")).encode()


def problem_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", b"%d" % len(body))]


async def send_problem(
    send: Send,
    status: int,
    detail: str,
    instance: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> int:
    """Answer with a problem document straight through ASGI (with ``headers`` besides its
    own); returns ``status``."""
    body = problem_bytes(status, detail, instance=instance)
    head = problem_headers(body)
    if headers:
        head += headers
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body, "more_body": False})
    return status


__all__ = [
    "PROBLEM_JSON",
    "problem",
    "problem_bytes",
    "problem_document",
    "problem_headers",
    "send_problem",
]
