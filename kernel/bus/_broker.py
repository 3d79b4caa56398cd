"""FastStream's NATS broker as the bus uses it: built on connect, one subscriber per handler.

Kept apart from ``_bus.py`` so that importing the bus (every ``from kernel import bus``) does not
load FastStream and nats-py; they load when a kernel connects.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.nats import NatsBroker
from nats.errors import SlowConsumerError

from kernel.transport import inbox_prefix_for

Consume = Callable[[Any], Awaitable[None]]


def new_broker(
    url: str,
    *,
    client_name: str,
    event_log: bool,
    on_error: Callable[[Exception], Awaitable[None]],
) -> NatsBroker:
    return NatsBroker(
        url,
        name=client_name,
        apply_types=False,
        logger=logging.getLogger("webos.faststream"),
        # FastStream logs every message at this level; keep it below INFO by default.
        log_level=logging.INFO if event_log else logging.DEBUG,
        error_cb=on_error,
        connect_timeout=3,
        max_reconnect_attempts=-1,
        # FastStream would wait up to 15 s per subscriber for its handlers on stop; Bus.close
        # waits for them itself, within the process's one WEBOS_SHUTDOWN_TIMEOUT.
        graceful_timeout=None,
        # Replies (service calls, JetStream, forwarding frames) under this user's own prefix:
        # the generated NATS permissions let no other user read them.
        inbox_prefix=inbox_prefix_for(url),
    )


async def _keep_message(message: Any) -> Any:
    # Hand the message itself to our consumer: validation happens once, against the handler's
    # own parameter type, instead of FastStream decoding JSON and then pydantic validating it.
    return message


def subscribe(
    broker: NatsBroker,
    subject: str,
    queue: str | None,
    consume: Consume,
    *,
    pending_messages: int,
    pending_bytes: int,
) -> Any:
    """Subscribe ``consume``; return FastStream's subscriber (its ``subscription``, once
    started, is nats-py's, with the backlog held in this process)."""
    # Core NATS messages have nothing to acknowledge (FastStream marks them acked on arrival)
    # and the consumer catches every handler error itself; MANUAL only drops FastStream's
    # per-message acknowledgement middleware, a measurable share of delivery cost.
    # no_reply: an event handler never answers. Without it FastStream replies (empty) to
    # any message that has a reply subject, so a `>` handler would answer service calls
    # and forwarded HTTP requests meant for other processes.
    subscriber = broker.subscriber(
        subject,
        queue=queue or "",
        ack_policy=AckPolicy.MANUAL,
        no_reply=True,
        pending_msgs_limit=pending_messages,
        pending_bytes_limit=pending_bytes,
    )
    subscriber(consume, decoder=_keep_message)
    return subscriber


def is_slow_consumer(error: Exception) -> bool:
    return isinstance(error, SlowConsumerError)


def connection_of(broker: NatsBroker) -> Any:
    return broker.config.connection_state.connection
