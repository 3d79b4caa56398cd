"""Event handlers: the ``@on`` marker and how a marked function is called with a message.

The marker only records intent on the function; nothing subscribes until the module loader hands
the function to a running bus. That keeps ``import events`` free of side effects.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import TypeAdapter

from kernel.bus._event import Event
from kernel.errors import WebOSError
from kernel.transport import normalize_subject

MARKER = "__webos_events__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_QUEUE_UNSAFE = re.compile(r"[^A-Za-z0-9_\-.]")

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Subscription:
    """What ``@on`` asked for; the loader binds it to a module."""

    subject: str
    broadcast: bool = False
    durable: bool = False
    #: Events of a durable handler in hand at once in one process (1 keeps stream order).
    concurrency: int = 1


def on(
    subject: str, *, broadcast: bool = False, durable: bool = False, concurrency: int = 1
) -> Callable[[Handler], Handler]:
    """Mark an async function as a handler of ``subject`` (wildcards ``*`` and ``>`` allowed).

    By default each module gets each event once, however many replicas run (a queue group per
    module and handler); ``broadcast=True`` delivers to every running instance instead.
    ``durable=True`` consumes through JetStream: at least once, retried with backoff, kept in
    the dead letters when it keeps failing, and delivered after the module was away;
    ``concurrency=N`` then runs up to N of its events at once in each process (the default, 1,
    handles them one after the other in stream order).
    """
    normalized = normalize_subject(subject, allow_wildcards=True)
    if broadcast and durable:
        raise TypeError("a handler is either broadcast (every instance) or durable, not both")
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise TypeError(f"concurrency must be a whole number of at least 1 (got {concurrency!r})")
    if concurrency > 1 and not durable:
        raise TypeError("concurrency applies to durable handlers (durable=True)")

    def mark(func: Handler) -> Handler:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"event handler {func.__qualname__} must be 'async def'")
        subscription = Subscription(normalized, broadcast, durable, concurrency)
        marks = [*getattr(func, MARKER, ()), subscription]
        setattr(func, MARKER, tuple(marks))
        return func

    return mark


def marked_subscriptions(func: object) -> tuple[Subscription, ...]:
    return tuple(getattr(func, MARKER, ()))


def consumer_name(module: str, qualname: str) -> str:
    """The JetStream consumer of a durable handler: stable across restarts and replicas."""
    return _UNSAFE.sub("_", f"{module}__{qualname}")


def queue_group(module: str, qualname: str) -> str:
    """The NATS queue group of a handler that is not broadcast: one delivery per module."""
    return _QUEUE_UNSAFE.sub("_", f"{module}.{qualname}")


class PayloadError(WebOSError, ValueError):
    """The payload could not be decoded or validated for the handler's parameter."""

    http_status = 400


@dataclass(frozen=True, slots=True)
class Invoker:
    """Calls a handler with what its signature asks for, validating the payload once."""

    func: Handler
    payload_parser: Callable[[bytes], Any] | None
    wants_event: str | None
    payload_name: str | None

    async def __call__(self, event: Event) -> Any:
        kwargs: dict[str, Any] = {}
        if self.payload_parser is not None and self.payload_name is not None:
            try:
                kwargs[self.payload_name] = self.payload_parser(event.data)
            except ValueError as error:  # pydantic's ValidationError and JSONDecodeError
                raise PayloadError(str(error)) from error
        if self.wants_event is not None:
            kwargs[self.wants_event] = event
        return await self.func(**kwargs)


def _json_loads(data: bytes) -> Any:
    return json.loads(data)


def payload_type(func: Handler) -> Any | None:
    """The model a handler validates its payload with (its consumer contract); ``None`` when it
    takes any JSON or only the :class:`Event`."""
    hints = get_type_hints(func)
    for name, param in inspect.signature(func).parameters.items():
        annotation = hints.get(name, param.annotation)
        if annotation is Event:
            continue
        if annotation in (inspect.Parameter.empty, Any, dict, object):
            return None
        return annotation
    return None


def build_invoker(func: Handler) -> Invoker:
    """Inspect the signature once so that each message costs one validation and one call."""
    hints = get_type_hints(func)
    payload_name = event_name = None
    parser: Callable[[bytes], Any] | None = None
    for name, param in inspect.signature(func).parameters.items():
        annotation = hints.get(name, param.annotation)
        if annotation is Event:
            event_name = name
        elif payload_name is None:
            payload_name = name
            if annotation in (inspect.Parameter.empty, Any, dict, object):
                parser = _json_loads
            else:
                parser = TypeAdapter(annotation).validate_json
        else:
            raise TypeError(
                f"event handler {func.__qualname__} takes one payload parameter and optionally "
                f"one parameter annotated Event; {name!r} is neither"
            )
    return Invoker(func, parser, event_name, payload_name)
