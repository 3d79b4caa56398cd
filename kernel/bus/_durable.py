"""Durable handlers: JetStream pull consumers with retries, backoff and dead letters.

At least once: a message is acked only after its handler returned. A handler that raises is
retried (``nak`` with exponential backoff) until ``max_deliver``; then the message, with the
error, handler, subject and delivery count, moves to the ``WEBOS_DLQ`` stream. A payload that
fails validation goes there at once: retrying cannot fix it.

Durable consumers speak to JetStream through nats-py directly (FastStream's JetStream
subscriber has no place for per-handler replay subjects) with the kernel's one pull loop
(``kernel.transport.PullLoop``); delivery itself goes through the same ``Bus.deliver`` as core
subscriptions, so validation, context and counters are identical.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError, NotFoundError

from kernel.bus._event import (
    HEADER_CONTENT_TYPE,
    HEADER_EVENT_ID,
    HEADER_MSG_ID,
    HEADER_ORIGINAL_SUBJECT,
    HEADER_TIME,
    HEADER_TRACEPARENT,
    REPLAY_PREFIX,
    Event,
)
from kernel.bus._settings import DurableSettings
from kernel.bus._streams import DLQ_PREFIX, DLQ_STREAM, EVENTS_STREAM
from kernel.transport import PullLoop, header_size, max_payload

if TYPE_CHECKING:
    from kernel.bus._bus import BoundHandler, Bus

log = logging.getLogger("webos.bus")
#: Seconds between looks for a consumer the gateway has not created yet.
CONSUMER_POLL = 1.0

# A dead letter's headers are its module's word; only the stream sequence is checked (it must
# name a stored event the consumer takes, see _dlq.py), the rest is shown as the module said it.
HEADER_DLQ_ERROR = "webos-dlq-error"
HEADER_DLQ_HANDLER = "webos-dlq-handler"
HEADER_DLQ_DELIVERIES = "webos-dlq-deliveries"
HEADER_DLQ_STREAM_SEQ = "webos-dlq-stream-seq"
#: The earlier failures of a replayed event (JSON list), written by the process that replays it.
HEADER_DLQ_HISTORY = "webos-dlq-history"
#: Set on a letter stored without its event's payload (the two did not fit one message): the
#: payload's SHA-256, so that the letter still names exactly one stored payload (see _dlq.py).
HEADER_DLQ_PAYLOAD_SHA256 = "webos-dlq-payload-sha256"
#: Set on every letter, as ``js.publish(..., stream=)`` would: only WEBOS_DLQ may store it.
HEADER_EXPECTED_STREAM = "Nats-Expected-Stream"
#: What a letter copies from its event: enough to show it; the rest is read back by sequence.
LETTER_KEEPS = (
    HEADER_EVENT_ID,
    HEADER_CONTENT_TYPE,
    HEADER_TIME,
    HEADER_TRACEPARENT,
    HEADER_DLQ_HISTORY,
)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def replay_subject(consumer: str) -> str:
    return f"{REPLAY_PREFIX}.{consumer}"


#: Unacknowledged events a durable consumer may have out, at least (replicas share it).
MIN_ACK_PENDING = 1000
#: Processes of one handler, each at full concurrency, that the ack-pending limit leaves room for.
ACK_PENDING_PROCESSES = 64


def consumer_config(
    name: str, subject: str, settings: DurableSettings, concurrency: int = 1
) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=name,
        filter_subjects=[subject, replay_subject(name)],
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.NEW,
        max_deliver=settings.max_deliver,
        ack_wait=settings.ack_wait,
        max_ack_pending=max(MIN_ACK_PENDING, ACK_PENDING_PROCESSES * concurrency),
    )


async def ensure_consumer(
    js: Any, name: str, subject: str, settings: DurableSettings, concurrency: int = 1
) -> None:
    """Create the consumer (it then keeps events for the handler while it is away), or bring an
    existing one's retry settings up to date: the server updates editable fields in place."""
    try:
        config = consumer_config(name, subject, settings, concurrency)
        await js.add_consumer(EVENTS_STREAM, config=config)
    except BadRequestError as error:
        log.warning("durable consumer %s keeps its previous configuration: %s", name, error)


