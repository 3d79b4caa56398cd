"""A request that gives up as soon as nobody is left to answer it.

NATS answers "no responders" (nats-py: ``NoRespondersError``) only when no subscription at all
took the request. A wildcard subscription (a module's ``@on(">")`` handler, ``nats sub '>'``, a
``webos events tail``) also takes it, so for a module process that died the caller would wait out
the whole ``WEBOS_REQUEST_TIMEOUT``. The node table knows better: ``gone`` is done once no live
node runs the module (``kernel.contracts.Instances``), and the request ends then, with the same
``NoRespondersError``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nats.errors import NoRespondersError


async def request_unless_gone(
    connection: Any,
    subject: str,
    payload: bytes,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    gone: asyncio.Future[None] | None = None,
) -> Any:
    """``connection.request(...)``, or ``NoRespondersError`` once ``gone`` is done."""
    if gone is None:
        return await connection.request(subject, payload, timeout=timeout, headers=headers)
    if gone.done():
        raise NoRespondersError
    # On the path of every forwarded request and service call: a callback on ``gone`` that
    # cancels this task (as asyncio.timeout does) rather than a second task raced against it.
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("request_unless_gone must run in a task")
    waiting = True
    cut = False

    def cut_off(_: asyncio.Future[None]) -> None:
        nonlocal cut
        if waiting:  # a callback queued before the answer came must not cancel what follows
            cut = True
            task.cancel()

    gone.add_done_callback(cut_off)
    try:
        return await connection.request(subject, payload, timeout=timeout, headers=headers)
    except asyncio.CancelledError:
        if cut and task.uncancel() == 0:  # ours alone: a cancel from elsewhere goes on
            raise NoRespondersError from None
        raise
    finally:
        waiting = False
        gone.remove_done_callback(cut_off)
