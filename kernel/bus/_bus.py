"""The event bus: FastStream's NATS broker, plus the conventions WebOS adds on top of it.

Importing this module is cheap (``from kernel import bus`` runs it): FastStream, nats-py and the
JetStream parts load when a kernel connects the bus.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import pydantic_core

from kernel.bus._declared import Declaration, EventType, Validation
from kernel.bus._event import (
    HEADER_CONTENT_TYPE,
    HEADER_EVENT_ID,
    HEADER_MSG_ID,
    HEADER_SOURCE,
    HEADER_TIME,
    JSON_CONTENT_TYPE,
    Event,
)
from kernel.bus._handlers import (
    Handler,
    Invoker,
    PayloadError,
    Subscription,
    build_invoker,
    consumer_name,
    marked_subscriptions,
    on,
    queue_group,
)
from kernel.context import current_module, current_traceparent
from kernel.errors import ModuleError, NotRunning
from kernel.propagation import Propagation
from kernel.telemetry._metrics import attributes, instruments
from kernel.telemetry._spans import SpanKind, fail, received_span, start_span, traceparent_of
from kernel.transport import (
    HAND_BACK_WAIT,
    covers,
    is_internal_subject,
    normalize_subject,
)

if TYPE_CHECKING:
    from faststream.nats import NatsBroker

    from kernel.bus._durable import DurableConsumer
    from kernel.bus._keeping import Keeper
    from kernel.bus._memory import MemoryDelivery
    from kernel.bus._settings import BusSettings, DurableSettings
    from kernel.modules import ModuleStream
    from kernel.transport import ConnectionWatch

log = logging.getLogger("webos.bus")
_UNJUDGED = object()
_SOURCES_REMEMBERED = 4096
# nats-py runs a subscription's callbacks back to back while its queue is not empty, so a
# handler that never awaits real I/O starves the socket reader: the backlog then piles up in
# nats-server, which disconnects the whole connection as a slow consumer once 64 MB are pending,
# losing those events without any client-side count. Yielding every few events lets the reader
# keep up, so a backlog is held (and, past the subscription's pending limits, counted in
# ``Bus.dropped``) by this process instead.
_YIELD_EVERY = 16
#: FastStream's header for a message's id: an event sends its own id there too.
_CORRELATION = "correlation_id"
#: Seconds between looks at the core handlers still running while the bus stops.
_SETTLE_POLL = 0.05


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one event in one handler."""

    outcome: Literal["handled", "rejected", "failed"]
    error: str | None = None


class BusNotConnected(NotRunning):
    """``emit`` was called before the kernel connected the bus (or after it stopped)."""


@dataclass(slots=True)
class HandlerStats:
    handled: int = 0
    failed: int = 0
    rejected: int = 0
    #: Events dropped because this handler's backlog in this process was full.
    dropped: int = 0


@dataclass(slots=True)
class BoundHandler:
    """A handler bound to the module that declared it, with its delivery counters."""

    module: str
    subject: str
    name: str
    queue: str | None
    invoker: Invoker
    stats: HandlerStats = field(default_factory=HandlerStats)
    durable: bool = False
    #: The JetStream consumer of a durable handler (stable across restarts and replicas).
    consumer: str | None = None
    #: Events of a durable handler in hand at once in this process.
    concurrency: int = 1
    #: The nats-py subscription of a core handler (it holds the backlog).
    subscription: Any = None
    #: Whether a core handler still takes events (no longer once the bus stops).
    accepting: bool = True
    #: Events of a core handler being handled now (stopping waits for them, within its bound).
    in_hand: int = 0

    @property
    def backlog(self) -> int:
        """Events received for a core handler and not yet handled in this process."""
        return int(getattr(self.subscription, "pending_msgs", 0) or 0)

    def describe(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "subject": self.subject,
            "handler": self.name,
            "queue": self.queue,
            "durable": self.durable,
            "consumer": self.consumer,
            "concurrency": self.concurrency,
            "handled": self.stats.handled,
            "failed": self.stats.failed,
            "rejected": self.stats.rejected,
            "dropped": self.stats.dropped,
            "backlog": self.backlog,
        }


