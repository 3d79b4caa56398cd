"""``webos run --reload``: each reloaded worker's app, which explains a module that does not load.

uvicorn's reloader keeps the listening socket in its own process and runs the app in a worker it
restarts when a file changes. A worker whose app fails to build, or whose kernel fails to start,
exits, and requests then wait on the socket unanswered until the next change. Here a worker
stays up instead, answering every request 503 with the error (the module's file and line
included, see ``kernel.modules.module_frames``) until the fix brings a new worker.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar.types import ASGIApp

from kernel.assembly._gateway import gateway_kernel
from kernel.errors import WebOSError
from kernel.gateway import create_app
from kernel.logs import configure_logging
from kernel.problems import send_problem
from kernel.settings import load_settings

log = logging.getLogger("webos.run")

# Any below: these apps see lifespan, HTTP and websocket messages, which no one ASGI type covers.


def app_from_environment() -> Any:
    """uvicorn factory for ``--reload``: every reloaded worker builds its app from settings."""
    settings = load_settings()
    configure_logging(settings)
    try:
        return ExplainFailures(create_app(gateway_kernel(settings)))
    except WebOSError as error:
        return NotLoaded(_explained(error))


def _explained(error: BaseException) -> str:
    # Litestar runs the lifespan in a task group: the kernel's error arrives inside a group.
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    log.error("%s\nthe gateway reloads when the file changes", error)
    return str(error)


class NotLoaded:
    """503 problem+json for every request; the lifespan completes so that the worker stays."""

    def __init__(self, detail: str) -> None:
        self.detail = detail

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()  # startup
            await self.stay(receive, send)
        elif scope["type"] == "http":
            await send_problem(send, 503, self.detail, scope.get("path"))
        else:  # a websocket: refused before it is accepted
            await send({"type": "websocket.close", "code": 1013})

    @staticmethod
    async def stay(receive: Any, send: Any) -> None:
        """Report start-up done, then wait for the shutdown (the startup message was read)."""
        await send({"type": "lifespan.startup.complete"})
        while (await receive())["type"] != "lifespan.shutdown":
            pass  # nothing else arrives on a lifespan scope; wait for the one that ends it
        await send({"type": "lifespan.shutdown.complete"})


class ExplainFailures:
    """The gateway's app, turned into :class:`NotLoaded` if its kernel fails to start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.failed: NotLoaded | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.failed is not None:
            await self.failed(scope, receive, send)
            return
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)  # type: ignore[arg-type]
            return
        start_failed = False

        async def passing(message: dict[str, Any]) -> None:
            nonlocal start_failed
            if message["type"] == "lifespan.startup.failed":
                start_failed = True  # its message is a traceback; the error is re-raised below
                return
            await send(message)

        try:
            await self.app(scope, receive, passing)  # type: ignore[arg-type]
        except Exception as error:
            if not start_failed:
                raise
            self.failed = NotLoaded(_explained(error))
            await self.failed.stay(receive, send)
