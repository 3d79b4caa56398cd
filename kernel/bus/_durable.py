"""Durable handlers: JetStream pull consumers with retries, backoff and dead letters.

At least once: a message is acked only after its handler returned. A handler that raises is
retried (``nak`` with exponential backoff) until ``max_deliver``; then the message, with the
error, handler, subject and delivery count, moves to the ``WEBOS_DLQ`` stream. A payload that
fails validation goes there at once: retrying cannot fix it.

Durable consumers speak to JetStream through nats-py directly (FastStream's JetStream
subscriber has no place for per-handler replay subjects); delivery itself goes through the same
``Bus.deliver`` as core subscriptions, so validation, context and counters are identical.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError

from kernel.bus._event import HEADER_EVENT_ID, HEADER_MSG_ID, Event
from kernel.bus._streams import DLQ_PREFIX, DLQ_STREAM, EVENTS_STREAM, REPLAY_PREFIX

if TYPE_CHECKING:
    from kernel.bus._bus import BoundHandler, Bus

log = logging.getLogger("webos.bus")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

HEADER_ORIGINAL_SUBJECT = "webos-original-subject"
HEADER_DLQ_ERROR = "webos-dlq-error"
HEADER_DLQ_HANDLER = "webos-dlq-handler"
HEADER_DLQ_MODULE = "webos-dlq-module"
HEADER_DLQ_CONSUMER = "webos-dlq-consumer"
HEADER_DLQ_DELIVERIES = "webos-dlq-deliveries"
HEADER_DLQ_TIME = "webos-dlq-time"
#: When JetStream first stored the event (server clock): a replay judges identity by it.
HEADER_DLQ_STORED_AT = "webos-dlq-stored-at"


@dataclass(frozen=True)
class DurableSettings:
    max_deliver: int = 5
    backoff: float = 1.0
    backoff_max: float = 60.0
    ack_wait: float = 30.0
    max_age: float = 7 * 24 * 3600.0
    batch: int = 16

    def delay(self, delivered: int) -> float:
        return min(self.backoff * 2 ** max(delivered - 1, 0), self.backoff_max)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def consumer_name(module: str, qualname: str) -> str:
    return _UNSAFE.sub("_", f"{module}__{qualname}")


def replay_subject(consumer: str) -> str:
    return f"{REPLAY_PREFIX}.{consumer}"


def consumer_config(name: str, subject: str, settings: DurableSettings) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=name,
        filter_subjects=[subject, replay_subject(name)],
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.NEW,
        max_deliver=settings.max_deliver,
        ack_wait=settings.ack_wait,
        max_ack_pending=1000,
    )


async def ensure_consumer(js: Any, name: str, subject: str, settings: DurableSettings) -> None:
    """Create the consumer (it then keeps events for the handler while it is away), or bring an
    existing one's retry settings up to date: the server updates editable fields in place."""
    try:
        await js.add_consumer(EVENTS_STREAM, config=consumer_config(name, subject, settings))
    except BadRequestError as error:
        log.warning("durable consumer %s keeps its previous configuration: %s", name, error)


class DurableConsumer:
    def __init__(self, bus: Bus, bound: BoundHandler, settings: DurableSettings) -> None:
        self.bus = bus
        self.bound = bound
        self.settings = settings
        assert bound.consumer is not None
        self.name = bound.consumer
        self._subscription: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self, js: Any) -> None:
        await ensure_consumer(js, self.name, self.bound.subject, self.settings)
        self._js = js
        self._subscription = await js.pull_subscribe_bind(durable=self.name, stream=EVENTS_STREAM)
        self._task = asyncio.create_task(self._run(), name=f"webos-durable-{self.name}")

    async def _run(self) -> None:
        while not self._stopping:
            try:
                messages = await self._subscription.fetch(self.settings.batch, timeout=1)
            except (NatsTimeout, TimeoutError):
                continue
            except Exception:
                if self._stopping:
                    return
                log.exception("durable consumer %s: fetch failed; retrying", self.name)
                await asyncio.sleep(1)
                continue
            for index, message in enumerate(messages):
                if self._stopping:
                    # Not started: hand them back now rather than after ack_wait.
                    for pending in messages[index:]:
                        with contextlib.suppress(Exception):
                            await pending.nak()
                    return
                await self._handle(message)

    async def _handle(self, message: Any) -> None:
        headers = message.headers or {}
        subject = headers.get(HEADER_ORIGINAL_SUBJECT, message.subject)
        event = replace(
            Event.from_message(subject, message.data, headers),
            stored_at=_aware(message.metadata.timestamp),
        )
        delivered = message.metadata.num_delivered
        delivery = await self.bus.deliver(self.bound, event)
        try:
            if delivery.outcome == "handled":
                await message.ack()
            elif delivery.outcome == "rejected" or delivered >= self.settings.max_deliver:
                await self._dead_letter(message, event, delivery.error or "", delivered)
                await message.term()
            else:
                await message.nak(delay=self.settings.delay(delivered))
        except Exception:
            log.exception("durable consumer %s: could not settle event %s", self.name, event.id)

    async def _dead_letter(self, message: Any, event: Event, error: str, delivered: int) -> None:
        headers = {
            **(message.headers or {}),
            HEADER_ORIGINAL_SUBJECT: event.subject,
            HEADER_DLQ_ERROR: error[:2000],
            HEADER_DLQ_HANDLER: self.bound.name,
            HEADER_DLQ_MODULE: self.bound.module,
            HEADER_DLQ_CONSUMER: self.name,
            HEADER_DLQ_DELIVERIES: str(delivered),
            HEADER_DLQ_TIME: datetime.now(UTC).isoformat(),
            HEADER_DLQ_STORED_AT: event.stored_at.isoformat() if event.stored_at else "",
            HEADER_MSG_ID: f"dlq-{self.name}-{event.id or uuid.uuid4().hex}",
        }
        await self._js.publish(
            f"{DLQ_PREFIX}.{self.name}", message.data, headers=headers, stream=DLQ_STREAM
        )
        log.error(
            "event dead-lettered: subject=%s id=%s handler=%s deliveries=%d reason=%s",
            event.subject,
            headers.get(HEADER_EVENT_ID, ""),
            self.bound.name,
            delivered,
            error,
        )

    async def stop(self, timeout: float) -> None:
        """Stop fetching, let the message in hand finish (bounded), then unsubscribe."""
        self._stopping = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout)
            except TimeoutError:
                log.warning("durable consumer %s: in-flight handler outlived shutdown", self.name)
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()


def declare_durable_handlers(bus: Bus, module: str, package: str) -> int:
    """Read (never run) a module's ``events.py`` and keep its durable events while it is away."""
    import importlib
    import importlib.util

    from kernel.bus._handlers import marked_subscriptions

    qualified = f"{package}.events"
    if importlib.util.find_spec(qualified) is None:
        return 0
    count = 0
    for value in vars(importlib.import_module(qualified)).values():
        for subscription in marked_subscriptions(value):
            if subscription.durable:
                bus.declare_durable(module, value, subscription)
                count += 1
    return count
