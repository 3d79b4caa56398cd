"""The deadline of an HTTP request: how long its client waits for the answer to start.

It is ``WEBOS_REQUEST_TIMEOUT`` from the request's arrival, or less when the client sends
``Request-Timeout: SECONDS`` (a bigger one is capped at the setting: the client may shorten the
wait, never lengthen what the gateway spends on it). In a module process, a forwarded request
also keeps the gateway's deadline, restored by the forwarding server before the app sees it.

The deadline bounds the request's service calls and forwarding (``kernel.propagation``) until
its answer starts; a streamed answer (server-sent events, a download) then runs on without it,
for as long as its client reads.

A forwarded request is cancelled at the gateway's deadline if its answer has not started: the
gateway has answered 503 by then, so finishing would hold the module process for nobody. Its
timer and the gateway's end together, so its answer may reach a busy gateway first: it is a 503
marked ``DEADLINE_CUT``, which the gateway turns into its own ("did not answer within"), the
client's answer never depending on which timer fired first. A route
running in the gateway itself is not cancelled: its client is still waiting, and a slow answer
beats none (its calls are refused once the deadline passed).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

from kernel.context import current_deadline
from kernel.forwarding import DEADLINE_CUT
from kernel.problems import send_problem

log = logging.getLogger("webos.gateway")

#: The header a client shortens its deadline with, in seconds.
REQUEST_TIMEOUT_HEADER = b"request-timeout"


def asked_timeout(raw: bytes) -> float | None:
    """Seconds a ``Request-Timeout`` header asks for, None when it is not a number above 0."""
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return seconds if seconds > 0 and math.isfinite(seconds) else None


async def run_until_deadline(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, *, asked: bytes | None, cap: float
) -> None:
    """Run ``app`` for one HTTP request under its deadline (``asked``: the header's value)."""
    timeout = cap
    if asked is not None:
        seconds = asked_timeout(asked)
        if seconds is None:
            detail = (
                "the Request-Timeout header must be seconds, a number above 0: "
                f"got {asked.decode('latin-1')!r}"
            )
            await send_problem(send, 400, detail, scope["path"])
            return
        timeout = min(seconds, cap)
    deadline = time.monotonic() + timeout
    forwarded = current_deadline.get()
    if forwarded is None:
        await _run_in_process(app, scope, receive, send, deadline)
        return
    deadline = min(deadline, forwarded)
    # Only a forwarded request is cut off (see the module's docstring): by a timer the answer's
    # start cancels (what ``asyncio.timeout`` does, without its rescheduling per request).
    task = asyncio.current_task()
    assert task is not None  # every ASGI request runs in a task
    cancelling = task.cancelling()
    expired = False

    def cut_off() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_later(max(0.0, forwarded - time.monotonic()), cut_off)

    async def answering(message: Any) -> None:
        if message["type"] == "http.response.start":
            current_deadline.set(None)
            timer.cancel()
        await send(message)

    token = current_deadline.set(deadline)
    try:
        await app(scope, receive, answering)
    except asyncio.CancelledError:
        if not expired or task.uncancel() > cancelling:  # cancelled from elsewhere too
            raise
        what = f"HTTP {scope.get('method', '')} {scope['path']}"
        log.info("forwarded %s cancelled: the gateway's deadline passed", what)
        detail = f"{what} had not answered by the gateway's deadline"
        await send_problem(send, 503, detail, scope["path"], headers=[(DEADLINE_CUT, b"1")])
    else:
        if expired:  # the app swallowed the cancellation: it is ours, not the task's
            task.uncancel()
    finally:
        timer.cancel()
        current_deadline.reset(token)


async def _run_in_process(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, deadline: float
) -> None:
    """A route served in this process: the deadline bounds its calls, no timer cuts it off."""

    async def answering(message: Any) -> None:
        if message["type"] == "http.response.start":
            current_deadline.set(None)
        await send(message)

    token = current_deadline.set(deadline)
    try:
        await app(scope, receive, answering)
    finally:
        current_deadline.reset(token)
