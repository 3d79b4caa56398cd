"""Typed events: what a module declares it emits, with the payload's model.

``Greeted = event("greeter.greeted", GreetedPayload, description=...)`` in a module's
``events.py`` is a declaration only: nothing is registered when the file is imported. The events
convention collects the declarations of the modules a process runs; the bus then validates every
emit on a declared subject against its model (``WEBOS_EVENT_VALIDATION``), and the contract
catalog (``kernel.asyncapi``) reads them, with the handlers' parameter models as the consumers'
side.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from kernel.context import current_module
from kernel.errors import WebOSError
from kernel.transport import normalize_subject

M = TypeVar("M")
#: ``WEBOS_EVENT_VALIDATION``: refuse a payload that breaks its model, log it and send, or skip.
Validation = Literal["error", "warn", "off"]
log = logging.getLogger("webos.bus")


class EventPayloadInvalid(WebOSError, ValueError):
    """An emitted payload does not match the model its subject is declared with; nothing was
    sent. The message names the subject, the model and each failing field, never their values
    (a payload may carry personal data)."""

    # The producer's own code broke its declared contract: a server-side bug for the caller of
    # the route that emitted, so the gateway logs it and answers "the error was logged".
    http_status = 500

    def __init__(self, subject: str, model: str, problems: list[tuple[str, str]]) -> None:
        found = "; ".join(f"{where}: {what}" for where, what in problems)
        super().__init__(f"{subject}: payload does not match {model}: {found}")
        self.subject = subject
        self.model = model
        #: ``(field, what is wrong)`` for each failing field, ``field`` dotted (``tags.0``).
        self.problems = problems


@dataclass(frozen=True, eq=False)
class EventType(Generic[M]):
    """A subject and the model of its payload. Emit with ``await Greeted.emit(name="Ada")``."""

    subject: str
    model: type[M]
    description: str = ""
    #: The Python module whose ``event(...)`` made it: an ``events.py`` that imports another
    #: module's declaration (``@on(Greeted.subject)``) does not declare it again.
    declared_in: str = ""
    _adapter: TypeAdapter[M] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_adapter", TypeAdapter(self.model))

    def validate(self, payload: Any) -> M:
        """``payload`` as the model (an instance, a mapping or JSON-compatible data); raises
        pydantic's ``ValidationError`` naming the field."""
        if isinstance(payload, self.model):
            return payload
        return self._adapter.validate_python(payload)

    def json_schema(self) -> dict[str, Any]:
        """The payload's JSON schema (models it refers to under ``$defs``)."""
        return self._adapter.json_schema()

    async def emit(self, payload: M | Mapping[str, Any] | None = None, /, **fields: Any) -> str:
        """Emit on this subject through the process's bus; the source is the current module.
        Pass the payload (a model instance or a mapping) or its fields as keywords. Validated
        once: by the bus when a module of this process declares the subject, else here."""
        # The process's bus, the one the kernel connected; _bus imports this file for the types.
        from kernel.bus._bus import bus

        if payload is not None and fields:
            raise TypeError("pass the payload or its fields as keywords, not both")
        data: Any = fields if payload is None else payload
        if bus.declaration(self.subject) is None:
            data = Declaration("", self).checked(data, None, bus.event_validation)
        return await bus.emit(self.subject, data)


@dataclass(frozen=True, slots=True)
class Declaration:
    """An event type as a process loaded it: which module declared it."""

    module: str
    event: EventType[Any]

    def checked(self, payload: Any, source: str | None, mode: Validation) -> Any:
        """What to publish for ``payload`` under ``mode``: the validated value, or ``payload``
        itself when validation is off or only warns. Raises :class:`EventPayloadInvalid`."""
        if mode == "off":
            return payload
        event = self.event
        try:
            return event.validate(payload)
        except ValidationError as error:
            invalid = EventPayloadInvalid(event.subject, event.model.__name__, _problems(error))
            if mode == "error":
                raise invalid from error
        log.warning(
            "%s (emitted by %s, declared by module %s); sent anyway: WEBOS_EVENT_VALIDATION=warn",
            invalid,
            source or current_module.get() or "an unnamed emitter",
            self.module or "none",
        )
        return payload


def event(subject: str, model: type[M], *, description: str = "") -> EventType[M]:
    """Declare that this module emits ``subject`` with payloads of ``model``."""
    normalized = normalize_subject(subject)
    if not isinstance(model, type):
        raise TypeError(f"event({subject!r}, ...): the model must be a class, got {model!r}")
    if issubclass(model, BaseModel) is False and not _has_annotations(model):
        raise TypeError(
            f"event({subject!r}, {model.__name__}): the model must be a pydantic model, "
            "a dataclass or a TypedDict"
        )
    # Like typing.TypeVar: the caller's module is where the declaration lives.
    declared_in = sys._getframe(1).f_globals.get("__name__", "")
    return EventType(normalized, model, description, declared_in)


def declared_events(source: ModuleType) -> list[EventType[Any]]:
    """The events an ``events.py`` declares (its module-level ``event(...)`` values, not those
    it imports from another module)."""
    return [
        value
        for value in vars(source).values()
        if isinstance(value, EventType) and value.declared_in in ("", source.__name__)
    ]


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    return [
        (".".join(str(part) for part in problem["loc"]) or "(the payload)", problem["msg"])
        for problem in error.errors(include_url=False, include_input=False)
    ]


def _has_annotations(model: type) -> bool:
    return bool(getattr(model, "__annotations__", None))