class Bus:
    """Publish and subscribe to events on NATS subjects.

    One instance per process is exposed as ``kernel.bus``; tests build a fresh kernel, which
    calls :meth:`reset` so that nothing leaks from one kernel to the next.
    """

    #: ``@bus.on(...)`` marks a handler; it is the same function as ``kernel.bus.on``.
    on = staticmethod(on)

    def __init__(self) -> None:
        self._broker: NatsBroker | None = None
        self._handlers: list[BoundHandler] = []
        self.published = 0
        self.dropped = 0
        self._event_log = False
        #: What travels with every event (trace, identity, ...): the kernel's propagation.
        self.propagation = Propagation.default()
        self._consumers: list[DurableConsumer] = []
        #: Whether this process creates and updates the streams and durable consumers (the
        #: gateway), or only binds to those it finds (a module process: its NATS user may not
        #: create them, or it could widen what it reads).
        self.keeps_streams = True
        self._declared: list[tuple[str, str, int]] = []
        #: module -> its ``[streams.NAME]`` (module.toml): created here when this keeps streams.
        self._module_streams: dict[str, Mapping[str, ModuleStream]] = {}
        #: module -> the subjects its manifest emits: who may be named as an event's source.
        self._emitters: dict[str, tuple[str, ...]] = {}
        #: subject -> its typed declaration by a module of this process (``events.py``).
        self._typed: dict[str, Declaration] = {}
        #: ``WEBOS_EVENT_VALIDATION``, read when the bus connects.
        self.event_validation: Validation = "error"
        self._sources: dict[tuple[str | None, str], str | None] = {}
        #: subject as emitted -> its NATS form (emitters use a few subjects, again and again).
        self._subjects: dict[str, str] = {}
        #: The broker's nats-py connection and how an event goes out on it, while connected.
        self._connection: Any = None
        self._send: Callable[[Any, str, bytes, dict[str, str]], Awaitable[None]] | None = None
        self._keeper: Keeper | None = None
        self._watch: ConnectionWatch | None = None
        #: Copies JetStream keeps of the streams this process creates (WEBOS_JETSTREAM_REPLICAS).
        self._replicas = 1
        #: Set in a unit test's kernel: events go to this process's handlers, never to NATS.
        self._memory: MemoryDelivery | None = None

    # -- wiring (kernel only) -------------------------------------------------------------

    def add_handler(self, module: str, func: Handler, subscription: Subscription) -> BoundHandler:
        """Bind ``func`` to ``module``; it starts receiving when the bus connects."""
        name = f"{func.__module__}.{func.__qualname__}"
        queue = None
        if not subscription.broadcast:
            queue = queue_group(module, func.__qualname__)
        bound = BoundHandler(module, subscription.subject, name, queue, build_invoker(func))
        bound.durable = subscription.durable
        bound.concurrency = subscription.concurrency
        if subscription.durable:
            bound.consumer = consumer_name(module, func.__qualname__)
        self._handlers.append(bound)
        if subscription.durable and self._broker is not None:
            raise RuntimeError("durable handlers must be added before the bus connects")
        return bound

    def declare_durable(self, module: str, func: Handler, subscription: Subscription) -> None:
        """A durable handler of a module running elsewhere: keep its events while it is away."""
        name = consumer_name(module, func.__qualname__)
        self._declared.append((name, subscription.subject, subscription.concurrency))

    async def connect(
        self,
        url: str,
        *,
        client_name: str,
        event_log: bool = False,
        durable: DurableSettings | None = None,
        propagation: Propagation | None = None,
        settings: BusSettings | None = None,
        replicas: int | None = None,
    ) -> None:
        """Connect to ``url`` (one server or a comma-separated list) and start every handler.
        ``propagation`` is what travels with events (the kernel's own; default: trace and
        correlation id only). ``replicas`` (``WEBOS_JETSTREAM_REPLICAS``): the copies of the
        streams this process creates; a process that keeps the streams also brings every existing
        kernel stream and bucket to it."""
        if self._broker is not None:
            raise RuntimeError("the bus is already connected")
        # Loaded here, not at import: importing the bus must not load FastStream (see above).
        from kernel.bus import _broker
        from kernel.bus._settings import BusSettings
        from kernel.transport import ConnectionWatch, match_replicas

        self._event_log = event_log
        self._settings = settings or BusSettings()
        self.event_validation = self._settings.event_validation
        if propagation is not None:
            self.propagation = propagation
        watch = self._watch = ConnectionWatch(client_name)
        self._broker = _broker.new_broker(
            url,
            client_name=client_name,
            event_log=event_log,
            on_error=self._on_nats_error,
            watch=watch,
        )
        try:
            await self._broker.start()
            watch.attach(self.nats)
            # The same client object all along: nats-py reconnects it in place.
            self._connection, self._send = self.nats, _broker.publish
            await self.start_late_subscribers()
            if replicas is not None:
                self._replicas = replicas
                if self.keeps_streams:
                    await match_replicas(self.nats.jetstream(), replicas)
            if self.keeps_streams and self._module_streams:
                # JetStream parts load only in processes that keep streams.
                from kernel.bus._module_streams import declared_streams, ensure_module_streams

                found = declared_streams(self._module_streams)
                await ensure_module_streams(self.nats.jetstream(), found, self._replicas)
            await self._start_durable(durable)
            from kernel.bus._keeping import Keeper

            keeper = Keeper(self.nats, timeout=self._settings.publish_timeout)
            await keeper.start()
            self._keeper = keeper
            # A round trip makes the server register our subscriptions before start-up
            # completes: "started" then means "receiving", even for events emitted next.
            await self.nats.flush()
        except BaseException:
            # Half connected is not connected: the process (or the next kernel) starts clean.
            try:
                await self.close(timeout=1.0)
            except Exception:  # the error that stopped the start is the one raised
                log.exception("could not close the bus after a failed start")
            raise

    def connect_in_memory(
        self,
        *,
        durable: DurableSettings | None = None,
        propagation: Propagation | None = None,
        settings: BusSettings | None = None,
        event_log: bool = False,
    ) -> MemoryDelivery:
        """Deliver events to this process's handlers instead of NATS (``kernel.bus._memory``):
        for module unit tests, which then need no nats-server. Returns what records them."""
        if self._broker is not None or self._memory is not None:
            raise RuntimeError("the bus is already connected")
        from kernel.bus._memory import MemoryDelivery
        from kernel.bus._settings import BusSettings, DurableSettings

        self._event_log = event_log
        self._settings = settings or BusSettings()
        self.event_validation = self._settings.event_validation
        if propagation is not None:
            self.propagation = propagation
        max_deliver = (durable or DurableSettings()).max_deliver
        self._memory = MemoryDelivery(self, max_deliver=max_deliver)
        return self._memory

    @property
    def in_memory(self) -> bool:
        """Whether events stay in this process (a unit test's kernel) instead of NATS."""
        return self._memory is not None

    async def _start_durable(self, settings: DurableSettings | None) -> None:
        durable = [bound for bound in self._handlers if bound.durable]
        if not durable and not self._declared:
            return
        # JetStream parts load only in processes that keep durable events.
        from kernel.bus._durable import DurableConsumer, ensure_consumer
        from kernel.bus._settings import DurableSettings
        from kernel.bus._streams import ensure_streams

        settings = settings or DurableSettings()
        js = self.nats.jetstream()
        if self.keeps_streams:
            subjects = [bound.subject for bound in durable] + [s for _, s, _ in self._declared]
            await ensure_streams(js, subjects, max_age=settings.max_age, replicas=self._replicas)
            for name, subject, concurrency in self._declared:
                await ensure_consumer(js, name, subject, settings, concurrency)
        for bound in durable:
            consumer = DurableConsumer(self, bound, settings)
            await consumer.start(js, create=self.keeps_streams)
            self._consumers.append(consumer)

    def unbound_consumers(self) -> list[str]:
        """Durable consumers this process waits for (the gateway has not created them yet)."""
        return [consumer.name for consumer in self._consumers if not consumer.bound_yet]

    async def start_late_subscribers(self) -> None:
        """Subscribe the core handlers not receiving yet (:meth:`connect` subscribes those added
        before it; this, those added after)."""
        if self._broker is None:
            return
        from kernel.bus import _broker

        for bound in self._handlers:
            if bound.durable or bound.subscription is not None:
                continue
            bound.accepting = True
            bound.subscription = await _broker.subscribe(
                self.nats,
                bound.subject,
                bound.queue,
                self._consumer(bound),
                pending_messages=self._settings.subscription_pending_messages,
                pending_bytes=self._settings.subscription_pending_bytes,
            )
        await self.nats.flush()

    async def close(self, timeout: float = 8.0, *, closing: float | None = None) -> list[str]:
        """Stop taking messages, let in-flight handlers finish within ``timeout`` (what is left
        of the process's shutdown bound), then disconnect within ``closing`` (the time left until
        the bound itself; ``timeout`` when not given). Handlers still running are cut off.
        Returns what was cut off, for the kernel's account."""
        memory, self._memory = self._memory, None
        if memory is not None:
            return await memory.close(timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        closed_by = loop.time() + max(timeout if closing is None else closing, timeout)
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            await keeper.close()
        consumers, self._consumers = self._consumers, []
        # Together, so that the bound is the whole bus's, not each consumer's in turn.
        stopped = await asyncio.gather(
            *(consumer.stop(timeout) for consumer in consumers), self._settle_core(deadline)
        )
        cut = [what for found in stopped for what in found]
        broker, self._broker = self._broker, None
        self._connection = self._send = None
        if self._watch is not None:
            self._watch.closing()
        if broker is not None:
            cut += await _disconnect(broker, closed_by - loop.time())
        return cut

    async def _settle_core(self, deadline: float) -> list[str]:
        """Core handlers take no more events; those in hand get until ``deadline`` (then are
        cancelled with their subscription). Returns the handlers cut off."""
        core = [bound for bound in self._handlers if bound.subscription is not None]
        for bound in core:
            bound.accepting = False  # what arrives from now on is skipped
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            if not any(bound.in_hand for bound in core):
                break
            await asyncio.sleep(_SETTLE_POLL)
        cut = [
            f"{bound.in_hand} event(s) in hand of handler {bound.name}, cancelled"
            for bound in core
            if bound.in_hand
        ]
        for bound in core:
            subscription, bound.subscription = bound.subscription, None
            try:
                # Its backlog goes with it (as a FastStream subscriber's did on stop): the
                # connection's drain then waits only for the handlers still running.
                await subscription.unsubscribe()
            except Exception as error:  # e.g. reconnecting: the server forgets it anyway
                log.warning("could not unsubscribe handler %s: %r", bound.name, error)
        return cut

    def reset(self) -> None:
        """Forget handlers, emitters and counters. Only valid while disconnected."""
        if self._broker is not None or self._memory is not None:
            raise RuntimeError("close the bus before resetting it")
        self._handlers.clear()
        self._declared.clear()
        self._module_streams.clear()
        self._emitters.clear()
        self._typed.clear()
        self._sources.clear()
        self.keeps_streams = True
        self.published = self.dropped = 0

    def declare_emitters(self, emits: Mapping[str, Sequence[str]]) -> None:
        """What each discovered module's manifest says it emits (for :meth:`source_of`)."""
        self._emitters = {module: tuple(subjects) for module, subjects in emits.items()}
        self._sources.clear()

    def declare_events(self, module: str, events: Sequence[EventType[Any]]) -> None:
        """The events ``module`` declares with their models: emits on them are validated."""
        for declared in events:
            held = self._typed.get(declared.subject)
            if held is not None:
                who = (
                    f"twice by module {module!r}"
                    if held.module == module
                    else f"by both module {held.module!r} and module {module!r}"
                )
                raise ModuleError(
                    f"event {declared.subject!r} is declared {who} (events.py): a subject has "
                    "one declared model, in the module that emits it",
                    modules=tuple(dict.fromkeys((held.module, module))),
                )
            self._typed[declared.subject] = Declaration(module, declared)

    def declaration(self, subject: str) -> Declaration | None:
        """The typed declaration of ``subject`` in this process, if a module made one."""
        return self._typed.get(subject)

    def declare_streams(self, streams: Mapping[str, Mapping[str, ModuleStream]]) -> None:
        """What each discovered module declares in ``[streams.NAME]``, wherever it runs."""
        self._module_streams = {module: found for module, found in streams.items() if found}

    def source_of(self, claimed: str | None, subject: str) -> str | None:
        """The source an event on ``subject`` claiming ``claimed`` may have.

        ``webos-source`` is a header anyone publishing may write; what makes it believable is
        the manifests: a subject some modules declare in ``emits`` can come only from one of them
        (and NATS permissions let a module process publish only its own manifest's subjects),
        and a module's name is never believed on a subject its manifest does not declare.
        Other names (``cli``) stand only on subjects no module declares.
        """
        key = (claimed, subject)
        found = self._sources.get(key, _UNJUDGED)
        if found is _UNJUDGED:
            owners = {
                module
                for module, patterns in self._emitters.items()
                if any(covers(pattern, subject) for pattern in patterns)
            }
            if owners:
                found = claimed if claimed in owners else None
            else:
                found = None if claimed in self._emitters else claimed
            if len(self._sources) >= _SOURCES_REMEMBERED:
                self._sources.clear()
            self._sources[key] = found
        return found  # type: ignore[return-value]

    # -- public API ------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        if self._memory is not None:
            return True  # to its in-memory delivery: nothing more is needed to emit
        broker = self._broker
        if broker is None:
            return False
        connection = broker.config.connection_state.connection
        return connection is not None and bool(connection.is_connected)

    @property
    def nats(self) -> Any:
        """The underlying nats-py client, for kernel parts that speak NATS directly."""
        if self._memory is not None:
            raise BusNotConnected(
                "the event bus is in memory (a unit test's kernel): nothing here speaks NATS. "
                "Stub remote services with stub_service(...), or use the 'webos' fixture, which "
                "runs a real nats-server"
            )
        if self._broker is None:
            raise BusNotConnected("the event bus is not connected")
        return self._broker.config.connection_state.connection

    @property
    def broker(self) -> NatsBroker:
        if self._broker is None:
            raise BusNotConnected("the event bus is not connected")
        return self._broker

    async def emit(
        self,
        subject: str,
        payload: Any = None,
        *,
        source: str | None = None,
        headers: Mapping[str, str] | None = None,
        event_id: str | None = None,
        durable: bool = False,
    ) -> str:
        """Publish ``payload`` as JSON on ``subject``; return the event id.

        The body is the plain JSON payload; metadata travels in NATS headers so that any NATS
        client can read the events without knowing WebOS. An event a durable handler takes
        (anywhere) returns only once JetStream stored it, and raises ``EventNotStored`` when it
        could not be within ``WEBOS_PUBLISH_TIMEOUT``; ``durable=True`` asks for that on any
        subject. Other events are sent at most once. A message larger than the server accepts
        raises ``PayloadTooLarge`` before anything is sent. On a subject a module of this process
        declared with ``event(subject, Model)``, a payload that breaks the model raises
        ``EventPayloadInvalid`` before anything is sent (``WEBOS_EVENT_VALIDATION``).
        """
        broker = self._broker
        if broker is None and self._memory is None:
            raise BusNotConnected(f"cannot emit {subject!r}: the event bus is not connected")
        normalized = self._subjects.get(subject)
        if normalized is None:
            normalized = normalize_subject(subject)  # raises for a bad one: never remembered
            if len(self._subjects) >= _SOURCES_REMEMBERED:
                self._subjects.clear()
            self._subjects[subject] = normalized
        subject = normalized
        # Only declared subjects pay for validation: one dict lookup for the rest.
        declared = self._typed.get(subject)
        if declared is not None:
            payload = declared.checked(payload, source, self.event_validation)
        event_id = event_id or uuid.uuid4().hex
        meta = {
            HEADER_CONTENT_TYPE: JSON_CONTENT_TYPE,
            HEADER_EVENT_ID: event_id,
            HEADER_MSG_ID: event_id,
            HEADER_TIME: _now_header(),
        }
        origin = source or current_module.get()
        if origin:
            meta[HEADER_SOURCE] = origin
        span_name, span_attributes = _publish_span(subject)
        span = start_span(
            span_name, SpanKind.PRODUCER, span_attributes, {"messaging.message.id": event_id}
        )
        producer = traceparent_of(span)  # None unless spans are recorded
        if producer is None:
            self.propagation.inject(meta)
        else:  # the producer span is the receivers' parent
            token = current_traceparent.set(producer)
            try:
                self.propagation.inject(meta)
            finally:
                current_traceparent.reset(token)
        if headers:
            meta.update(headers)
        try:
            body = pydantic_core.to_json(payload)
            keeper = self._keeper
            if self._memory is not None:
                self._memory.publish(subject, body, meta)
            elif keeper is not None and (durable or keeper.keeps(subject)):
                await keeper.store(subject, body, meta)
            else:
                send = self._send
                if send is None:  # closed while this emit was under way
                    raise BusNotConnected(f"cannot emit {subject!r}: the event bus is closed")
                # FastStream's consumers read the message's id here: the same one, not another.
                meta[_CORRELATION] = event_id
                await send(self._connection, subject, body, meta)
        except Exception as error:
            span.record_exception(error)
            fail(span, f"{type(error).__name__}: {error}")
            raise
        finally:
            span.end()
        self.published += 1
        instruments().events_published.add(1, attributes(subject=subject))
        return event_id

    def handlers(self) -> list[dict[str, Any]]:
        return [bound.describe() for bound in self._handlers]

    def stats(self) -> dict[str, Any]:
        totals = HandlerStats()
        for bound in self._handlers:
            totals.handled += bound.stats.handled
            totals.failed += bound.stats.failed
            totals.rejected += bound.stats.rejected
        watch = self._watch
        return {
            "connected": self.connected,
            # The server this process reaches, and how often it lost and regained it.
            "connection": None
            if watch is None
            else {"server": watch.address, "losses": watch.losses, "recoveries": watch.recoveries},
            "published": self.published,
            "handled": totals.handled,
            "failed": totals.failed,
            "rejected": totals.rejected,
            "dropped": self.dropped,
            "handlers": self.handlers(),
        }

    # -- delivery --------------------------------------------------------------------------

    def _consumer(self, bound: BoundHandler) -> Handler:
        since_yield = 0

        # A wildcard handler (``>``, ``webos.>``) gets events, not the kernel's internal traffic
        # (forwarded HTTP, service calls, replies) that its pattern happens to cover.
        skip_internal = not is_internal_subject(bound.subject) and (
            ">" in bound.subject or "*" in bound.subject
        )
        source_of = self.source_of

        async def consume(message: Any) -> None:
            nonlocal since_yield
            if not bound.accepting:
                return  # the bus is stopping
            subject = message.subject
            if skip_internal and is_internal_subject(subject):
                return
            event = Event.from_message(subject, message.data, message.headers, source_of)
            bound.in_hand += 1
            try:
                await self.deliver(bound, event)
            finally:
                bound.in_hand -= 1
            since_yield += 1
            if since_yield >= _YIELD_EVERY:
                since_yield = 0
                await asyncio.sleep(0)  # let the socket reader run (see _YIELD_EVERY)

        consume.__name__ = consume.__qualname__ = bound.name
        return consume

    async def deliver(self, bound: BoundHandler, event: Event) -> Delivery:
        """Run one handler for one event with its context restored; never raises.

        Core subscriptions ignore the outcome; durable ones ack, retry or dead-letter by it.
        The handler runs in a consumer span, child of the span that published the event.
        """
        started = time.perf_counter()
        undo = self.propagation.extract(event.headers, event.stored_at)
        module_token = current_module.set(bound.module)
        try:
            delivery = await self._traced(bound, event)
        finally:
            current_module.reset(module_token)
            undo()
        labels = attributes(subject=bound.subject, handler=bound.name, outcome=delivery.outcome)
        meters = instruments()
        meters.events_handled.add(1, labels)
        meters.event_duration.record(time.perf_counter() - started, labels)
        return delivery

    async def _traced(self, bound: BoundHandler, event: Event) -> Delivery:
        span_name, span_attributes = _process_span(
            event.subject, bound.consumer or bound.queue or "", bound.name
        )
        with received_span(
            span_name, SpanKind.CONSUMER, span_attributes, {"messaging.message.id": event.id}
        ) as span:
            delivery = await self._run_handler(bound, event)
            if delivery.error is not None:
                fail(span, delivery.error)
        return delivery

    async def _run_handler(self, bound: BoundHandler, event: Event) -> Delivery:
        stats = bound.stats
        try:
            await bound.invoker(event)
        except PayloadError as error:
            stats.rejected += 1
            log.warning(
                "event rejected: subject=%s id=%s handler=%s reason=%s",
                event.subject,
                event.id,
                bound.name,
                error,
            )
            return Delivery("rejected", f"PayloadError: {error}")
        except Exception as error:
            stats.failed += 1
            log.exception(
                "event handler failed: subject=%s id=%s handler=%s",
                event.subject,
                event.id,
                bound.name,
            )
            return Delivery("failed", f"{type(error).__name__}: {error}")
        stats.handled += 1
        if self._event_log:
            log.info("event handled: subject=%s id=%s handler=%s", *_ids(event, bound))
        return Delivery("handled")

    def _bound_to(self, subscription: Any) -> BoundHandler | None:
        for bound in self._handlers:
            if subscription is not None and subscription is bound.subscription:
                return bound
        return None

    async def _on_nats_error(self, error: Exception) -> None:
        from kernel.bus import _broker

        if self._watch is not None and self._watch.absorbs(error):
            return  # said once, as the loss it causes
        if _broker.is_slow_consumer(error):
            # nats-py drops the message when a subscription's pending buffer is full; say so
            # loudly (first, then every 1000th) rather than losing events without a trace.
            self.dropped += 1
            bound = self._bound_to(getattr(error, "sub", None))
            if bound is not None:
                bound.stats.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error(
                    "slow consumer: events on %s are being dropped (%d so far); use "
                    "durable handlers for guaranteed delivery or add replicas",
                    getattr(error, "subject", "?"),
                    self.dropped,
                )
            return
        log.warning("NATS error: %s", error)


async def _disconnect(broker: NatsBroker, within: float) -> list[str]:
    """Stop the broker: its drain waits for the core handlers still running, which may never
    end. Past ``within`` (at least :data:`HAND_BACK_WAIT`) the connection is closed outright."""
    from kernel.bus import _broker  # FastStream loads when the bus connects

    connection = _broker.connection_of(broker)
    try:
        await asyncio.wait_for(broker.stop(), max(within, HAND_BACK_WAIT))
    except TimeoutError:
        cut = ["the connection's drain (closed outright)"]
    except Exception as error:  # e.g. reconnecting: there is no server to drain to
        log.warning("NATS connection not drained (%r); closing it", error)
        cut = []
    else:
        return []
    if connection is not None:
        try:
            await connection.close()
        except Exception as error:  # closing is all that was left to do: say it failed
            log.warning("NATS connection not closed cleanly: %r", error)
    return cut


_time_prefix: tuple[int, str] = (-1, "")


def _now_header() -> str:
    """``webos-time``: now in ISO 8601 with microseconds and zone. The date and time up to the
    second are formatted once per second, not per event (formatting a datetime is a visible
    share of an emit); the fraction is appended as digits."""
    global _time_prefix
    now = time.time()
    second = int(now)
    cached = _time_prefix
    if cached[0] != second:
        whole = datetime.fromtimestamp(second, UTC).replace(tzinfo=None).isoformat()
        cached = _time_prefix = (second, whole)
    return f"{cached[1]}.{int((now - second) * 1_000_000):06d}+00:00"


def _ids(event: Event, bound: BoundHandler) -> tuple[str, str, str]:
    return event.subject, event.id, bound.name


#: The process's bus (``from kernel import bus``); each kernel resets it before loading.
bus = Bus()


def declare_durable_handlers(bus: Bus, module: str, package: str) -> int:
    """Read (never run) a module's ``events.py`` and keep its durable events while it is away."""
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


# Span names and fixed attributes, built once per subject (and handler), not per event: spans
# copy them. Bounded, as subjects may carry ids.
@lru_cache(maxsize=1024)
def _publish_span(subject: str) -> tuple[str, dict[str, str]]:
    return f"{subject} publish", {
        "messaging.system": "nats",
        "messaging.operation.type": "send",
        "messaging.destination.name": subject,
    }


@lru_cache(maxsize=1024)
def _process_span(subject: str, group: str, handler: str) -> tuple[str, dict[str, str]]:
    return f"{subject} process", {
        "messaging.system": "nats",
        "messaging.operation.type": "process",
        "messaging.destination.name": subject,
        "messaging.consumer.group.name": group,
        "webos.handler": handler,
    }
