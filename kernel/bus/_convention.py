"""``events.py``: the functions marked with ``@on`` become handlers of the kernel's bus, and the
``event(subject, Model)`` declarations tell the bus what to validate emits against."""

from __future__ import annotations

from types import ModuleType

from kernel.bus._bus import Bus
from kernel.bus._declared import declared_events
from kernel.bus._handlers import marked_subscriptions
from kernel.contracts import Host
from kernel.errors import ModuleError
from kernel.modules import LoadedModule, defined_here
from kernel.transport import covers


class DeclaredEventsConvention:
    """Only the declarations: a process that runs no handlers (a task worker) still validates
    what its modules' code emits."""

    stem = "events"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        declared = declared_events(source)
        emits = module.spec.manifest.emits
        for found in declared:
            # NATS permissions come from emits: in a module process, an emit the manifest does
            # not list is refused by the server, so the declaration alone is a promise broken.
            if not any(covers(pattern, found.subject) for pattern in emits):
                listed = ", ".join(map(repr, emits)) or "nothing"
                folder = module.spec.path
                manifest = (
                    f"{module.spec.package}/module.toml"
                    if folder is None
                    else folder / "module.toml"
                )
                raise ModuleError(
                    f"module {module.name!r} declares event {found.subject!r} in events.py, but "
                    f"{manifest} does not emit it (emits: {listed}): add "
                    f"{found.subject!r} to emits",
                    modules=(module.name,),
                )
        host.get(Bus).declare_events(module.name, declared)


class EventsConvention(DeclaredEventsConvention):
    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        super().collect(module, source, host)
        bus = host.get(Bus)
        for _, value in defined_here(source):
            for subscription in marked_subscriptions(value):
                bus.add_handler(module.name, value, subscription)
                module.subscriptions.append(subscription.subject)
