"""What a module needs from NATS, read from its manifest and its convention files' markers.

Importing ``events.py`` and ``services.py`` has no side effects (decorators only mark), so this
runs nothing: it is how the gateway already learns about modules that run elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kernel.bus import consumer_name, marked_subscriptions
from kernel.errors import ModuleError
from kernel.modules import ModuleSpec, discover, read_convention
from kernel.registry import declared_service


@dataclass(frozen=True)
class ModuleFacts:
    """The subjects one module publishes, listens on and serves."""

    name: str
    emits: tuple[str, ...]
    handlers: tuple[str, ...]  # subjects of core (non-durable) handlers
    consumers: tuple[str, ...]  # durable consumer names (<module>__<handler>)
    services: tuple[str, ...]  # registry names served over webos.svc.<name>.<method>
    sends_tasks_to: tuple[str, ...] = ()  # other modules whose tasks it queues (manifest)
    streams: tuple[str, ...] = ()  # its own streams ([streams.NAME]), created by the gateway


def module_facts(spec: ModuleSpec) -> ModuleFacts:
    handlers: set[str] = set()
    consumers: set[str] = set()
    events = read_convention(spec, "events")
    for value in vars(events).values() if events else ():
        for subscription in marked_subscriptions(value):
            if subscription.durable:
                consumers.add(consumer_name(spec.name, value.__qualname__))
            else:
                handlers.add(subscription.subject)
    services: set[str] = set()
    source = read_convention(spec, "services")
    for value in vars(source).values() if source else ():
        declaration = declared_service(value)
        if declaration is not None and isinstance(value, type):
            services.add(declaration.name)
    return ModuleFacts(
        name=spec.name,
        emits=spec.emits,
        handlers=tuple(sorted(handlers)),
        consumers=tuple(sorted(consumers)),
        services=tuple(sorted(services)),
        sends_tasks_to=tuple(spec.manifest.sends_tasks_to),
        streams=tuple(sorted(spec.manifest.streams)),
    )


def inspect_modules(modules_path: Path) -> dict[str, ModuleFacts]:
    """Every discovered module's facts; a broken module stops with its name."""
    found = discover(modules_path)
    if found.problems:
        raise ModuleError(
            "; ".join(str(problem) for problem in found.problems),
            modules=tuple(name for problem in found.problems for name in problem.modules),
        )
    return {name: module_facts(spec) for name, spec in sorted(found.modules.items())}
