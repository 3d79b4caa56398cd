"""The gateway's exception handlers: every error a client sees is a problem+json document.

Kernel errors answer with their own ``http_status`` (``kernel.errors``): a 4xx or a 503 says what
went wrong in ``detail``; any other 5xx, and every error the kernel did not raise on purpose, is
logged with its traceback and answers a plain "the error was logged".
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from kernel.errors import WebOSError
from kernel.problems import problem

log = logging.getLogger("webos.gateway")


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


def _kernel_error(request: Request[Any, Any, Any], exc: WebOSError) -> Response[Any]:
    status = exc.http_status
    if status >= 500 and status != 503:
        return _unhandled(request, exc)
    return problem(status, str(exc), instance=request.url.path)


def _too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    # The JSON decoder stops at the interpreter's recursion limit (about 1,000 levels) and says
    # so: that is the client's body, not our bug, so a 400 and no traceback. Any other
    # RecursionError is a bug like any other.
    message = str(exc)
    if "recursion depth exceeded while" not in message or not (
        "deserializ" in message or "decoding" in message
    ):
        return _unhandled(request, exc)
    return problem(400, "the JSON body is nested too deeply", instance=request.url.path)


def _unhandled(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The traceback goes to the log, never to the client.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "Internal Server Error: the error was logged", instance=request.url.path)


exception_handlers: ExceptionHandlersMap = {
    HTTPException: _http_exception,
    WebOSError: _kernel_error,
    RecursionError: _too_deep,
    Exception: _unhandled,
}
