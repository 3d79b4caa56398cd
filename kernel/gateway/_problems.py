"""One JSON error shape for every 4xx and 5xx: RFC 9457 problem details.

``{"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "...", "instance":
"/api/x"}``, plus ``errors`` (a list of field problems) on validation failures, served as
``application/problem+json``.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import Send
from pymongo.errors import DuplicateKeyError

from kernel.bus import InvalidSubject

log = logging.getLogger("webos.gateway")
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
    body = problem_document(status, detail, instance=instance, **extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def problem_bytes(status: int, detail: str, *, instance: str | None = None) -> bytes:
    """The problem document as compact JSON, as Litestar encodes it."""
    document = problem_document(status, detail, instance=instance)
    return json.dumps(document, separators=(",", ":")).encode()


def problem_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", b"%d" % len(body))]


async def send_problem(send: Send, status: int, detail: str, instance: str | None = None) -> int:
    """Answer with a problem document straight through ASGI (code that runs outside a handler,
    such as the forwarding middleware); returns ``status``."""
    body = problem_bytes(status, detail, instance=instance)
    headers = problem_headers(body)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status


def _http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code >= 500 and exc.status_code != 503:
        return _unhandled(request, exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException) and exc.extra:
        extra["errors"] = exc.extra
    elif isinstance(exc.extra, dict):
        extra.update(exc.extra)
    response = problem(exc.status_code, exc.detail, instance=request.url.path, **extra)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _unhandled(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The traceback goes to the log, never to the client.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "Internal Server Error: the error was logged", instance=request.url.path)


def _duplicate(request: Request[Any, Any, Any], exc: DuplicateKeyError) -> Response[Any]:
    # Both the real server and the embedded store report the clashing key; name its fields only,
    # never the values (they may be personal data).
    fields = sorted(
        (exc.details or {}).get("keyValue", {}) or (exc.details or {}).get("keyPattern", {})
    )
    detail = "a record with the same " + (", ".join(fields) or "unique key") + " already exists"
    return problem(409, detail, instance=request.url.path, fields=fields)


def _bad_subject(request: Request[Any, Any, Any], exc: InvalidSubject) -> Response[Any]:
    return problem(400, str(exc), instance=request.url.path)


exception_handlers = {
    HTTPException: _http_exception,
    InvalidSubject: _bad_subject,
    DuplicateKeyError: _duplicate,
    Exception: _unhandled,
}

__all__ = [
    "PROBLEM_JSON",
    "exception_handlers",
    "problem",
    "problem_bytes",
    "problem_document",
    "problem_headers",
    "send_problem",
]
