"""Typed events: what a module declares it emits, with the payload's model.

``Greeted = event("greeter.greeted", GreetedPayload, description=...)`` in a module's
``events.py`` is a declaration only: nothing is registered when the file is imported. The events
convention collects the declarations of the modules a process runs; the bus then validates every
emit on a declared subject against its model, and the contract catalog (``kernel.asyncapi``)
reads them, with the handlers' parameter models as the consumers' side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter

from kernel.transport import normalize_subject

M = TypeVar("M")


@dataclass(frozen=True, eq=False)
class EventType(Generic[M]):
    """A subject and the model of its payload. Emit with ``await Greeted.emit(name="Ada")``."""

    subject: str
    model: type[M]
    description: str = ""
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
        Pass the payload (a model instance or a mapping) or its fields as keywords."""
        from kernel.bus._bus import bus  # the process's bus: the one the kernel connected

        if payload is not None and fields:
            raise TypeError("pass the payload or its fields as keywords, not both")
        data = self.validate(fields if payload is None else payload)
        return await bus.emit(self.subject, data)


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
    return EventType(normalized, model, description)


def declared_events(source: ModuleType) -> list[EventType[Any]]:
    """The events an ``events.py`` declares (module-level ``event(...)`` values)."""
    return [value for value in vars(source).values() if isinstance(value, EventType)]


def _has_annotations(model: type) -> bool:
    return bool(getattr(model, "__annotations__", None))