class DurableConsumer:
    def __init__(self, bus: Bus, bound: BoundHandler, settings: DurableSettings) -> None:
        self.bus = bus
        self.bound = bound
        self.settings = settings
        assert bound.consumer is not None
        self.name = bound.consumer
        self.max_deliver = settings.max_deliver
        self._loop: PullLoop | None = None
        self._waiting: asyncio.Task[None] | None = None

    async def start(self, js: Any, *, create: bool = True) -> None:
        """Bind to the consumer (creating it first when this process keeps the streams) and
        start fetching. A process that may not create it waits in the background until the
        gateway has: :attr:`bound` says whether it is fetching yet."""
        self._js = js
        if create:
            concurrency = self.bound.concurrency
            await ensure_consumer(js, self.name, self.bound.subject, self.settings, concurrency)
            await self._bind(js)
            return
        try:
            await self._bind(js)
        except NotFoundError:
            log.warning(
                "durable consumer %s does not exist yet: waiting for the gateway to create it",
                self.name,
            )
            self._waiting = asyncio.create_task(self._bind_when_created(js))

    @property
    def bound_yet(self) -> bool:
        return self._loop is not None

    async def _bind(self, js: Any) -> None:
        # The server's max_deliver decides when an event is dead-lettered: a smaller local
        # setting would stop short, a larger one would wait for a delivery that never comes.
        info = await js.consumer_info(EVENTS_STREAM, self.name)
        self.max_deliver = info.config.max_deliver or self.settings.max_deliver
        subscription = await js.pull_subscribe_bind(durable=self.name, stream=EVENTS_STREAM)
        self._loop = PullLoop(
            subscription,
            self._handle,
            name=f"durable consumer {self.name}",
            concurrency=self.bound.concurrency,
        )
        self._loop.start()

    async def _bind_when_created(self, js: Any) -> None:
        while True:
            await asyncio.sleep(CONSUMER_POLL)
            try:
                await self._bind(js)
            except NotFoundError:
                continue
            except Exception as error:  # a lost connection: try again
                log.warning("durable consumer %s: %s; trying again", self.name, error)
                continue
            log.info("durable consumer %s bound", self.name)
            return

    async def _handle(self, message: Any) -> None:
        headers = message.headers or {}
        event = replace(
            Event.from_message(message.subject, message.data, headers, self.bus.source_of),
            stored_at=_aware(message.metadata.timestamp),
        )
        delivered = message.metadata.num_delivered
        delivery = await self.bus.deliver(self.bound, event)
        try:
            if delivery.outcome == "handled":
                await message.ack()
            elif delivery.outcome == "rejected" or delivered >= self.max_deliver:
                await self._dead_letter(message, event, delivery.error or "", delivered)
                await message.term()
            else:
                await message.nak(delay=self.settings.delay(delivered))
        except Exception:
            log.exception("durable consumer %s: could not settle event %s", self.name, event.id)

    async def _dead_letter(self, message: Any, event: Event, error: str, delivered: int) -> None:
        stream_seq = message.metadata.sequence.stream
        carried = message.headers or {}
        own = {
            HEADER_ORIGINAL_SUBJECT: event.subject,
            HEADER_DLQ_ERROR: error[:2000],
            HEADER_DLQ_HANDLER: self.bound.name,
            HEADER_DLQ_DELIVERIES: str(delivered),
            HEADER_DLQ_STREAM_SEQ: str(stream_seq),
            # One letter per stored event (a replay is stored anew), however often settling it is
            # retried.
            HEADER_MSG_ID: f"dlq-{self.name}-{stream_seq}",
            HEADER_EXPECTED_STREAM: DLQ_STREAM,
        }
        copied = {key: carried[key] for key in LETTER_KEEPS if key in carried}
        data, headers = fit_letter(max_payload(self.bus.nats), message.data, copied, own)
        stored = await self._js.publish(f"{DLQ_PREFIX}.{self.name}", data, headers=headers)
        log.error(
            "event dead-lettered%s%s: subject=%s id=%s handler=%s deliveries=%d reason=%s",
            " (its letter was already stored)" if stored.duplicate else "",
            " (its payload is read from the original: the two did not fit one message)"
            if HEADER_DLQ_PAYLOAD_SHA256 in headers
            else "",
            event.subject,
            headers.get(HEADER_EVENT_ID, ""),
            self.bound.name,
            delivered,
            error,
        )

    async def stop(self, timeout: float) -> list[str]:
        """Stop fetching, let the events in hand finish (bounded by ``timeout``), hand back the
        rest, then unsubscribe. Returns what was cut off, for the kernel's account."""
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiting
        loop, self._loop = self._loop, None
        cut = await loop.stop(timeout) if loop is not None else 0
        if not cut:
            return []
        return [f"{cut} event(s) in hand of durable handler {self.bound.name}, handed back"]


def payload_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fit_letter(
    limit: int | None, data: bytes, copied: dict[str, str], own: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    """A letter's body and headers, as they fit in one message of at most ``limit`` bytes.

    An event may fill a message on its own, and a letter adds headers (the error, the handler...):
    sending both would make the server close the connection, and the event would come back and
    do it again. Such a letter leaves the payload out and names it by its digest (the original
    is read back from WEBOS_EVENTS by sequence); if even what it copied of the event's headers is
    too much, it keeps only its own.
    """
    headers = {**copied, **own}
    if limit is None or len(data) + header_size(headers) <= limit:
        return data, headers
    digest = {HEADER_DLQ_PAYLOAD_SHA256: payload_digest(data)}
    headers = {**copied, **own, **digest}
    if header_size(headers) > limit:
        headers = {**own, **digest}
    return b"", headers
