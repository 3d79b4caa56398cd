"""One way for short-lived tools (CLI commands, ``webos ps``) to connect: fail fast, quietly."""

from __future__ import annotations

import logging
from typing import Any

import nats

from kernel.transport._credentials import inbox_prefix_for

log = logging.getLogger("webos.nats")


async def _quiet(error: Exception) -> None:
    # nats-py prints every failed attempt with a traceback by default; one clear error is enough.
    log.debug("NATS: %s", error)


async def connect_once(url: str, name: str) -> Any:
    """Connect without reconnecting; raise ``OSError``-like errors quickly when nobody answers."""
    try:
        return await nats.connect(
            url,
            name=name,
            connect_timeout=3,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            error_cb=_quiet,
            inbox_prefix=inbox_prefix_for(url),  # replies only its own user may read
        )
    except nats.errors.NoServersError as error:
        raise ConnectionError("no NATS server answered") from error
