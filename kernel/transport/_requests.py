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
    asking = asyncio.ensure_future(
        connection.request(subject, payload, timeout=timeout, headers=headers)
    )
    try:
        await asyncio.wait((asking, gone), return_when=asyncio.FIRST_COMPLETED)
    finally:
        answered = asking.done()
        if not answered:
            asking.cancel()  # nats-py forgets the reply it waited for
    if not answered:
        raise NoRespondersError
    return asking.result()
