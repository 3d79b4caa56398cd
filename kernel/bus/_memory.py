"""The bus without NATS: events delivered to this process's handlers, for module unit tests.

``Bus.connect_in_memory()`` puts the process's bus in this mode (``kernel.testing``'s unit
kernel does). ``emit`` then builds the same headers as over NATS and, instead of publishing,
hands the message to :class:`MemoryDelivery`, which delivers it through the same
``Bus.deliver`` as the real subscriptions (validation, context, counters are identical):

- each matching handler gets each event once, as a queue group per module and handler does over
  NATS (one process is one instance, so ``broadcast=True`` is once too); wildcards are honoured
  and a wildcard handler skips the kernel's internal subjects, as on the real path;
- delivery is scheduled, never inline: the task that emitted continues first, as over NATS; one
  handler takes its events one at a time, in the order they were emitted;
- a durable handler's failed delivery is retried at once (no backoff sleeps, the same order of
  attempts) up to ``WEBOS_DURABLE_MAX_DELIVER``, then kept as a :class:`MemoryDeadLetter`; a
  rejected payload is dead-lettered at once, as JetStream's consumer does.

Nothing here is shared between processes: that is what the real bus is for.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kernel.bus._event import Event
from kernel.transport import covers, is_internal_subject

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kernel.bus._bus import BoundHandler, Bus, Delivery

log = logging.getLogger("webos.bus")


@dataclass(frozen=True, slots=True)
class MemoryDeadLetter:
    """An event a durable handler gave up on (in memory): what ``webos dlq show`` would say."""

    subject: str
    handler: str
    error: str
    data: bytes
    deliveries: int
    event_id: str

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass(slots=True)
class _InFlight:
    """One emitted event and how many of its handlers have yet to finish with it."""

    event: Event
    left: int
    outcomes: dict[str, Delivery] = field(default_factory=dict)


class MemoryDelivery:
    """Where an in-memory bus's emits go: captured, then delivered to the matching handlers."""

    def __init__(self, bus: Bus, *, max_deliver: int) -> None:
        self._bus = bus
        self.max_deliver = max_deliver
        #: Every event emitted, in order (what a test asserts a route emitted).
        self.emitted: list[Event] = []
        #: Events whose handlers have all finished (retries and dead letters included).
        self.settled: list[Event] = []
        self.dead_letters: list[MemoryDeadLetter] = []
        self._queues: dict[int, asyncio.Queue[_InFlight]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()

    def publish(self, subject: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Record the event and queue it for each handler that takes it; never runs one here."""
        event = Event.from_message(subject, body, dict(headers), self._bus.source_of)
        self.emitted.append(event)
        targets = self.handlers_of(subject)
        flight = _InFlight(event, len(targets))
        if not targets:
            self._settle(flight)
        for bound in targets:
            self._queue_of(bound).put_nowait(flight)

    def handlers_of(self, subject: str) -> list[BoundHandler]:
        """The handlers an event on ``subject`` reaches, as subscriptions on NATS would."""
        return [bound for bound in self._bus._handlers if _takes(bound.subject, subject)]

    def _queue_of(self, bound: BoundHandler) -> asyncio.Queue[_InFlight]:
        key = id(bound)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
            self._workers[key] = asyncio.get_running_loop().create_task(
                self._work(bound, queue), name=f"in-memory delivery to {bound.name}"
            )
        return queue

    async def _work(self, bound: BoundHandler, queue: asyncio.Queue[_InFlight]) -> None:
        while True:
            flight = await queue.get()
            bound.in_hand += 1
            try:
                flight.outcomes[bound.name] = await self._attempts(bound, flight.event)
            finally:
                bound.in_hand -= 1
                flight.left -= 1
                if flight.left == 0:
                    self._settle(flight)

    async def _attempts(self, bound: BoundHandler, event: Event) -> Delivery:
        delivered = 0
        while True:
            delivered += 1
            delivery = await self._bus.deliver(bound, event)
            if not bound.durable or delivery.outcome == "handled":
                return delivery
            if delivery.outcome == "rejected" or delivered >= self.max_deliver:
                self._dead_letter(bound, event, delivery.error or "", delivered)
                return delivery
            # Where JetStream would wait its backoff: other work runs, the order of attempts
            # stays, and the test does not sleep.
            await asyncio.sleep(0)

    def _dead_letter(self, bound: BoundHandler, event: Event, error: str, delivered: int) -> None:
        letter = MemoryDeadLetter(event.subject, bound.name, error, event.data, delivered, event.id)
        self.dead_letters.append(letter)
        log.error(
            "event dead-lettered (in memory): subject=%s id=%s handler=%s deliveries=%d reason=%s",
            event.subject,
            event.id,
            bound.name,
            delivered,
            error,
        )

    def _settle(self, flight: _InFlight) -> None:
        self.settled.append(flight.event)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def changed(self) -> asyncio.Event:
        """Set once another event has settled. Take it before awaiting (``changed().wait()``):
        taken inside the awaiting task, a settling in between would be missed."""
        return self._changed

    @property
    def busy(self) -> bool:
        return len(self.settled) < len(self.emitted)

    async def close(self, timeout: float) -> list[str]:
        """Let queued deliveries finish within ``timeout``, then cancel what is left. Returns
        what was cut off, for the kernel's account."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.busy and loop.time() < deadline:
            try:
                await asyncio.wait_for(self.changed().wait(), deadline - loop.time())
            except TimeoutError:
                break
        unsettled = len(self.emitted) - len(self.settled)
        workers, self._workers = self._workers, {}
        self._queues.clear()
        for worker in workers.values():
            worker.cancel()
        await asyncio.gather(*workers.values(), return_exceptions=True)
        if not unsettled:
            return []
        return [f"{unsettled} in-memory event(s) not yet handled, cancelled"]


def _takes(pattern: str, subject: str) -> bool:
    if not covers(pattern, subject):
        return False
    # A wildcard handler gets events, not the kernel's internal traffic its pattern covers.
    wildcard = ">" in pattern or "*" in pattern
    return not (wildcard and not is_internal_subject(pattern) and is_internal_subject(subject))
