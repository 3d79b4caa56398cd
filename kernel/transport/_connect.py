"""Reaching NATS the first time: the one way for every command and process role.

A first connection is tried for ``WEBOS_NATS_CONNECT_TIMEOUT`` seconds, attempts a short pause
apart (a server that is starting at the same moment is still met), then fails with
:class:`NatsUnreachable`: one line naming the server, why, and what to do about it. With
``wait`` (``--wait`` on every command, ``WEBOS_NATS_WAIT`` for a deployment) it keeps trying,
says so once, and ends only when it reaches a server or is cancelled (a stop signal).

Only the first connection is bounded: once a long-running process is connected, its own client
reconnects for as long as it runs (``_client.py``). The connection returned here never
reconnects: it is for short-lived tools and for a process's first contact.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import nats

from kernel.config import redact_url
from kernel.errors import WebOSError
from kernel.transport._pull import retry_delay
from kernel.transport._servers import nats_servers

log = logging.getLogger("webos.nats")

#: Default of WEBOS_NATS_CONNECT_TIMEOUT: long enough for a server starting next to us.
CONNECT_TIMEOUT = 3.0
#: The pause after a failed attempt, doubling up to the longest (``retry_delay``).
FIRST_PAUSE = 0.2
LONGEST_PAUSE = 2.0


class NatsUnreachable(WebOSError):
    """No NATS server answered the first connection within the bound."""

    http_status = 503

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        super().__init__(
            f"cannot reach NATS at {address} ({reason}); start it or set WEBOS_NATS_URL; "
            "--wait keeps trying"
        )


def unreachable_reason(error: BaseException) -> str:
    """Why an attempt failed, in the words a user searches for."""
    text = str(error)
    if isinstance(error, ConnectionRefusedError) or "Connect call failed" in text:
        return "connection refused"  # asyncio words it per address; several addresses, one cause
    if isinstance(error, socket.gaierror):
        return f"unknown host: {error.strerror}"
    if isinstance(error, TimeoutError):
        return "no answer"
    if "authorization violation" in text.lower():
        return "authorization violation: wrong user or password in WEBOS_NATS_URL"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return text or type(error).__name__


async def connect_once(
    url: str, name: str, *, timeout: float = CONNECT_TIMEOUT, wait: bool = False
) -> Any:
    """A connection to ``url`` (one server or a comma-separated list, see ``nats_servers``) that
    does not reconnect. Raise :class:`NatsUnreachable` when none answers within ``timeout``
    seconds, unless ``wait``: then keep trying until reached or cancelled. ``InvalidNatsUrl``
    when ``url`` is not a NATS URL."""
    servers = nats_servers(url)
    address = redact_url(url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    failures: list[BaseException] = []

    async def noted(error: Exception) -> None:
        # nats-py prints each failed attempt with a traceback by default; keep them quiet.
        failures.append(error)
        log.debug("NATS: %s", error)

    attempt = 0
    while True:
        attempt += 1
        failures.clear()
        per_attempt = timeout if wait else max(deadline - loop.time(), 0.1)
        try:
            return await nats.connect(
                **servers.connect_options(),  # replies under this user's own inbox prefix
                name=name,
                connect_timeout=per_attempt,
                allow_reconnect=False,
                max_reconnect_attempts=1,
                error_cb=noted,
            )
        except (TimeoutError, OSError, nats.errors.Error) as error:
            # nats-py ends with NoServersError; the attempt's own error says why.
            reason = unreachable_reason(failures[-1] if failures else error)
        pause = retry_delay(attempt, FIRST_PAUSE, LONGEST_PAUSE)
        if not wait:
            left = deadline - loop.time()
            if left <= 0:
                raise NatsUnreachable(address, reason)
            pause = min(pause, left)
        elif attempt == 1:
            log.warning("waiting for NATS at %s (%s); Ctrl+C or SIGTERM stops", address, reason)
        await asyncio.sleep(pause)


async def reach(
    url: str, name: str, *, timeout: float = CONNECT_TIMEOUT, wait: bool = False
) -> None:
    """Return once a NATS server at ``url`` accepts a connection (see :func:`connect_once`): a
    process's first contact, before its long-lived client connects for good."""
    client = await connect_once(url, name, timeout=timeout, wait=wait)
    await client.close()
