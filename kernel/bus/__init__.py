"""The event bus: ``await bus.emit("user.logged_in", {...})`` and ``@bus.on("user.*")``."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.bus._bus import (
        BoundHandler,
        Bus,
        BusNotConnected,
        Delivery,
        HandlerStats,
        bus,
        declare_durable_handlers,
    )
    from kernel.bus._convention import DeclaredEventsConvention, EventsConvention
    from kernel.bus._declared import (
        Declaration,
        EventPayloadInvalid,
        EventType,
        declared_events,
        event,
    )
    from kernel.bus._dlq import (
        DeadLetter,
        DeadLetterNotFound,
        DeadLetterRefused,
        Reattest,
        get_dead_letter,
        list_dead_letters,
        replay_dead_letter,
    )
    from kernel.bus._event import Event
    from kernel.bus._handlers import (
        PayloadError,
        Subscription,
        consumer_name,
        marked_subscriptions,
        on,
        payload_type,
    )
    from kernel.bus._keeping import EventNotStored
    from kernel.bus._memory import MemoryDeadLetter, MemoryDelivery
    from kernel.bus._settings import BusSettings, DurableSettings
    from kernel.bus._streams import DLQ_PREFIX, DLQ_STREAM, EVENTS_STREAM, EVENTS_STREAM_CHANGES
    from kernel.bus._watch import redacted, watch_filter
    from kernel.transport import InvalidSubject, is_kernel_subject, normalize_subject

__getattr__ = lazy_exports(__name__)
__all__ = [
    "DLQ_PREFIX",
    "DLQ_STREAM",
    "EVENTS_STREAM",
    "EVENTS_STREAM_CHANGES",
    "BoundHandler",
    "Bus",
    "BusNotConnected",
    "BusSettings",
    "DeadLetter",
    "DeadLetterNotFound",
    "DeadLetterRefused",
    "Declaration",
    "DeclaredEventsConvention",
    "Delivery",
    "DurableSettings",
    "Event",
    "EventNotStored",
    "EventPayloadInvalid",
    "EventType",
    "EventsConvention",
    "HandlerStats",
    "InvalidSubject",
    "MemoryDeadLetter",
    "MemoryDelivery",
    "PayloadError",
    "Reattest",
    "Subscription",
    "bus",
    "consumer_name",
    "declare_durable_handlers",
    "declared_events",
    "event",
    "get_dead_letter",
    "is_kernel_subject",
    "list_dead_letters",
    "marked_subscriptions",
    "normalize_subject",
    "on",
    "payload_type",
    "redacted",
    "replay_dead_letter",
    "watch_filter",
]
