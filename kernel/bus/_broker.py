"""FastStream's NATS broker as the bus uses it: built on connect; events sent and core handlers
subscribed through nats-py on the broker's own connection (see :func:`subscribe`).

Kept apart from ``_bus.py`` so that importing the bus (every ``from kernel import bus``) does not
load FastStream and nats-py; they load when a kernel connects.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from faststream.nats.security import NatsToken, NatsUserPassword
from nats.errors import SlowConsumerError

from kernel.transport import (
    ConnectionWatch,
    KernelClient,
    NatsServers,
    check_size,
    header_block,
    max_payload,
    nats_servers,
    publish_block,
)

Consume = Callable[[Any], Awaitable[None]]
_LOGGER = "webos.faststream"


class _NoBrokenConnectionLines(logging.Filter):
    """FastStream logs every connection error with a traceback ("Connection broken with ...");
    the bus's :class:`ConnectionWatch` says each loss once, with the server and the reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Connection broken with")


class KernelBroker(NatsBroker):
    """FastStream's broker on a :class:`KernelClient`, which comes back after the server ends the
    connection with an error instead of staying closed (see ``kernel/transport/_client.py``)."""

    async def _connect(self) -> Any:
        # FastStream's own _connect, with our client instead of nats.connect's.
        connection = KernelClient()
        await connection.connect(**self._connection_kwargs)
        self.config.connect(connection)
        return connection


def _security(servers: NatsServers) -> Any:
    if servers.user is not None:
        return NatsUserPassword(servers.user, servers.password or "")
    if servers.token is not None:
        return NatsToken(servers.token)
    return None


def new_broker(
    url: str,
    *,
    client_name: str,
    event_log: bool,
    on_error: Callable[[Exception], Awaitable[None]],
    watch: ConnectionWatch,
) -> NatsBroker:
    """A broker for ``url`` (one server or a comma-separated list: ``nats_servers``)."""
    servers = nats_servers(url)
    logger = logging.getLogger(_LOGGER)
    if not any(isinstance(f, _NoBrokenConnectionLines) for f in logger.filters):
        logger.addFilter(_NoBrokenConnectionLines())
    return KernelBroker(
        list(servers.urls),
        # Given once rather than in each URL, so that servers the cluster announces get them too.
        security=_security(servers),
        name=client_name,
        apply_types=False,
        logger=logger,
        # FastStream logs every message at this level; keep it below INFO by default.
        log_level=logging.INFO if event_log else logging.DEBUG,
        error_cb=on_error,
        disconnected_cb=watch.disconnected,
        reconnected_cb=watch.reconnected,
        closed_cb=watch.closed,
        connect_timeout=3,
        max_reconnect_attempts=-1,
        # FastStream would wait up to 15 s per subscriber for its handlers on stop; Bus.close
        # waits for them itself, within the process's one WEBOS_SHUTDOWN_TIMEOUT.
        graceful_timeout=None,
        # Replies (service calls, JetStream, forwarding frames) under this user's own prefix:
        # the generated NATS permissions let no other user read them.
        inbox_prefix=servers.inbox_prefix,
    )


async def subscribe(
    connection: Any,
    subject: str,
    queue: str | None,
    consume: Consume,
    *,
    pending_messages: int,
    pending_bytes: int,
) -> Any:
    """Subscribe ``consume`` to core NATS messages on ``subject``; return nats-py's subscription
    (it holds the backlog in this process, within the pending limits).

    Through nats-py on FastStream's own connection rather than a FastStream subscriber: its
    per-message work (a log context, parsing, middlewares, acknowledgement bookkeeping) was
    two thirds of a delivery's cost, for nothing a core event needs: the bus validates the
    payload against the handler's own type, restores the context, traces and counts itself.
    Nothing here replies either: an event handler never answers, so a ``>`` handler does not
    answer the service calls and forwarded requests its pattern covers."""
    return await connection.subscribe(
        subject,
        queue=queue or "",
        cb=consume,
        pending_msgs_limit=pending_messages,
        pending_bytes_limit=pending_bytes,
    )


def is_slow_consumer(error: Exception) -> bool:
    return isinstance(error, SlowConsumerError)


def connection_of(broker: NatsBroker) -> Any:
    return broker.config.connection_state.connection


async def publish(connection: Any, subject: str, body: bytes, headers: dict[str, str]) -> None:
    """Send one event straight through nats-py (FastStream's publish adds a layer per message
    and nothing an event needs: the headers, FastStream's ``correlation_id`` among them, are
    ours). Refuses a message the server would refuse (``PayloadTooLarge``) before sending."""
    block = header_block(headers)
    if block is None:  # a header nats-py writes its own way: let it
        check_size(connection, subject, body, headers)
        await connection.publish(subject, body, headers=headers)
        return
    limit = max_payload(connection)
    if limit is not None and len(body) + len(block) > limit:
        check_size(connection, subject, body, headers)  # raises, with the usual message
    await publish_block(connection, subject, body, block)
