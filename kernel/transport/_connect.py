"""One way for short-lived tools (CLI commands, ``webos ps``) to connect: fail fast, quietly."""

from __future__ import annotations

import logging
from typing import Any

import nats

from kernel.transport._servers import nats_servers

log = logging.getLogger("webos.nats")


async def _quiet(error: Exception) -> None:
    # nats-py prints every failed attempt with a traceback by default; one clear error is enough.
    log.debug("NATS: %s", error)


async def connect_once(url: str, name: str) -> Any:
    """Connect to ``url`` (one server or a comma-separated list, see ``nats_servers``) without
    reconnecting; raise ``ConnectionError`` quickly when no server answers, ``InvalidNatsUrl``
    when ``url`` is not a NATS URL."""
    servers = nats_servers(url)
    try:
        return await nats.connect(
            **servers.connect_options(),  # replies under this user's own inbox prefix
            name=name,
            connect_timeout=3,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            error_cb=_quiet,
        )
    except nats.errors.NoServersError as error:
        raise ConnectionError("no NATS server answered") from error
