"""Build :class:`SystemContracts` from the modules' code: ``events.py`` declarations and
handlers, ``services.py`` classes, the manifests' ``emits``.

Importing a convention file only reads its markers (no side effects), so this works for modules
that run in other processes as well as those that run here, and offline (``webos contracts``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from pydantic import TypeAdapter

from kernel.asyncapi._model import Channel, Consumer, Producer, ServiceMethod, SystemContracts
from kernel.bus import (
    Subscription,
    consumer_name,
    declared_events,
    marked_subscriptions,
    payload_type,
)
from kernel.bus._handlers import queue_group
from kernel.modules import ModuleSpec, read_convention
from kernel.registry import POLICY_MARKER, contract_schemas, declared_service, method_contracts
from kernel.transport import covers


def system_contracts(specs: Iterable[ModuleSpec]) -> SystemContracts:
    """The contracts of ``specs`` (every discovered module, wherever it runs)."""
    specs = list(specs)
    contracts = SystemContracts(modules={spec.name: spec.manifest.version for spec in specs})
    producers: dict[str, list[Producer]] = {}
    handlers: list[Consumer] = []
    for spec in specs:
        events = read_convention(spec, "events")
        typed = {e.subject: e for e in declared_events(events)} if events else {}
        for subject in sorted(set(spec.manifest.emits) | set(typed)):
            declared = typed.get(subject)
            producers.setdefault(subject, []).append(
                Producer(
                    spec.name,
                    None if declared is None else declared.json_schema(),
                    "" if declared is None else declared.description,
                )
            )
        if events is not None:
            handlers += _consumers(spec.name, events)
        services = read_convention(spec, "services")
        if services is not None:
            contracts.services += _service_methods(spec.name, services)
    subjects = set(producers) | {c.pattern for c in handlers if not _wild(c.pattern)}
    for subject in sorted(subjects):
        contracts.channels[subject] = Channel(
            subject,
            tuple(producers.get(subject, ())),
            tuple(c for c in handlers if covers(c.pattern, subject)),
        )
    return contracts


def _consumers(module: str, source: ModuleType) -> list[Consumer]:
    found = []
    for value in vars(source).values():
        for subscription in marked_subscriptions(value):
            model = payload_type(value)
            found.append(
                Consumer(
                    module=module,
                    handler=f"{value.__module__}.{value.__qualname__}",
                    pattern=subscription.subject,
                    schema=None if model is None else TypeAdapter(model).json_schema(),
                    durable=subscription.durable,
                    broadcast=subscription.broadcast,
                    queue=_queue(module, value.__qualname__, subscription),
                )
            )
    return found


def _queue(module: str, qualname: str, subscription: Subscription) -> str | None:
    if subscription.broadcast:
        return None
    if subscription.durable:
        return consumer_name(module, qualname)
    return queue_group(module, qualname)


def _service_methods(module: str, source: ModuleType) -> list[ServiceMethod]:
    found = []
    for value in vars(source).values():
        declaration = declared_service(value)
        if declaration is None or not isinstance(value, type):
            continue
        for name, contract in method_contracts(value, strict=False).items():
            schemas = contract_schemas(contract)
            found.append(
                ServiceMethod(
                    declaration.name,
                    name,
                    module,
                    json.loads(schemas["args_schema"]),
                    json.loads(schemas["result_schema"]),
                    idempotent=bool(
                        _method_options(value, name).get(
                            "idempotent", declaration.options.get("idempotent")
                        )
                    ),
                )
            )
    return found


def _method_options(cls: type, method: str) -> dict[str, Any]:
    return dict(getattr(getattr(cls, method, None), POLICY_MARKER, None) or {})


def _wild(pattern: str) -> bool:
    return "*" in pattern or ">" in pattern
