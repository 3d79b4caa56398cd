"""The event bus: ``await bus.emit("user.logged_in", {...})`` and ``@bus.on("user.*")``."""

from kernel.bus._bus import BoundHandler, Bus, BusNotConnected, Delivery, Envelope, HandlerStats
from kernel.bus._dlq import (
    DeadLetter,
    DeadLetterNotFound,
    Reattest,
    get_dead_letter,
    list_dead_letters,
    replay_dead_letter,
)
from kernel.bus._durable import DurableSettings, declare_durable_handlers
from kernel.bus._event import Event
from kernel.bus._handlers import PayloadError, Subscription, marked_subscriptions, on
from kernel.bus._subjects import InvalidSubject, is_kernel_subject, normalize_subject

__all__ = [
    "BoundHandler",
    "Bus",
    "BusNotConnected",
    "DeadLetter",
    "DeadLetterNotFound",
    "Delivery",
    "DurableSettings",
    "Envelope",
    "Event",
    "HandlerStats",
    "InvalidSubject",
    "PayloadError",
    "Reattest",
    "Subscription",
    "bus",
    "declare_durable_handlers",
    "get_dead_letter",
    "is_kernel_subject",
    "list_dead_letters",
    "marked_subscriptions",
    "normalize_subject",
    "on",
    "replay_dead_letter",
]

bus = Bus()
