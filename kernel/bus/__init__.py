"""The event bus: ``await bus.emit("user.logged_in", {...})`` and ``@bus.on("user.*")``."""

from kernel.bus._bus import BoundHandler, Bus, BusNotConnected, Delivery, Envelope, HandlerStats
from kernel.bus._event import Event
from kernel.bus._handlers import PayloadError, Subscription, marked_subscriptions, on
from kernel.bus._subjects import InvalidSubject, is_kernel_subject, normalize_subject

__all__ = [
    "BoundHandler",
    "Bus",
    "BusNotConnected",
    "Delivery",
    "Envelope",
    "Event",
    "HandlerStats",
    "InvalidSubject",
    "PayloadError",
    "Subscription",
    "bus",
    "is_kernel_subject",
    "marked_subscriptions",
    "normalize_subject",
    "on",
]

bus = Bus()
