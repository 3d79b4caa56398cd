"""The system's contracts as plain data: each subject with its producers and consumers, each
service method with its schemas. Built from code (``_build.py``), written as AsyncAPI 3.0, read
back from a saved document for comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: A JSON schema (``$defs`` inlined into the schema that refers to them).
Schema = dict[str, Any]


@dataclass(frozen=True)
class Producer:
    """A module that declares it emits a subject: with ``event(...)`` (``schema`` set) or only
    in its manifest's ``emits`` (``schema`` is ``None``: any JSON)."""

    module: str
    schema: Schema | None = None
    description: str = ""


@dataclass(frozen=True)
class Consumer:
    """A handler whose subject pattern covers a subject. ``schema`` is its parameter's model
    (``None``: it takes any JSON or the raw ``Event``)."""

    module: str
    handler: str
    pattern: str
    schema: Schema | None = None
    durable: bool = False
    broadcast: bool = False
    #: How one delivery per module is had: the JetStream consumer of a durable handler, the NATS
    #: queue group of another; ``None`` for broadcast handlers (every instance gets each event).
    queue: str | None = None


@dataclass(frozen=True)
class Channel:
    """One subject of the system."""

    subject: str
    producers: tuple[Producer, ...] = ()
    consumers: tuple[Consumer, ...] = ()

    @property
    def schema(self) -> Schema | None:
        """The declared payload schema (the first typed producer's)."""
        return next((p.schema for p in self.producers if p.schema is not None), None)

    @property
    def description(self) -> str:
        return next((p.description for p in self.producers if p.description), "")


@dataclass(frozen=True)
class ServiceMethod:
    """A method of a service other processes may call (request/reply)."""

    service: str
    method: str
    module: str
    args_schema: Schema
    result_schema: Schema
    idempotent: bool = False


@dataclass
class SystemContracts:
    """Every subject (by subject) and service method of the discovered modules."""

    channels: dict[str, Channel] = field(default_factory=dict)
    services: list[ServiceMethod] = field(default_factory=list)
    #: module name -> version, of every module the catalog was built from.
    modules: dict[str, str] = field(default_factory=dict)
